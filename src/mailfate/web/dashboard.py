"""The dashboard at ``/``: server-rendered pages (Jinja2, inline SVG charts), English and Korean.

Pages: overview (``/``), receivers (``/domains``; ``/receivers`` redirects there), live events
(``/events``), message search (``/messages``), one message's timeline (``/messages/{id}``), the
postmaster inquiries, suppressions, alerts. Every page needs an API key with the ``read`` scope:
from the ``Authorization: Bearer`` header, or signed in once at ``/login`` (an HttpOnly,
SameSite=Strict session cookie that names the key and is signed with its stored hash, never the key
itself: :mod:`mailfate.web.session`). Sign-in and sign-out refuse cross-site POSTs
(``Sec-Fetch-Site``, else ``Origin``/``Referer``). The language comes from ``?lang=ko|en``
(remembered in a cookie), else from the browser's Accept-Language.

The numbers come from the hourly rollups (:mod:`mailfate.store.rollups`), folded in the
background by ``mailfate serve``: a page reads a few hundred rows whatever the store holds.
Pages send a strict Content-Security-Policy: no inline script, no third-party anything.

Layout: one router module per page in :mod:`mailfate.web.pages`; what they share (the store, the
key lookup, the templates, the language, the signed-in key) comes from :mod:`mailfate.web.deps`,
set on ``app.state`` here; templates and headers from :mod:`mailfate.web.rendering`.
"""

from __future__ import annotations

from fastapi import FastAPI

from mailfate.tracking.fault import SenderFacts
from mailfate.web.deps import LANG_COOKIE, Dashboard, DashboardStore, Lookup
from mailfate.web.pages import router
from mailfate.web.rendering import environment
from mailfate.web.session import SESSION_COOKIE

__all__ = ["LANG_COOKIE", "SESSION_COOKIE", "mount_dashboard"]


def mount_dashboard(
    app: FastAPI, store: DashboardStore, lookup: Lookup, *, sender: SenderFacts | None = None
) -> None:
    """Add the dashboard's routes to ``app`` (the API's application: one process, one port).

    ``lookup`` is the API's key lookup, so a bearer key is trusted exactly as the API trusts it.
    ``sender``: our side as configured (``tracking.fault.facts_from_settings``).
    """
    app.state.dashboard = Dashboard(
        store=store, lookup=lookup, templates=environment(), sender=sender or SenderFacts()
    )
    app.include_router(router)
