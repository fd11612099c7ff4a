"""Charts drawn on the server as inline SVG: nothing to build, nothing to download."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from markupsafe import Markup, escape

__all__ = ["SERIES_COLOURS", "rate_bar", "stacked_bars"]

SERIES_COLOURS = {
    "delivered": "#2e7d32",
    "deferred": "#f9a825",
    "hard": "#c62828",
    "soft": "#ef6c00",
    "complained": "#6a1b9a",
}
"""The overview chart's series (``mailfate.tracking.overview.SERIES``: hard and soft bounces as
``mailfate.model.bounces`` defines them) and their colours."""


def stacked_bars(
    hourly: Sequence[tuple[datetime, dict[str, int]]],
    series: Sequence[str],
    labels: dict[str, str],
    *,
    width: int = 900,
    height: int = 180,
    daily: bool = False,
) -> Markup:
    """One stacked bar per hour (per day); hover shows its counts."""
    if not hourly:
        return Markup("")
    top = max((sum(counts.get(s, 0) for s in series) for _, counts in hourly), default=0) or 1
    pad_left, pad_bottom = 44, 20
    plot_w, plot_h = width - pad_left - 4, height - pad_bottom - 6
    step = plot_w / len(hourly)
    bar = max(1.0, step * 0.8)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(", ".join(labels.get(s, s) for s in series))}">',
        f'<line x1="{pad_left}" y1="{6 + plot_h}" x2="{width - 4}" y2="{6 + plot_h}" stroke="#999"/>',
        f'<text x="{pad_left - 6}" y="12" text-anchor="end" class="axis">{top}</text>',
        f'<text x="{pad_left - 6}" y="{6 + plot_h}" text-anchor="end" class="axis">0</text>',
    ]
    every = max(1, len(hourly) // 8)
    for i, (hour, counts) in enumerate(hourly):
        x = pad_left + i * step + (step - bar) / 2
        y = 6.0 + plot_h
        when = f"{hour:%Y-%m-%d}" if daily else f"{hour:%m-%d %H}:00 UTC"
        tip = f"{when} — " + ", ".join(f"{labels.get(s, s)} {counts.get(s, 0)}" for s in series)
        parts.append(f"<g><title>{escape(tip)}</title>")
        for s in series:
            n = counts.get(s, 0)
            if n <= 0:
                continue
            h = plot_h * n / top
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{SERIES_COLOURS.get(s, "#607d8b")}" data-series="{escape(s)}"/>'
            )
        parts.append("</g>")
        if i % every == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - 4}" text-anchor="middle" class="axis">'
                f"{hour:%m-%d}</text>"
                if daily
                else f"{hour:%H}h</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def rate_bar(value: float, lines: Sequence[tuple[float, str]], *, width: int = 320) -> Markup:
    """A horizontal gauge of ``value`` (a fraction) with a tick for each threshold line."""
    scale = max((limit for limit, _ in lines), default=0.01) * 2  # past twice the last line: a full bar
    crossed = [limit for limit, _ in lines if value >= limit]
    colour = "#c62828" if crossed and crossed[-1] == max(x for x, _ in lines) else (
        "#f9a825" if crossed else "#2e7d32"
    )  # fmt: skip
    fill = min(1.0, value / scale) * width
    parts = [
        f'<svg class="gauge" viewBox="0 0 {width} 34" width="{width}" height="34" role="img" '
        f'aria-label="{value:.3%}">',
        f'<rect x="0" y="4" width="{width}" height="12" fill="#eceff1"/>',
        f'<rect x="0" y="4" width="{fill:.1f}" height="12" fill="{colour}"/>',
    ]
    for limit, name in lines:
        x = min(1.0, limit / scale) * width
        parts.append(
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="20" stroke="#37474f">'
            f"<title>{escape(name)}</title></line>"
            f'<text x="{x:.1f}" y="31" text-anchor="middle" class="axis">{limit:.1%}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
