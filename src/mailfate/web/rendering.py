"""How a dashboard page is written: the Jinja2 environment and its filters, and the headers pages send.

Autoescape is on and undefined names fail: everything a message carries (subject, addresses, the
receivers' replies) reaches the HTML escaped, and a template that names a missing value is an error,
not an empty cell.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

__all__ = ["LETTER_HEADERS", "PAGE_HEADERS", "STATIC", "environment"]

_HERE = Path(__file__).parent
STATIC = _HERE / "static"

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
"""No inline script and nothing from elsewhere; never framed, never cached."""

LETTER_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
"""A letter carries its own styles (it is meant to be saved and sent) and never a script."""


def environment() -> jinja2.Environment:
    """The templates of ``web/templates``, with the filters they use for numbers and times."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_HERE / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda v: f"{v:.2%}" if v is not None else "–"
    env.filters["secs"] = _seconds
    env.filters["utc"] = lambda d: f"{d:%Y-%m-%d %H:%M:%S}" if d else ""
    env.filters["num"] = lambda n: f"{n:,}"
    return env


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    if value == float("inf"):
        return "> 1 d"
    if value < 60:
        return f"≤ {value:.0f} s"
    if value < 3600:
        return f"≤ {value / 60:.0f} min"
    return f"≤ {value / 3600:.0f} h"
