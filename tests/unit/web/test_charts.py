"""The overview chart draws hard and soft bounces as two series, each under its own label."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from mailfate.tracking.overview import SERIES, overview
from mailfate.web.charts import SERIES_COLOURS, stacked_bars

LABELS = {"delivered": "Delivered", "deferred": "Deferred", "hard": "Hard bounced", "soft": "Soft bounced",
          "complained": "Complaints"}  # fmt: skip


def test_soft_bounces_are_never_drawn_in_red_as_hard() -> None:
    """Issue 15: tiles said "Hard bounced 0 / Soft bounced 4" and the chart drew the 4 in red."""
    now = datetime(2026, 12, 6, 12, 30, tzinfo=UTC)
    ov = overview([(now.replace(minute=0), "bounced_soft", -1, 4)], now - timedelta(hours=2), now)
    svg = str(stacked_bars(ov.hourly, SERIES, LABELS))
    assert tuple(SERIES_COLOURS) == SERIES
    assert re.findall(r'fill="([^"]+)" data-series="(\w+)"', svg) == [(SERIES_COLOURS["soft"], "soft")]
    assert SERIES_COLOURS["soft"] != SERIES_COLOURS["hard"]
    assert "Hard bounced 0, Soft bounced 4" in svg  # the tooltip says what the tiles say
    assert (ov.bounces.hard, ov.bounces.soft) == (0, 4)
