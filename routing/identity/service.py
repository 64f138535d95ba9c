"""Customer identity: verifying the shop's signed login token, and order-number + email verification."""

from __future__ import annotations

from datetime import timedelta

import jwt

from clock import utcnow

ALGORITHM = "HS256"
LEEWAY = timedelta(seconds=30)  # clock skew allowed between the shop's servers and ours


class IdentityError(ValueError):
    """The token is missing, malformed, forged or expired."""


def issue_token(secret: str, external_id: str, ttl: timedelta = timedelta(hours=1)) -> str:
    """A token as the shop's website would sign it (demo shop and tests)."""
    now = utcnow()
    return jwt.encode({"sub": external_id, "iat": now, "exp": now + ttl}, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str) -> str:
    """The verified external id (`sub`) of a valid HS256 token with iat and exp.

    PyJWT would check exp/iat/nbf against the system clock, so it checks only the signature and the claims'
    presence and types here, and the times are checked against the process clock (`clock.utcnow`).
    """
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM],
                            options={"require": ["sub", "iat", "exp"], "verify_exp": False, "verify_iat": False,
                                     "verify_nbf": False})
    except jwt.InvalidTokenError as exc:
        raise IdentityError("The sign-in token is not valid.") from exc
    now = utcnow().timestamp()
    times = [claims.get(name) for name in ("iat", "exp", "nbf")]
    if any(t is not None and (isinstance(t, bool) or not isinstance(t, (int, float))) for t in times):
        raise IdentityError("The sign-in token is not valid.")
    issued, expires, not_before = times
    if expires <= now - LEEWAY.total_seconds():
        raise IdentityError("The sign-in token has expired.")
    if issued > now + LEEWAY.total_seconds() or (not_before is not None and not_before > now + LEEWAY.total_seconds()):
        raise IdentityError("The sign-in token is not valid yet.")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise IdentityError("The sign-in token is not valid.")
    return subject
