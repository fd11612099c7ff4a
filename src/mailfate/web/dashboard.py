"""The dashboard at ``/``: server-rendered pages (Jinja2, inline SVG charts), English and Korean.

Pages: overview (``/``), receivers (``/domains``), live events (``/events``), message search
(``/messages``), one message's timeline (``/messages/{id}``), suppressions, alerts. Every page
needs an API key with the ``read`` scope: from the ``Authorization: Bearer`` header, or signed in
once at ``/login`` (an HttpOnly, SameSite=Strict session cookie that names the key and is signed
with its stored hash, never the key itself: :mod:`mailfate.web.session`). Sign-in and sign-out
refuse cross-site POSTs (``Sec-Fetch-Site``, else ``Origin``/``Referer``). The language comes from
``?lang=ko|en`` (remembered in a cookie), else from the browser's Accept-Language.

The numbers come from the hourly rollups (:mod:`mailfate.store.rollups`), folded in the
background by ``mailfate serve``: a page reads a few hundred rows whatever the store holds.
Pages send a strict Content-Security-Policy: no inline script, no third-party anything.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path as FilePath
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

import jinja2
from fastapi import FastAPI, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from mailfate.doctor.inquiry import Inquiry
from mailfate.store import ApiKey, Store
from mailfate.store.keys import hash_key
from mailfate.tracking.alerts import evaluate
from mailfate.tracking.overview import (
    BOUNCE_LINES,
    COMPLAINT_LINES,
    DOMAIN_GROUPS,
    SERIES_GROUPS,
    domain_health,
    overview,
)
from mailfate.tracking.timeline import steps
from mailfate.web import charts, i18n
from mailfate.web.session import (
    LEGACY_COOKIE,
    SESSION_COOKIE,
    SESSION_SECONDS,
    cross_site,
    parse_session,
    sign_session,
    valid_session,
)

__all__ = ["LANG_COOKIE", "SESSION_COOKIE", "mount_dashboard"]

LANG_COOKIE = "mailfate_lang"
WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
DAILY_AFTER = timedelta(days=2)
"""Windows longer than this read the daily rollups (whole days, UTC)."""
FATES = ("queued", "sending", "deferred", "delivered", "bounced", "expired", "suppressed", "rejected",
         "complained", "autoreplied")  # fmt: skip
_MESSAGE_ID = re.compile(r"^m[0-9a-z]{26}$")
_CURSOR = re.compile(r"^[0-9]{1,19}$")
_MAX_CURSOR = 2**63  # event ids are signed 64-bit integers in the store
_HERE = FilePath(__file__).parent
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_LETTER_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
"""A letter carries its own styles (it is meant to be saved and sent) and never a script."""

Lookup = Callable[[str], Awaitable[ApiKey | None]]


def _environment() -> jinja2.Environment:
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


def mount_dashboard(app: FastAPI, store: Store, lookup: Lookup) -> None:
    """Add the dashboard's routes to ``app`` (the API's application: one process, one port)."""
    env = _environment()

    async def viewer(request: Request) -> ApiKey | None:
        """The key behind the request: its ``Authorization: Bearer`` header, else its session cookie."""
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            secret = header[7:].strip()
            key = await lookup(secret) if secret else None
        else:
            key = await signed_in(request.cookies.get(SESSION_COOKIE))
        if key is None or not ({"read", "admin"} & set(key.scopes)):
            return None
        return key

    async def signed_in(cookie: str | None) -> ApiKey | None:
        """The session's key when the cookie is its own, not expired, and the key is not revoked."""
        session = parse_session(cookie)
        if session is None or session.expires <= time.time():
            return None
        found = await asyncio.to_thread(store.find_key_by_id, session.key_id)
        if found is None:
            return None
        key, stored_hash = found
        return key if valid_session(session, stored_hash, now=time.time()) else None

    def refuse_cross_site(request: Request) -> Response:
        """403 for a POST another site made the browser send (a forged sign-in or sign-out)."""
        lang = lang_of(request)
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"detail": i18n.text(lang, "cross_site")}, status_code=403, headers=_HEADERS)
        body = (
            f'<!doctype html><html lang="{lang}"><meta charset="utf-8"><title>403</title>'
            f"<p>{i18n.text(lang, 'cross_site')}</p></html>"
        )
        return HTMLResponse(body, status_code=403, headers=_HEADERS)

    def drop_cookies(response: Response, request: Request, *names: str) -> None:
        secure = request.url.scheme == "https"
        for name in names:
            response.delete_cookie(name, httponly=True, samesite="strict", secure=secure)

    def lang_of(request: Request) -> str:
        return i18n.pick_lang(
            request.query_params.get("lang"),
            request.cookies.get(LANG_COOKIE),
            request.headers.get("accept-language"),
        )

    def render(request: Request, template: str, page: str, **context: Any) -> HTMLResponse:
        lang = lang_of(request)

        def t(key: str) -> str:
            return i18n.text(lang, key)

        body = env.get_template(template).render(
            t=t,
            lang=lang,
            page=page,
            path=request.url.path,
            fate_label=lambda f: i18n.fate_label(lang, f),
            meaning=lambda r: i18n.meaning(lang, r),
            step_meaning=lambda *a: i18n.step_meaning(lang, *a),
            **context,
        )
        response = HTMLResponse(body, headers=_HEADERS)
        if request.query_params.get("lang") in i18n.LANGS:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict")
        return response

    def to_login(request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={_quote(target)}", status_code=303)

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        if name not in ("dashboard.css", "dashboard.js"):
            return Response(status_code=404)
        media = "text/css" if name.endswith(".css") else "text/javascript"
        return FileResponse(
            _HERE / "static" / name, media_type=media, headers={"Cache-Control": "max-age=300"}
        )

    @app.get("/login", include_in_schema=False)
    async def login_form(request: Request, next: str = "/") -> Response:
        return render(request, "login.html", "login", next=_safe_next(next), failed=False)

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        if cross_site(request):
            return refuse_cross_site(request)
        form = parse_qs((await request.body())[:4096].decode("utf-8", "replace"))
        key = (form.get("key") or [""])[0][:200]
        next = (form.get("next") or ["/"])[0]
        # from the store, not the cache: a key revoked a moment ago does not sign in
        found = await asyncio.to_thread(store.find_key, key.strip()) if key.strip() else None
        if found is None or not ({"read", "admin"} & set(found.scopes)):
            refused = render(request, "login.html", "login", next=_safe_next(next), failed=True)
            refused.status_code = 401
            return refused
        response = RedirectResponse(_safe_next(next), status_code=303)
        drop_cookies(response, request, LEGACY_COOKIE)  # the raw key older versions kept
        response.set_cookie(
            SESSION_COOKIE,
            sign_session(found.id, hash_key(key.strip()), now=time.time()),
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        if cross_site(request):
            return refuse_cross_site(request)
        response = RedirectResponse("/login", status_code=303)
        drop_cookies(response, request, SESSION_COOKIE, LEGACY_COOKIE)
        return response

    @app.get("/", include_in_schema=False)
    async def overview_page(request: Request, window: str = "24h") -> Response:
        if await viewer(request) is None:
            return to_login(request)
        span = WINDOWS.get(window, WINDOWS["24h"])
        now = datetime.now(UTC)
        since = now - span
        daily = span > DAILY_AFTER
        rows, queue, backlog, alerts = await asyncio.gather(
            asyncio.to_thread(lambda: store.rollup_sums(since, by=SERIES_GROUPS, daily=daily)),
            asyncio.to_thread(store.open_counts),
            asyncio.to_thread(store.rollup_backlog),
            asyncio.to_thread(evaluate, store, now, fold=False),
        )
        ov = overview(rows, since, now, daily=daily)
        lang = lang_of(request)
        labels = {s: i18n.text(lang, s if s != "bounced" else "bounced_hard") for s in charts.SERIES_COLOURS}
        return render(
            request,
            "overview.html",
            "overview",
            ov=ov,
            queue=queue,
            backlog=backlog,
            alerts=alerts,
            window=window if window in WINDOWS else "24h",
            windows=list(WINDOWS),
            chart=charts.stacked_bars(ov.hourly, list(charts.SERIES_COLOURS), labels, daily=daily),
            bounce_gauge=charts.rate_bar(ov.bounce_rate, BOUNCE_LINES),
            complaint_gauge=charts.rate_bar(ov.complaint_rate, COMPLAINT_LINES),
            bounce_lines=BOUNCE_LINES,
            complaint_lines=COMPLAINT_LINES,
            colours=charts.SERIES_COLOURS,
            labels=labels,
        )

    @app.get("/domains", include_in_schema=False)
    async def domains_page(request: Request, window: str = "24h") -> Response:
        if await viewer(request) is None:
            return to_login(request)
        span = WINDOWS.get(window, WINDOWS["24h"])
        since = datetime.now(UTC) - span
        rows = await asyncio.to_thread(
            lambda: store.rollup_sums(since, by=DOMAIN_GROUPS, daily=span > DAILY_AFTER)
        )
        return render(
            request,
            "domains.html",
            "domains",
            domains=domain_health(rows),
            window=window if window in WINDOWS else "24h",
            windows=list(WINDOWS),
        )

    @app.get("/events", include_in_schema=False)
    async def events_page(request: Request) -> Response:
        if await viewer(request) is None:
            return to_login(request)
        evs = await asyncio.to_thread(lambda: store.recent_events(limit=100))
        return render(request, "events.html", "events", events=evs, newest=evs[0].id if evs else 0)

    @app.get("/live/events", include_in_schema=False)
    async def live_events(request: Request, after: Annotated[str, Query(max_length=40)] = "0") -> Response:
        """New events as JSON for the live page's script (oldest first); ``after`` is an event id."""
        if await viewer(request) is None:
            return JSONResponse({"detail": "sign in"}, status_code=401)
        cursor = int(after) if _CURSOR.fullmatch(after) else _MAX_CURSOR
        if cursor >= _MAX_CURSOR:
            return JSONResponse(
                {"detail": f"after: an event id, 0 to {_MAX_CURSOR - 1}"},
                status_code=422,
                headers={"Cache-Control": "no-store"},
            )
        evs = await asyncio.to_thread(lambda: store.recent_events(after_id=cursor, limit=100))
        lang = lang_of(request)
        return JSONResponse(
            [
                {
                    "id": e.id,
                    "at": f"{e.at:%Y-%m-%d %H:%M:%S}",
                    "message_id": e.message_id,
                    "recipient": e.recipient,
                    "type": e.type,
                    "outcome": str(e.data.get("outcome") or ""),
                    "reason": str(e.data.get("reason") or ""),
                    "meaning": i18n.meaning(lang, str(e.data.get("cause") or e.data.get("reason") or "")),
                }
                for e in reversed(evs)
            ],
            headers={"Cache-Control": "no-store"},
        )

    @app.get("/messages", include_in_schema=False)
    async def messages_page(  # noqa: PLR0917 - one query parameter per filter
        request: Request,
        q: Annotated[str, Query(max_length=320)] = "",
        domain: Annotated[str, Query(max_length=255)] = "",
        fate: str = "",
        reason: Annotated[str, Query(max_length=32)] = "",
        tag: Annotated[str, Query(max_length=64)] = "",
        cursor: Annotated[str, Query(max_length=27)] = "",
    ) -> Response:
        if await viewer(request) is None:
            return to_login(request)
        q = q.strip()
        if _MESSAGE_ID.match(q):
            return RedirectResponse(f"/messages/{q}", status_code=303)
        items, nxt = await asyncio.to_thread(
            lambda: store.search_messages(
                recipient=q or None,
                domain=domain.strip() or None,
                fate=fate if fate in FATES else None,
                reason=reason.strip() or None,
                tag=tag.strip() or None,
                cursor=cursor if _MESSAGE_ID.match(cursor) else None,
                limit=50,
            )
        )
        query = {"q": q, "domain": domain, "fate": fate, "reason": reason, "tag": tag}
        return render(
            request,
            "messages.html",
            "messages",
            items=items,
            next_cursor=nxt,
            query=query,
            fates=FATES,
            next_query="&".join(f"{k}={_quote(v)}" for k, v in query.items() if v),
        )

    @app.get("/messages/{message_id}", include_in_schema=False)
    async def message_page(request: Request, message_id: str) -> Response:
        if await viewer(request) is None:
            return to_login(request)
        view = await asyncio.to_thread(store.message, message_id) if _MESSAGE_ID.match(message_id) else None
        if view is None:
            response = render(request, "message.html", "messages", view=None, rows=[])
            response.status_code = 404
            return response
        return render(request, "message.html", "messages", view=view, rows=steps(list(view.events)))

    def letter(request: Request, inquiry: Inquiry, fmt: str) -> Response:
        from mailfate.doctor.inquiry_text import render as write

        text = write(inquiry, lang=lang_of(request), fmt="md" if fmt == "md" else "html")
        if fmt == "md":
            return Response(text, media_type="text/markdown; charset=utf-8", headers=_LETTER_HEADERS)
        return HTMLResponse(text, headers=_LETTER_HEADERS)

    @app.get("/messages/{message_id}/inquiry", include_in_schema=False)
    async def message_letter(
        request: Request, message_id: str, fmt: Annotated[str, Query(alias="format")] = "html"
    ) -> Response:
        """The postmaster inquiry about this message (``mailfate report``; DNS is not asked here)."""
        if await viewer(request) is None:
            return to_login(request)
        from mailfate.doctor.inquiry import message_inquiry

        if not _MESSAGE_ID.match(message_id) or await asyncio.to_thread(store.message, message_id) is None:
            return Response("no such message", status_code=404, media_type="text/plain")
        now = datetime.now(UTC)
        built = await asyncio.to_thread(lambda: message_inquiry(store, message_id, now=now))
        return letter(request, built, fmt)

    @app.get("/domains/{domain}/inquiry", include_in_schema=False)
    async def domain_letter(
        request: Request,
        domain: Annotated[str, Path(max_length=255, pattern=r"^[A-Za-z0-9.-]+$")],
        fmt: Annotated[str, Query(alias="format")] = "html",
        window: str = "7d",
    ) -> Response:
        """The postmaster inquiry about every deferral and bounce to ``domain`` in the window."""
        if await viewer(request) is None:
            return to_login(request)
        from mailfate.doctor.inquiry import domain_inquiry

        now = datetime.now(UTC)
        since = now - WINDOWS.get(window, WINDOWS["7d"])
        built = await asyncio.to_thread(lambda: domain_inquiry(store, domain, now=now, since=since))
        if not built.attempts:
            return Response(
                f"no deferral or bounce to {domain} in that window", status_code=404, media_type="text/plain"
            )
        return letter(request, built, fmt)

    @app.get("/suppressions", include_in_schema=False)
    async def suppressions_page(request: Request) -> Response:
        if await viewer(request) is None:
            return to_login(request)
        items = await asyncio.to_thread(lambda: store.suppressions(limit=500))
        return render(request, "suppressions.html", "suppressions", items=items)

    @app.get("/alerts", include_in_schema=False)
    async def alerts_page(request: Request) -> Response:
        if await viewer(request) is None:
            return to_login(request)
        found = await asyncio.to_thread(evaluate, store, datetime.now(UTC), fold=False)
        return render(request, "alerts.html", "alerts", alerts=found)


def _quote(value: str) -> str:
    return quote(value, safe="")


def _safe_next(target: str) -> str:
    """Only a path on this site (no ``//host``, no scheme): the login cannot redirect elsewhere."""
    if (
        not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 33 or ord(c) == 127 for c in target)  # browsers drop tabs and newlines: /\t/evil
        or len(target) > 2000
    ):
        return "/"
    return target
