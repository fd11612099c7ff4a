"""Lanes: the routes that take mail, answered without FastAPI's per-request machinery when the
request is one the route would accept.

``POST /v1/messages`` and SES's ``SendEmail`` are most of what an application sends; FastAPI's
route matching, dependency solving and exception wrapping cost about as much CPU as composing
and queuing the message. A lane is a function of the :class:`Request` that either answers it or
returns None *before doing anything*, and the request then takes the full path (its body
replayed): the refusals — 401, 403, 422 with each field named — always come from the routes, so
a lane never has its own error shapes. What a lane runs after accepting is the route's own code,
and an :class:`HTTPException` it raises is rendered by the handler the app registered for it
(:func:`.errors.handled`), as the route's would be.

The middleware sits inside :mod:`.guards` (413, NUL in the URL) and FastAPI's server-error
handler, so those apply to lanes as to every route. ``create_app(lanes=False)`` turns lanes off;
the tests compare both answers for the same requests (``tests/unit/intake/test_lanes.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mailfate.intake.api.errors import handled

__all__ = ["Lane", "Lanes", "is_json"]

Lane = Callable[[Request], Awaitable[Response | None]]
"""A request's answer, or None when the route must answer it (nothing done yet)."""


def is_json(request: Request) -> bool:
    """Whether the body is declared ``application/json`` (parameters such as a charset aside)."""
    media = request.headers.get("content-type", "").partition(";")[0]
    return media.strip().lower() == "application/json"


class Lanes:
    """ASGI middleware: ``(method, path)`` → its :data:`Lane`; every other request goes on."""

    def __init__(self, app: ASGIApp, lanes: Mapping[tuple[str, str], Lane]) -> None:
        self.app = app
        self.lanes = dict(lanes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = self.lanes.get((scope["method"], scope["path"])) if scope["type"] == "http" else None
        if lane is None:
            await self.app(scope, receive, send)
            return
        recorded = _Recorded(receive)
        request = Request(scope, recorded)
        try:
            response = await lane(request)
        except HTTPException as exc:
            response = await handled(request, exc)
        if response is None:
            await self.app(scope, recorded.replay, send)
            return
        await response(scope, receive, send)


class _Recorded:
    """A ``receive`` that keeps what it gave, so the route gets the request from its start."""

    def __init__(self, receive: Receive) -> None:
        self.receive = receive
        self.given: list[Message] = []

    async def __call__(self) -> Message:
        message = await self.receive()
        self.given.append(message)
        return message

    async def replay(self) -> Message:
        """What the lane was given, in order, then the rest of the request."""
        if self.given:
            return self.given.pop(0)
        return await self.receive()
