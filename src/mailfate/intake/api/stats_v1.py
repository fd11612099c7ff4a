"""``/v1/stats`` and ``/v1/alerts``: the numbers, and the thresholds they cross (``read``)."""

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Response

from mailfate.intake.api.auth import ReadKey
from mailfate.intake.api.errors import documented
from mailfate.intake.api.responses import AlertsOut, StatsOut, alerts_json, answer
from mailfate.intake.api.state import Api
from mailfate.model.bounces import BounceCounts
from mailfate.tracking.alerts import evaluate

__all__ = ["router"]

router = APIRouter(tags=["stats"])


@router.get("/v1/stats", response_model=StatsOut, responses=documented(401, 403))
async def stats(_: ReadKey, api: Api) -> Response:
    """Recipients per fate, and those that bounced hard or soft (soft: a soft reason, or expired
    after deferrals; ``mailfate.model.bounces``); the same per recipient domain (the busiest)."""
    counts, domains, bounces = await asyncio.gather(
        asyncio.to_thread(api.store.stats.counts),
        asyncio.to_thread(api.store.stats.domain_stats),
        asyncio.to_thread(api.store.stats.bounce_counts),
    )
    total = sum(bounces.values(), BounceCounts())
    for row in domains:
        row["bounces"] = bounces.get(row["domain"], BounceCounts()).to_json()
    return answer({"recipients": counts, "bounces": total.to_json(), "domains": domains})


@router.get("/v1/alerts", response_model=AlertsOut, responses=documented(401, 403))
async def alerts(_: ReadKey, api: Api) -> Response:
    """Thresholds crossed now: bounce and complaint rates (SES, Gmail/Yahoo), deferral spikes,
    verification-code latency."""
    # the rollups are folded in the background (``mailfate serve``): no catch-up in a request
    found = await asyncio.to_thread(evaluate, api.store.rollups, datetime.now(UTC), fold=False)
    return answer(alerts_json(found))
