"""The HTTP API: ``create_app(store, client)`` → a FastAPI application.

Every ``/v1`` route but health and SNS needs ``Authorization: Bearer <key>`` (``mailfate keys
create``; :mod:`.auth`): no key or an unknown one → 401, a key without the route's scope (``send``,
``read``, ``admin``) → 403. Bodies are validated (422 names the field; unknown fields are refused,
:mod:`.schemas`), bodies over ``max_body`` bytes → 413 and a NUL in the URL → 400 (:mod:`.guards`).
Store calls run in a thread so the event loop keeps serving.

One router per resource (``messages_v1``, ``events_v1``, ``suppressions_v1``, ``stats_v1``,
``webhooks_v1``, ``sns_v1``, ``health``), each answering the models of :mod:`.responses`; what the
routes share (:class:`.state.ApiState`) is on ``app.state.api``. Whatever a client sends is
answered with a 4xx, never a 500: errors keep FastAPI's shape, ``{"detail": ...}``, rendered by
:func:`.errors.safe_json`, which cannot fail.
"""

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from mailfate.client import Client
from mailfate.intake.api import (
    events_v1,
    health,
    messages_v1,
    ses_v1,
    ses_v2,
    sns_v1,
    stats_v1,
    suppressions_v1,
    webhooks_v1,
)
from mailfate.intake.api.errors import error_response, http_error, validation_error
from mailfate.intake.api.guards import BodyLimit, BodyTooLarge, NoNul
from mailfate.intake.api.keys import KeyCache
from mailfate.intake.api.lanes import Lanes
from mailfate.intake.api.state import ApiState
from mailfate.intake.ports import ApiStore
from mailfate.intake.ratelimit import RateLimiter
from mailfate.intake.sns import SnsVerifier
from mailfate.tracking.metrics import Metrics

__all__ = ["LANES", "ROUTERS", "create_app", "too_large"]

ROUTERS = (
    messages_v1.router,
    ses_v2.router,
    ses_v1.router,
    events_v1.router,
    suppressions_v1.router,
    stats_v1.router,
    webhooks_v1.router,
    sns_v1.router,
    health.router,
)
"""Every router of the API, in the order OpenAPI lists them — and the order a request's path is
matched in, route by route: the doors that submit mail come first (``POST /v1/messages``, SES's
``SendEmail``), so the busiest requests are not tried against every other route first."""


LANES = {
    ("POST", "/v1/messages"): messages_v1.post_message_lane,
    ("POST", "/v2/email/outbound-emails"): ses_v2.send_email,  # the routes take only the request:
    ("POST", "/"): ses_v1.query_api,  # each is its own lane, answering every request it is given
}
"""The routes that take mail, each with its :mod:`lane <.lanes>`."""


def too_large(scope: Scope, text: str) -> Response:
    """413 in the shape the caller's API speaks: SES's on the SES routes (``MessageRejected``, the
    error an SDK raises for a message SES will not take), FastAPI's ``{"detail"}`` elsewhere."""
    path = scope.get("path", "")
    if path.startswith("/v2/email/"):
        return ses_v2.v2_error(413, "MessageRejected", text)
    if path == "/" and scope.get("method") == "POST":
        return ses_v1.v1_error(413, "MessageRejected", text)
    return error_response(413, text)


async def _too_large(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BodyTooLarge)
    return too_large(request.scope, str(exc.detail))


def create_app(
    store: ApiStore,
    client: Client,
    *,
    max_body: int = 10 * 1024 * 1024,
    metrics: Metrics | None = None,
    sns: SnsVerifier | None = None,
    rate_per_key: float = 2000.0,
    burst_per_key: float = 4000.0,
    lanes: bool = True,
) -> FastAPI:
    """The API over ``store``, submitting through ``client``. The composition root mounts the web
    dashboard on the same app (:func:`mailfate.runtime.serve.build_app`); it signs in with the same
    keys, looked up through ``app.state.api.keys.lookup``. ``lanes``: the routes that take mail
    answer a request they would accept without FastAPI's per-request machinery (:mod:`.lanes`);
    False sends every request through the routes."""
    app = FastAPI(title="mailfate", version="1", docs_url="/v1/docs", openapi_url="/v1/openapi.json")
    app.state.api = ApiState(
        store=store,
        client=client,
        limiter=RateLimiter(rate_per_key, burst_per_key),
        rate_per_key=rate_per_key,
        keys=KeyCache(store.keys),
        metrics=metrics,
        sns=sns,
    )
    if lanes:  # added first: inside the guards, which apply to lanes as to every route
        app.add_middleware(Lanes, lanes=LANES)
    app.add_middleware(BodyLimit, max_body=max_body, refuse=too_large)
    app.add_middleware(NoNul)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(BodyTooLarge, _too_large)
    for router in ROUTERS:
        app.include_router(router)
    return app
