"""Checks before any route runs, as plain ASGI middleware (Starlette's BaseHTTPMiddleware costs a
task and a queue per request): :class:`BodyLimit` (413) and :class:`NoNul` (400)."""

from collections.abc import Callable

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit", "BodyTooLarge", "NoNul"]


class BodyTooLarge(HTTPException):
    """Raised while a body is read past the limit (a chunked body: no Content-Length to refuse by);
    the app renders it with the same ``refuse`` as :class:`BodyLimit`."""


def _detail(scope: Scope, text: str) -> Response:
    return JSONResponse({"detail": text}, status_code=413)


class BodyLimit:
    """413 for bodies over ``max_body`` bytes: by Content-Length before reading, and counted while
    reading for chunked bodies (:class:`BodyTooLarge`). ``refuse(scope, text)`` renders the 413 in
    the shape the route's API speaks (FastAPI's ``{"detail"}`` by default)."""

    def __init__(
        self, app: ASGIApp, max_body: int, refuse: Callable[[Scope, str], Response] = _detail
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_body):
                response = self.refuse(scope, f"body larger than {self.max_body} bytes")
                await response(scope, receive, send)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge(413, f"body larger than {self.max_body} bytes")
            return message

        await self.app(scope, counted, send)


class NoNul:
    """400 for a NUL (``%00``) in the path or the query string: no identifier, address, domain or
    reason holds one, and PostgreSQL refuses it in a text parameter (an error, not "not found")."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (b"%00" in scope["query_string"] or "\x00" in scope["path"]):
            response = JSONResponse(
                {"detail": "a NUL character (%00) is not allowed in a URL"}, status_code=400
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
