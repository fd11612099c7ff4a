"""Who may call a route: ``Authorization: Bearer <key>`` (``mailfate keys create``). No key or an
unknown or revoked one → 401 with ``WWW-Authenticate: Bearer``; a key without the route's scope
(``send``, ``read``, ``admin``; ``admin`` has them all) → 403. A route takes :data:`SendKey`,
:data:`ReadKey` or :data:`AdminKey` as a parameter."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from mailfate.intake.api.state import state_of
from mailfate.model import ApiKey

__all__ = ["AdminKey", "ReadKey", "SendKey", "key_allowed", "require"]

_bearer = HTTPBearer(auto_error=False)
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def require(scope: str) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency: the caller's key, if it is known, not revoked and has ``scope``."""

    async def check(
        request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> ApiKey:
        if creds is None or creds.scheme.lower() != "bearer":
            raise HTTPException(
                401, "an API key is required: Authorization: Bearer <key>", headers=_CHALLENGE
            )
        key = await state_of(request).keys.lookup(creds.credentials)
        if key is None:
            raise HTTPException(401, "unknown or revoked API key", headers=_CHALLENGE)
        if not key.allows(scope):
            raise HTTPException(403, f"this key has no {scope!r} scope")
        return key

    return check


async def key_allowed(request: Request, scope: str) -> ApiKey | None:
    """The caller's key when the request's bearer key (read as :class:`HTTPBearer` reads it) is
    known, not revoked and has ``scope``; else None, and :func:`require` says why (401 or 403).
    For a lane (:mod:`.lanes`), which answers only requests the route would accept."""
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    if not token or scheme.lower() != "bearer":
        return None
    key = await state_of(request).keys.lookup(token)
    return key if key is not None and key.allows(scope) else None


SendKey = Annotated[ApiKey, Depends(require("send"))]
ReadKey = Annotated[ApiKey, Depends(require("read"))]
AdminKey = Annotated[ApiKey, Depends(require("admin"))]
