"""The HTTP API: ``create_app(store)`` → a FastAPI application.

Every route needs ``Authorization: Bearer <key>`` (``mailfate keys create``): no key or an
unknown one → 401, a key without the route's scope (``send``, ``read``, ``admin``) → 403. Bodies
are validated (422 names the field; unknown fields are refused), bodies over ``max_body`` bytes
→ 413. Store calls run in a thread so the event loop keeps serving.

Whatever a client sends is answered with a 4xx, never a 500 (see :mod:`.schemas` for what is
refused): errors keep FastAPI's shape, ``{"detail": ...}``, and are rendered by :func:`_safe_json`,
which cannot fail (text that is not UTF-8 is shown with backslash escapes, NaN as a string).
"""

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.utils import is_body_allowed_for_status_code
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mailfate.client import Client, SuppressedError
from mailfate.errors import InputError
from mailfate.intake.api.schemas import BeforeId, EventCursor, MessageIn, Moment, SuppressionIn
from mailfate.intake.batcher import SubmitBatcher
from mailfate.intake.ratelimit import RateLimiter
from mailfate.intake.ses import import_ses
from mailfate.intake.sns import SnsVerifier, parse_body
from mailfate.store import ApiKey, Store
from mailfate.store.keys import hash_key
from mailfate.tracking.alerts import evaluate
from mailfate.tracking.metrics import Metrics

__all__ = ["create_app"]

log = logging.getLogger(__name__)
_bearer = HTTPBearer(auto_error=False)
KEY_CACHE_SECONDS = 5.0
"""How long the API trusts a key lookup: a revoked key stops working within this time."""


_MAX_ECHO = 1000
"""Longest string echoed back in an error (the rest is cut: a 10 MB body is not sent back)."""
_MAX_DEPTH = 20
"""Deepest nesting echoed back in an error (deeper lists and objects are shown as "…")."""


def _clean_text(text: str) -> str:
    text = text if len(text) <= _MAX_ECHO else text[:_MAX_ECHO] + "…"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _safe_json(value: object) -> Any:
    """``value`` as plain JSON data that always serialises: strings cut at ``_MAX_ECHO`` and lone
    surrogates written as ``\\udXXX`` text, bytes decoded the same way, NaN and infinities as
    strings, anything else (exceptions in pydantic's ``ctx``) as its ``str``, nesting cut at
    ``_MAX_DEPTH``."""
    root: list[Any] = [None]
    stack: list[tuple[list[Any] | dict[str, Any], int | str, object, int]] = [(root, 0, value, 0)]
    while stack:
        into, slot, item, depth = stack.pop()
        out: Any
        if item is None or isinstance(item, bool | int):
            out = item
        elif isinstance(item, float):
            out = item if math.isfinite(item) else str(item)
        elif isinstance(item, str):
            out = _clean_text(item)
        elif isinstance(item, bytes | bytearray):
            out = _clean_text(bytes(item).decode("utf-8", "backslashreplace"))
        elif isinstance(item, dict | list | tuple) and depth >= _MAX_DEPTH:
            out = "…"
        elif isinstance(item, dict):
            pairs = [(_clean_text(str(k)), v) for k, v in item.items()]
            out = dict.fromkeys(k for k, _ in pairs)  # the keys in their order
            stack.extend((out, k, v, depth + 1) for k, v in pairs)
        elif isinstance(item, list | tuple):
            out = [None] * len(item)
            stack.extend((out, i, v, depth + 1) for i, v in enumerate(item))
        else:
            out = _clean_text(str(item))
        into[slot] = out  # type: ignore[index]
    return root[0]


def _error(status: int, detail: object, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse({"detail": _safe_json(detail)}, status_code=status, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    """422 ``{"detail": [pydantic errors]}`` as FastAPI's own handler, but never failing."""
    assert isinstance(exc, RequestValidationError)
    return _error(422, exc.errors())


async def _http_error(request: Request, exc: Exception) -> Response:
    """FastAPI's HTTPException handler, rendering the detail with :func:`_safe_json`."""
    assert isinstance(exc, StarletteHTTPException)
    if not is_body_allowed_for_status_code(exc.status_code):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return _error(exc.status_code, exc.detail, exc.headers)


class _BodyLimit:
    """413 for bodies over ``max_body`` bytes: by Content-Length before reading, and counted while
    reading for chunked bodies. A plain ASGI middleware (Starlette's BaseHTTPMiddleware costs a
    task and a queue per request)."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_body):
                response = JSONResponse(
                    {"detail": f"body larger than {self.max_body} bytes"}, status_code=413
                )
                await response(scope, receive, send)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise HTTPException(413, f"body larger than {self.max_body} bytes")
            return message

        await self.app(scope, counted, send)


class _NoNul:
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


def create_app(
    store: Store,
    client: Client,
    *,
    max_body: int = 10 * 1024 * 1024,
    metrics: Metrics | None = None,
    sns: SnsVerifier | None = None,
    dashboard: bool = True,
    rate_per_key: float = 2000.0,
    burst_per_key: float = 4000.0,
) -> FastAPI:
    app = FastAPI(title="mailfate", version="1", docs_url="/v1/docs", openapi_url="/v1/openapi.json")
    batcher = SubmitBatcher(store, clock=client.clock)
    limiter = RateLimiter(rate_per_key, burst_per_key)

    app.add_middleware(_BodyLimit, max_body=max_body)
    app.add_middleware(_NoNul)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)

    keys: dict[str, tuple[float, ApiKey | None]] = {}

    async def lookup(secret: str) -> ApiKey | None:
        """The key, from the store at most every KEY_CACHE_SECONDS (a revocation takes that long)."""
        digest = hash_key(secret)
        hit = keys.get(digest)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        found = await asyncio.to_thread(store.find_key, secret)
        if len(keys) > 10_000:
            keys.clear()
        keys[digest] = (time.monotonic() + KEY_CACHE_SECONDS, found)
        return found

    def require(scope: str) -> Callable[..., Awaitable[ApiKey]]:
        async def check(
            creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        ) -> ApiKey:
            if creds is None or creds.scheme.lower() != "bearer":
                raise HTTPException(
                    401,
                    "an API key is required: Authorization: Bearer <key>",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            key = await lookup(creds.credentials)
            if key is None:
                raise HTTPException(401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"})
            if scope not in key.scopes and "admin" not in key.scopes:
                raise HTTPException(403, f"this key has no {scope!r} scope")
            return key

        return check

    @app.post("/v1/messages", status_code=202)
    async def post_message(
        body: MessageIn, key: Annotated[ApiKey, Depends(require("send"))]
    ) -> dict[str, Any]:
        wait = limiter.check(key.prefix)
        if wait:
            log.warning("API key %s over its rate (%g/s): 429", key.prefix, rate_per_key)
            raise HTTPException(
                429,
                f"this key may submit {rate_per_key:g} messages per second; retry in {wait:.3f} s",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        fields = body.model_dump(by_alias=False)
        try:
            message = client.prepare(**fields)
            sent = client.finish(message, await batcher.submit(message))
        except SuppressedError as exc:
            raise HTTPException(
                409,
                {
                    "message": str(exc),
                    "message_id": exc.message_id,
                    "suppressed": [
                        {"address": a, "reason": r, "since": s.isoformat()} for a, r, s in exc.suppressed
                    ],
                },
            ) from exc
        except InputError as exc:
            raise HTTPException(422, str(exc)) from exc
        out: dict[str, Any] = {"message_id": sent.message_id}
        if not sent.created:
            out["existing"] = True
        if sent.suppressed:
            out["suppressed"] = [
                {"address": a, "reason": r, "since": s.isoformat()} for a, r, s in sent.suppressed
            ]
        return out

    @app.get("/v1/messages/{message_id}")
    async def get_message(message_id: str, _: Annotated[ApiKey, Depends(require("read"))]) -> dict[str, Any]:
        from mailfate.cli.messages import view_json

        view = await asyncio.to_thread(store.message, message_id)
        if view is None:
            raise HTTPException(404, f"no message {message_id!r}")
        return view_json(view)

    @app.get("/v1/messages")
    async def search(  # noqa: PLR0917 - one query parameter per filter
        _: Annotated[ApiKey, Depends(require("read"))],
        recipient: str | None = None,
        domain: str | None = None,
        fate: str | None = None,
        reason: str | None = None,
        since: Moment | None = None,
        until: Moment | None = None,
        tag: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")] = None,
        cursor: Annotated[str | None, Query(pattern=r"^m[0-9a-z]{26}$")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> dict[str, Any]:
        items, nxt = await asyncio.to_thread(
            lambda: store.search_messages(
                recipient=recipient,
                domain=domain,
                fate=fate,
                reason=reason,
                since=since,
                until=until,
                tag=tag,
                cursor=cursor,
                limit=limit,
            )
        )
        return {"messages": [m.to_json() for m in items], "next_cursor": nxt}

    @app.get("/v1/events")
    async def get_events(
        _: Annotated[ApiKey, Depends(require("read"))],
        cursor: EventCursor = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        evs = await asyncio.to_thread(store.events_after, cursor, limit)
        return {"events": [e.to_json() for e in evs], "next_cursor": evs[-1].id if evs else cursor}

    @app.get("/v1/suppressions")
    async def list_suppressions(
        _: Annotated[ApiKey, Depends(require("read"))],
        scope: str | None = None,
        limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    ) -> dict[str, Any]:
        items = await asyncio.to_thread(lambda: store.suppressions(scope=scope, limit=limit))
        return {
            "suppressions": [
                {
                    "address": s.address,
                    "scope": s.scope,
                    "reason": s.reason,
                    "detail": s.detail,
                    "since": s.created_at.isoformat(),
                }
                for s in items
            ]
        }

    @app.post("/v1/suppressions", status_code=201)
    async def add_suppression(
        body: SuppressionIn, _: Annotated[ApiKey, Depends(require("admin"))]
    ) -> dict[str, Any]:
        from mailfate.submit.addresses import validate_address

        try:
            address = validate_address(body.address)
        except InputError as exc:
            raise HTTPException(422, str(exc)) from exc
        added = await asyncio.to_thread(
            lambda: store.suppress(
                body.scope, address, body.reason, at=datetime.now(UTC), detail="added through the API"
            )
        )
        return {"address": address.lower(), "scope": body.scope.lower(), "added": added}

    @app.delete("/v1/suppressions/{address}")
    async def remove_suppression(
        address: str, _: Annotated[ApiKey, Depends(require("admin"))], scope: str = "*"
    ) -> dict[str, Any]:
        removed = await asyncio.to_thread(store.unsuppress, scope, address)
        if not removed:
            raise HTTPException(404, f"{address} is not suppressed for {scope}")
        return {"address": address.lower(), "scope": scope, "removed": True}

    @app.get("/v1/stats")
    async def stats(_: Annotated[ApiKey, Depends(require("read"))]) -> dict[str, Any]:
        counts, domains = await asyncio.gather(
            asyncio.to_thread(store.counts), asyncio.to_thread(store.domain_stats)
        )
        return {"recipients": counts, "domains": domains}

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        """Prometheus exposition (no key: bind the API to a private address, or scrape through a proxy)."""
        if metrics is None:
            raise HTTPException(404, "metrics are off")
        body = await asyncio.to_thread(metrics.exposition)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.post("/v1/ses/sns", include_in_schema=False)
    async def sns_endpoint(request: Request) -> dict[str, Any]:
        """SES notifications through SNS: no key (SNS cannot send one), only verified messages."""
        if sns is None:
            raise HTTPException(404, "no SNS topics are configured ([ses] topics)")
        try:
            body = parse_body(await request.body())
            await asyncio.to_thread(sns.verify, body)
        except InputError as exc:
            log.warning("SNS message refused: %s", exc)
            raise HTTPException(403, f"refused: {exc}") from exc
        if body["Type"] == "SubscriptionConfirmation":
            await asyncio.to_thread(sns.confirm, body)
            return {"confirmed": True}
        if body["Type"] != "Notification":
            return {"ignored": body["Type"]}
        try:
            result = await asyncio.to_thread(import_ses, store, str(body.get("Message", "")).encode("utf-8"))
        except Exception:
            # Not stored: give the MessageId back so SNS's retry is not refused as a replay.
            sns.release(body)
            raise
        return {"applied": result.applied, "unmatched": result.unmatched, "errors": result.errors}

    @app.get("/v1/alerts")
    async def alerts(_: Annotated[ApiKey, Depends(require("read"))]) -> dict[str, Any]:
        """Thresholds crossed now: bounce and complaint rates (SES, Gmail/Yahoo), deferral spikes,
        verification-code latency."""
        # the rollups are folded in the background (``mailfate serve``): no catch-up in a request
        found = await asyncio.to_thread(evaluate, store, datetime.now(UTC), fold=False)
        return {"alerts": [a.to_json() for a in found]}

    @app.get("/v1/webhooks/log")
    async def webhooks_log(
        _: Annotated[ApiKey, Depends(require("read"))],
        subscriber: Annotated[str | None, Query(max_length=64)] = None,
        before: BeforeId = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        """The outgoing webhooks' delivery log, newest first; ``next_before`` pages back."""
        rows = await asyncio.to_thread(
            lambda: store.webhook_log(subscriber=subscriber, limit=limit, before_id=before)
        )
        more = len(rows) == limit
        return {"log": [r.to_json() for r in rows], "next_before": rows[-1].id if more else None}

    @app.get("/v1/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    if dashboard:
        from mailfate.web.dashboard import mount_dashboard

        mount_dashboard(app, store, lookup)
    return app
