"""What the dashboard's routes share, reached through FastAPI dependencies rather than closures.

:func:`mailfate.web.dashboard.mount_dashboard` puts one :class:`Dashboard` (the store, the API's
key lookup, the templates) on ``app.state``; a route names what it needs in its signature:

- :data:`StoreDep`: the store.
- :data:`Viewer`: the key behind the request (``Authorization: Bearer``, else the signed session
  cookie of :mod:`mailfate.web.session`), or ``None`` when there is none with the ``read`` or
  ``admin`` scope. A page answers ``None`` itself (a redirect to the sign-in, or a 401 for the live
  feed), so a request with a malformed parameter is still a 422 whoever sends it.
- :data:`PageDep`: the request's language and its renderer.
- :data:`SenderDep`: our side as configured (:class:`mailfate.tracking.fault.SenderFacts`).

Every dependency here is ``async``: FastAPI runs a plain ``def`` dependency in a worker thread,
which would cost every page a thread hop for a few dictionary reads.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any, Protocol
from urllib.parse import quote

import jinja2
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mailfate.model import ApiKey
from mailfate.store.keys import Keys
from mailfate.store.messages import Messages
from mailfate.store.rollups import Rollups
from mailfate.store.stats import Stats
from mailfate.store.suppressions import Suppressions
from mailfate.tracking.fault import SenderFacts
from mailfate.web import i18n
from mailfate.web.rendering import PAGE_HEADERS
from mailfate.web.session import SESSION_COOKIE, parse_session, valid_session

__all__ = [
    "DAILY_AFTER",
    "LANG_COOKIE",
    "WINDOWS",
    "Dashboard",
    "DashboardRepositories",
    "DashboardStore",
    "Lookup",
    "Page",
    "PageDep",
    "SenderDep",
    "StoreDep",
    "Viewer",
    "may_read",
]

LANG_COOKIE = "mailfate_lang"
WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
DAILY_AFTER = timedelta(days=2)
"""Windows longer than this read the daily rollups (whole days, UTC)."""

Lookup = Callable[[str], Awaitable[ApiKey | None]]
"""The API's key lookup (cached for a few seconds): a bearer key is checked as the API checks it."""


class DashboardStore(Protocol):
    """The repositories the dashboard reads (and its sign-in checks keys in)."""

    @property
    def keys(self) -> Keys: ...

    @property
    def messages(self) -> Messages: ...

    @property
    def suppressions(self) -> Suppressions: ...

    @property
    def stats(self) -> Stats: ...

    @property
    def rollups(self) -> Rollups: ...


@dataclass(frozen=True, slots=True)
class DashboardRepositories:
    """A :class:`DashboardStore` made of the repositories alone (what the runtime hands in)."""

    keys: Keys
    messages: Messages
    suppressions: Suppressions
    stats: Stats
    rollups: Rollups

    @classmethod
    def of(cls, store: DashboardStore) -> DashboardRepositories:
        return cls(store.keys, store.messages, store.suppressions, store.stats, store.rollups)


@dataclass(frozen=True, slots=True)
class Dashboard:
    """The dashboard's share of the process, set once on ``app.state.dashboard``."""

    store: DashboardStore
    lookup: Lookup
    templates: jinja2.Environment
    sender: SenderFacts = field(default_factory=SenderFacts)
    """Our side as configured (the VERP domain, a direct transport's HELO): who is at fault in a
    timeline, and the envelope domain whose alignment a letter computes."""


def _shared(request: Request) -> Dashboard:
    # a plain call, not a dependency of the dependencies: each one FastAPI solves costs a page ~10 µs
    dashboard: Dashboard = request.app.state.dashboard
    return dashboard


async def _store(request: Request) -> DashboardStore:
    return _shared(request).store


StoreDep = Annotated[DashboardStore, Depends(_store)]


async def _sender(request: Request) -> SenderFacts:
    return _shared(request).sender


SenderDep = Annotated[SenderFacts, Depends(_sender)]


async def _viewer(request: Request) -> ApiKey | None:
    """The key behind the request: its ``Authorization: Bearer`` header, else its session cookie."""
    shared = _shared(request)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        secret = header[7:].strip()
        key = await shared.lookup(secret) if secret else None
    else:
        key = await _signed_in(shared.store, request.cookies.get(SESSION_COOKIE))
    return key if may_read(key) else None


async def _signed_in(store: DashboardStore, cookie: str | None) -> ApiKey | None:
    """The session's key when the cookie is its own, not expired, and the key is not revoked."""
    session = parse_session(cookie)
    if session is None or session.expires <= time.time():
        return None
    found = await asyncio.to_thread(store.keys.find_key_by_id, session.key_id)
    if found is None:
        return None
    key, stored_hash = found
    return key if valid_session(session, stored_hash, now=time.time()) else None


Viewer = Annotated[ApiKey | None, Depends(_viewer)]


def may_read(key: ApiKey | None) -> bool:
    """Whether ``key`` may see the dashboard: ``read`` or ``admin`` scope (``send`` alone sees nothing)."""
    return key is not None and key.allows("read")


def _lang_of(request: Request) -> str:
    """``?lang=``, else the language cookie, else the browser's Accept-Language."""
    return i18n.pick_lang(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
    )


class Page:
    """One request's page: its language, the template renderer, the way to the sign-in."""

    __slots__ = ("lang", "request", "templates")

    def __init__(self, request: Request, lang: str, templates: jinja2.Environment) -> None:
        self.request = request
        self.lang = lang
        self.templates = templates

    def text(self, key: str) -> str:
        return i18n.text(self.lang, key)

    def render(self, template: str, page: str, **context: Any) -> HTMLResponse:
        """``template`` as this request's page ``page`` (the nav's current item), with the words in
        its language; a ``?lang=`` choice is remembered in a cookie for a year."""
        lang = self.lang
        body = self.templates.get_template(template).render(
            t=self.text,
            lang=lang,
            page=page,
            path=self.request.url.path,
            fate_label=lambda f: i18n.fate_label(lang, f),
            meaning=lambda r: i18n.meaning(lang, r),
            step_meaning=lambda *a: i18n.step_meaning(lang, *a),
            **context,
        )
        response = HTMLResponse(body, headers=PAGE_HEADERS)
        if self.request.query_params.get("lang") in i18n.LANGS:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict")
        return response

    def to_login(self) -> Response:
        """303 to the sign-in, which comes back here (path and query) afterwards."""
        url = self.request.url
        target = url.path + (f"?{url.query}" if url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


async def _page(request: Request) -> Page:
    return Page(request, _lang_of(request), _shared(request).templates)


PageDep = Annotated[Page, Depends(_page)]
