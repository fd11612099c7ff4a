"""``/alerts``: the thresholds crossed now (computed from the rollups, without folding)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import Response

from mailfate.tracking.alerts import evaluate
from mailfate.web.deps import PageDep, StoreDep, Viewer

__all__ = ["router"]

router = APIRouter()


@router.get("/alerts")
async def alerts_page(page: PageDep, viewer: Viewer, store: StoreDep) -> Response:
    if viewer is None:
        return page.to_login()
    found = await asyncio.to_thread(evaluate, store.rollups, datetime.now(UTC), fold=False)
    return page.render("alerts.html", "alerts", alerts=found)
