"""``/v1/health`` (liveness) and ``/metrics`` (Prometheus): no key."""

import asyncio

from fastapi import APIRouter, HTTPException, Response

from mailfate.intake.api.errors import documented
from mailfate.intake.api.responses import HealthOut, answer
from mailfate.intake.api.state import Api

__all__ = ["router"]

router = APIRouter(tags=["health"])
_PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/v1/health", response_model=HealthOut)
async def health() -> Response:
    return answer({"status": "ok"})


@router.get(
    "/metrics",
    include_in_schema=False,
    response_class=Response,
    responses={200: {"content": {_PROMETHEUS: {}}}, **documented(404, why={404: "metrics are off"})},
)
async def prometheus(api: Api) -> Response:
    """Prometheus exposition (no key: bind the API to a private address, or scrape through a proxy)."""
    if api.metrics is None:
        raise HTTPException(404, "metrics are off")
    body = await asyncio.to_thread(api.metrics.exposition)
    return Response(body, media_type=_PROMETHEUS)
