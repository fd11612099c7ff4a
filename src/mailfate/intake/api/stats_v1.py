"""``/v1/stats`` and ``/v1/alerts``: the numbers, and the thresholds they cross (``read``)."""

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Response

from mailfate.intake.api.auth import ReadKey
from mailfate.intake.api.errors import documented
from mailfate.intake.api.responses import AlertsOut, StatsOut, alerts_json, answer
from mailfate.intake.api.state import Api
from mailfate.tracking.alerts import evaluate

__all__ = ["router"]

router = APIRouter(tags=["stats"])


@router.get("/v1/stats", response_model=StatsOut, responses=documented(401, 403))
async def stats(_: ReadKey, api: Api) -> Response:
    """Recipients per fate; per recipient domain (the busiest)."""
    counts, domains = await asyncio.gather(
        asyncio.to_thread(api.store.counts), asyncio.to_thread(api.store.domain_stats)
    )
    return answer({"recipients": counts, "domains": domains})


@router.get("/v1/alerts", response_model=AlertsOut, responses=documented(401, 403))
async def alerts(_: ReadKey, api: Api) -> Response:
    """Thresholds crossed now: bounce and complaint rates (SES, Gmail/Yahoo), deferral spikes,
    verification-code latency."""
    # the rollups are folded in the background (``mailfate serve``): no catch-up in a request
    found = await asyncio.to_thread(evaluate, api.store, datetime.now(UTC), fold=False)
    return answer(alerts_json(found))
