"""``/``: the window's counts, p50/p95 submit → accepted, the rate gauges, the queue, the chart, alerts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import Response

from mailfate.model import RollupQuery
from mailfate.tracking.alerts import evaluate
from mailfate.tracking.overview import BOUNCE_LINES, COMPLAINT_LINES, SERIES, SERIES_GROUPS, overview
from mailfate.web import charts
from mailfate.web.deps import DAILY_AFTER, WINDOWS, PageDep, StoreDep, Viewer

__all__ = ["router"]

router = APIRouter()

_LABEL_KEYS = {"hard": "bounced_hard", "soft": "bounced_soft"}
"""The chart's bounce series are labelled as the tiles are: one word for one count."""


@router.get("/")
async def overview_page(page: PageDep, viewer: Viewer, store: StoreDep, window: str = "24h") -> Response:
    if viewer is None:
        return page.to_login()
    window = window if window in WINDOWS else "24h"
    span = WINDOWS[window]
    now = datetime.now(UTC)
    since = now - span
    daily = span > DAILY_AFTER
    # four independent reads, each in its own thread: the page waits for the slowest, not the sum
    rows, queue, backlog, alerts = await asyncio.gather(
        asyncio.to_thread(
            lambda: store.rollups.rollup_sums(RollupQuery(since, by=SERIES_GROUPS, daily=daily))
        ),
        asyncio.to_thread(store.stats.open_counts),
        asyncio.to_thread(store.rollups.rollup_backlog),
        asyncio.to_thread(evaluate, store.rollups, now, fold=False),
    )
    ov = overview(rows, since, now, daily=daily)
    labels = {s: page.text(_LABEL_KEYS.get(s, s)) for s in SERIES}
    return page.render(
        "overview.html",
        "overview",
        ov=ov,
        queue=queue,
        backlog=backlog,
        alerts=alerts,
        window=window,
        windows=list(WINDOWS),
        chart=charts.stacked_bars(ov.hourly, SERIES, labels, daily=daily),
        bounce_gauge=charts.rate_bar(ov.bounce_rate, BOUNCE_LINES),
        complaint_gauge=charts.rate_bar(ov.complaint_rate, COMPLAINT_LINES),
        bounce_lines=BOUNCE_LINES,
        complaint_lines=COMPLAINT_LINES,
        colours=charts.SERIES_COLOURS,
        labels=labels,
    )
