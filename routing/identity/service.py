"""Customer identity: verifying the shop's signed login token, and order-number + email verification."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import NamedTuple

import jwt

from clock import utcnow

ALGORITHM = "HS256"
LEEWAY = timedelta(seconds=30)  # clock skew allowed between the shop's servers and ours


class IdentityError(ValueError):
    """The token is missing, malformed, forged or expired."""


def issue_token(secret: str, external_id: str, ttl: timedelta = timedelta(hours=1), issuer: str = "",
                audience: str = "") -> str:
    """A token as the shop's website would sign it (demo shop and tests)."""
    now = utcnow()
    claims = {"sub": external_id, "iat": now, "exp": now + ttl,
              **({"iss": issuer} if issuer else {}), **({"aud": audience} if audience else {})}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def _instant(claims: dict[str, object], name: str) -> float | None:
    """A time claim as Unix seconds; None when absent; IdentityError when it is not a number."""
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise IdentityError("The sign-in token is not valid.")
    return float(value)


class VerifiedToken(NamedTuple):
    """Whom a valid token names (`sub`), and until when it is valid (`exp`)."""

    subject: str
    expires_at: datetime


def verify_token(secret: str, token: str, issuer: str = "", audience: str = "") -> str:
    """The verified external id (`sub`) of a valid HS256 token (see `verified_token`)."""
    return verified_token(secret, token, issuer, audience).subject


def verified_token(secret: str, token: str, issuer: str = "", audience: str = "") -> VerifiedToken:
    """The subject and expiry of a valid HS256 token with iat and exp.

    PyJWT would check exp/iat/nbf against the system clock, so it checks only the signature and the claims'
    presence and types here, and the times are checked against the process clock (`clock.utcnow`).
    """
    required = ["sub", "iat", "exp", *(["iss"] if issuer else []), *(["aud"] if audience else [])]
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=issuer or None, audience=audience or None,
                            options={"require": required, "verify_exp": False, "verify_iat": False,
                                     "verify_nbf": False, "verify_aud": bool(audience), "verify_iss": bool(issuer)})
    except jwt.InvalidTokenError as exc:
        raise IdentityError("The sign-in token is not valid.") from exc
    now, leeway = utcnow().timestamp(), LEEWAY.total_seconds()
    issued, expires, not_before = (_instant(claims, "iat"), _instant(claims, "exp"), _instant(claims, "nbf"))
    if issued is None or expires is None:
        raise IdentityError("The sign-in token is not valid.")
    if expires <= now - leeway:
        raise IdentityError("The sign-in token has expired.")
    if issued > now + leeway or (not_before is not None and not_before > now + leeway):
        raise IdentityError("The sign-in token is not valid yet.")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise IdentityError("The sign-in token is not valid.")
    try:
        expires_at = datetime.fromtimestamp(expires, timezone.utc)
    except (OverflowError, OSError, ValueError) as exc:  # an `exp` beyond any calendar
        raise IdentityError("The sign-in token is not valid.") from exc
    return VerifiedToken(subject, expires_at)
