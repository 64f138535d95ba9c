"""Customer identity: verifying the shop's signed login token, and order-number + email verification."""

from __future__ import annotations

from datetime import timedelta

import jwt

from routing.sqltypes import utcnow

ALGORITHM = "HS256"


class IdentityError(ValueError):
    """The token is missing, malformed, forged or expired."""


def issue_token(secret: str, external_id: str, ttl: timedelta = timedelta(hours=1)) -> str:
    """A token as the shop's website would sign it (demo shop and tests)."""
    now = utcnow()
    return jwt.encode({"sub": external_id, "iat": now, "exp": now + ttl}, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str) -> str:
    """The verified external id (`sub`) of a valid HS256 token with iat and exp."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "iat", "exp"]})
    except jwt.ExpiredSignatureError as exc:
        raise IdentityError("The sign-in token has expired.") from exc
    except jwt.InvalidTokenError as exc:
        raise IdentityError("The sign-in token is not valid.") from exc
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise IdentityError("The sign-in token is not valid.")
    return subject
