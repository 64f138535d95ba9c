"""The shop's customer token is a bearer credential until its `exp`, so it is never stored: the tracker store keeps
its SHA-256 digest in its place (bot_runtime/token_redaction.py), and the actions compare tokens by digest, so that a
token checked on an earlier turn (stored as its digest) still matches the same token on this turn. Both bot processes
use it: here, below the action code, because the Rasa process never imports the actions."""

from __future__ import annotations

import hashlib

TOKEN_METADATA_KEY = "customer_token"
DIGEST_PREFIX = "sha256:"


def is_digest(value: str) -> bool:
    """Whether `value` is a stored digest rather than a token (a digest proves nothing and is never verified)."""
    return value.startswith(DIGEST_PREFIX)


def token_digest(token: str) -> str:
    """What is stored in a token's place; a digest is its own digest. Any string has one (a lone surrogate, which
    the channels refuse, is encoded as it is rather than raising)."""
    if is_digest(token):
        return token
    return DIGEST_PREFIX + hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
