"""``/domains``: the receivers table (per recipient domain); ``/receivers`` is its other name."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from mailfate.model import RollupQuery
from mailfate.tracking.overview import DOMAIN_GROUPS, domain_health
from mailfate.web.deps import DAILY_AFTER, WINDOWS, PageDep, StoreDep, Viewer

__all__ = ["router"]

router = APIRouter()


@router.get("/domains")
async def domains_page(page: PageDep, viewer: Viewer, store: StoreDep, window: str = "24h") -> Response:
    if viewer is None:
        return page.to_login()
    window = window if window in WINDOWS else "24h"
    span = WINDOWS[window]
    since = datetime.now(UTC) - span
    rows = await asyncio.to_thread(
        lambda: store.rollups.rollup_sums(RollupQuery(since, by=DOMAIN_GROUPS, daily=span > DAILY_AFTER))
    )
    return page.render(
        "domains.html", "domains", domains=domain_health(rows), window=window, windows=list(WINDOWS)
    )


@router.get("/receivers")
async def receivers(request: Request) -> Response:
    """The page the navigation calls "Receivers" lives at ``/domains``: 308, with the query kept."""
    query = request.url.query
    return RedirectResponse("/domains" + (f"?{query}" if query else ""), status_code=308)
