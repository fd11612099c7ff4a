"""What the routes share, built once by :func:`.app.create_app` and kept on ``app.state.api``;
a route asks for it with the :data:`Api` dependency (no closures over ``create_app``'s locals)."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from mailfate.client import Client
from mailfate.intake.api.keys import KeyCache
from mailfate.intake.ports import ApiStore
from mailfate.intake.ratelimit import RateLimiter
from mailfate.intake.sns import SnsVerifier
from mailfate.submit.service import SubmitService
from mailfate.tracking.metrics import Metrics

__all__ = ["Api", "ApiState", "api_state", "state_of"]


@dataclass(frozen=True, slots=True)
class ApiState:
    store: ApiStore
    client: Client
    limiter: RateLimiter
    """Each key's submit rate (429 beyond it)."""
    rate_per_key: float
    """The rate ``limiter`` allows, for the 429's message."""
    keys: KeyCache
    metrics: Metrics | None = None
    """``GET /metrics`` answers 404 without it."""
    sns: SnsVerifier | None = None
    """``POST /v1/ses/sns`` answers 404 without it."""

    @property
    def submit(self) -> SubmitService:
        """The submission service (``client``'s: the same for the API, SMTP and ``Client``);
        ``POST /v1/messages`` commits through its batcher (group commit on the event loop)."""
        return self.client.service


def state_of(request: Request) -> ApiState:
    """The :class:`ApiState` of the app serving ``request``."""
    state: ApiState = request.app.state.api
    return state


async def api_state(request: Request) -> ApiState:
    """:func:`state_of` as a dependency (async: a plain ``def`` dependency would run in a thread)."""
    return state_of(request)


Api = Annotated[ApiState, Depends(api_state)]
