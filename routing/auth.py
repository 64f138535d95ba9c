"""Service-token authentication of the internal API (the bot's action server and other services)."""

from __future__ import annotations

import hmac

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from routing.state import SettingsDep

_bearer = HTTPBearer(auto_error=False, description="CONCIERGE_SERVICE_TOKEN")


def has_service_token(settings: SettingsDep,
                      credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> bool:
    """FastAPI dependency: whether `Authorization: Bearer <CONCIERGE_SERVICE_TOKEN>` was sent (constant time)."""
    expected = settings.service_token
    return credentials is not None and hmac.compare_digest(credentials.credentials.encode(), expected.encode())


def require_service_token(authorised: bool = Depends(has_service_token)) -> None:
    """FastAPI dependency: 401 unless `Authorization: Bearer <CONCIERGE_SERVICE_TOKEN>` is sent."""
    if not authorised:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Missing or invalid service token.",
                            headers={"WWW-Authenticate": "Bearer"})
