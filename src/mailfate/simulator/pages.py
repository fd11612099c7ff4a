"""The simulator's web inbox: the pages a person reads on the control port.

``inbox_router(inbox, smtp)`` returns an :class:`~fastapi.APIRouter` with

``GET /``
    the messages, newest first (unread in bold), ``?q=`` in the API's search language (``to:``,
    ``from:``, ``subject:``, ``is:unread``, free text: :mod:`mailfate.simulator.query`),
    ``?start=`` to page;
``GET /view/{id}`` (``?tab=html|text|headers|raw|transcript|attempts``)
    one message, marked read; the HTML part is framed from ``/view/{id}/html``, which is served
    with a policy that lets no script, remote image, stylesheet or font load, into a ``sandbox``
    frame (no ``allow-scripts``, no ``allow-same-origin``);
``GET /view/{id}/raw``, ``GET /view/{id}/part/{part}``
    the source and a part (Mailpit's part numbers), as downloads;
``POST /view/{id}/delete``, ``POST /delete`` (``?q=``: only the matching ones)
    delete, then back to the list;
``GET /attempts`` (``?to=``: part of an address)
    the recipients the simulator refused: rejected, deferred, dropped.

Pages are Jinja2 with autoescape and strict undefined names, so whatever came in by mail
(subjects, addresses, headers, the transcript) reaches the page as text. Labels come in English
and Korean (:mod:`mailfate.simulator.pagetext`: ``?lang=``, then the cookie it leaves, then
Accept-Language). The list refreshes itself through Mailpit's ``/api/events`` websocket when
there is JavaScript, and by a ``<noscript>`` refresh when there is not.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from mailfate.simulator import pagetext
from mailfate.simulator.inbox import Attempt, Inbox, Page, StoredMessage
from mailfate.simulator.mime import Detail, Part, parse_detail
from mailfate.simulator.query import QueryError

__all__ = ["FRAME_HEADERS", "PAGE_HEADERS", "environment", "html_for_frame", "human_size", "inbox_router"]

_HERE = Path(__file__).parent
STATIC = _HERE / "static"
PAGE_SIZE = 50
MAX_FILTER = 320
MAX_FAILED = 500
MAX_RAW_SHOWN = 2_000_000
"""The raw source tab shows at most this many bytes; the download has them all."""
LANG_COOKIE = "mailfate_sim_lang"
TABS = ("html", "text", "headers", "raw", "transcript", "attempts")
_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")
_PART = re.compile(r"^[0-9]{1,4}(\.[0-9]{1,4}){0,15}$")
_STATIC_FILES = {"inbox.css": "text/css; charset=utf-8", "inbox.js": "text/javascript; charset=utf-8"}

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; frame-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
"""No inline script and nothing from elsewhere; the only frame is the message's own HTML route."""

FRAME_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "font-src data:; form-action 'none'; frame-ancestors 'self'; "
    "sandbox allow-popups allow-popups-to-escape-sandbox",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
"""A letter's HTML: its inline styles and the message's own images, never a script, never a
remote image, font or stylesheet (a tracking pixel stays dark); sandboxed even when opened alone."""

_BASE = b'<base target="_blank">'
_REFRESH = re.compile(r"<meta\b[^>]*http-equiv\s*=\s*[\"']?\s*refresh[^>]*>", re.IGNORECASE)
_WHO = {"C": "client", "S": "server", "*": "note"}


def human_size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.1f} kB"
    return f"{n / 1_000_000:.1f} MB"


def _local(value: datetime | float | None) -> str:
    """``2026-12-06 15:04:05`` in the machine's own time zone (the offset is in the title)."""
    when = _aware(value)
    return f"{when.astimezone():%Y-%m-%d %H:%M:%S}" if when else ""


def _iso(value: datetime | float | None) -> str:
    when = _aware(value)
    return when.astimezone().isoformat(timespec="seconds") if when else ""


def _clock(value: datetime | float | None) -> str:
    """``15:04:05.123``: when a transcript line was said."""
    when = _aware(value)
    return f"{when.astimezone():%H:%M:%S.%f}"[:12] if when else ""


def _aware(value: datetime | float | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def environment() -> jinja2.Environment:
    """The inbox's templates: autoescape on, a missing name an error, never an empty cell."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mailfate.simulator"),  # templates/ beside this module, in a wheel too
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        local=_local,
        iso=_iso,
        size=human_size,
        clock=_clock,
        addr=lambda a: f"{a.name} <{a.address}>" if a.name else a.address,
        who=lambda a: a.name or a.address,
    )
    return env


def html_for_frame(html: str, message_id: str, parts: list[Part]) -> bytes:
    """The HTML part as the sandboxed frame gets it: links open outside the frame, ``cid:``
    images point at the part route (the only images the frame's policy lets load), and no
    ``<meta http-equiv="refresh">`` sends the frame elsewhere on its own (the sandbox and the
    policy do not stop a frame navigating itself)."""
    html = _REFRESH.sub("", html)
    for p in parts:
        if p.content_id:
            html = html.replace(f"cid:{p.content_id}", f"/view/{message_id}/part/{p.part_id}")
    return _BASE + html.encode("utf-8", errors="replace")


@dataclass
class Shown:
    """One message as its page shows it."""

    msg: StoredMessage
    detail: Detail
    raw_text: str

    @property
    def id(self) -> str:
        return self.msg.id

    @property
    def subject(self) -> str:
        return self.detail.summary.subject


class _Pages:
    """What every page shares: the inbox, the language, the layout, the headers."""

    def __init__(self, inbox: Callable[[], Inbox | None], smtp: Callable[[], str]) -> None:
        self._inbox = inbox
        self.smtp = smtp
        self.env = environment()

    @property
    def inbox(self) -> Inbox:
        got = self._inbox()
        return got if got is not None else _EMPTY

    def lang(self, request: Request) -> str:
        return pagetext.pick_lang(
            request.query_params.get("lang"),
            request.cookies.get(LANG_COOKIE),
            request.headers.get("accept-language"),
        )

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        lang = self.lang(request)
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        here = request.url.path + ("?" + urlencode(params) if params else "")
        body = self.env.get_template(name).render(
            lang=lang,
            t=lambda key, **v: pagetext.text(lang, key, **v),
            outcome_label=lambda o: pagetext.outcome_label(lang, o),
            here=here,
            smtp=self.smtp(),
            unread=self.inbox.unread,
            zone=datetime.now(UTC).astimezone().tzname() or "",
            **context,
        )
        response = HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)
        chosen = request.query_params.get("lang")
        if chosen in pagetext.LANGS:
            response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 86400, samesite="lax", httponly=True)
        return response

    def message(self, message_id: str) -> StoredMessage | None:
        return self.inbox.get(message_id) if _ID.match(message_id) else None

    def shown(self, message_id: str) -> Shown | None:
        msg = self.message(message_id)
        if msg is None:
            return None
        try:
            raw = msg.raw()
        except OSError:  # the maildir file was removed behind our back
            return None
        shown = raw[:MAX_RAW_SHOWN].decode("utf-8", errors="replace")
        if len(raw) > MAX_RAW_SHOWN:
            shown += f"\n[… {human_size(len(raw) - MAX_RAW_SHOWN)} more: download the .eml]"
        return Shown(msg, parse_detail(raw, msg.rcpts), shown)

    def failed(self, contains: str = "", rcpts: tuple[str, ...] = ()) -> list[Attempt]:
        """Refused attempts, newest first: of ``rcpts`` exactly, else of addresses containing ``contains``."""
        if rcpts:
            found = [a for r in {r.lower() for r in rcpts} for a in self.inbox.attempts(r)]
        else:
            needle = contains.lower()
            found = [a for a in self.inbox.attempts() if needle in a.rcpt.lower()]
        found = [a for a in found if a.outcome != "accepted"]
        found.sort(key=lambda a: a.at, reverse=True)
        return found[:MAX_FAILED]


_EMPTY = Inbox(max_messages=1, max_attempts=1)
"""What the pages read when the simulator runs with its inbox off: nothing."""


def _listing(pages: _Pages, q: str, start: int) -> tuple[Page | None, str]:
    try:
        if q:
            return pages.inbox.search(q, start, PAGE_SIZE), ""
        return pages.inbox.list(start, PAGE_SIZE), ""
    except QueryError as exc:
        return None, str(exc)


def _list_routes(router: APIRouter, pages: _Pages) -> None:
    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    def inbox(request: Request, q: str = "", start: int = Query(0, ge=0, le=10_000_000)) -> Response:
        q = q.strip()
        found, problem = _listing(pages, q, start)

        def page_url(at: int) -> str:
            params = {"q": q} if q else {}
            if at > 0:
                params["start"] = str(at)
            return "/" + ("?" + urlencode(params) if params else "")

        return pages.render(
            request,
            "inbox.html",
            status=400 if problem else 200,
            page="inbox",
            q=q,
            problem=problem,
            items=found.messages if found else [],
            start=start,
            limit=PAGE_SIZE,
            total=found.matched if found else 0,
            total_all=len(pages.inbox),
            page_url=page_url,
        )

    @router.post("/delete", include_in_schema=False)
    def delete_all(request: Request, q: str = "") -> Response:
        if not _same_site(request):
            return _CROSS_SITE
        q = q.strip()
        try:
            pages.inbox.delete_search(q) if q else pages.inbox.delete(None)
        except QueryError as exc:
            return Response(str(exc), status_code=400, media_type="text/plain")
        return RedirectResponse("/", status_code=303)

    @router.get("/attempts", response_class=HTMLResponse, include_in_schema=False)
    def attempts(request: Request, to: str = "") -> Response:
        to = to.strip()
        if len(to) > MAX_FILTER:
            return Response(f"an address is at most {MAX_FILTER} characters", status_code=400)
        return pages.render(request, "attempts.html", page="attempts", to=to, failed=pages.failed(to))


def _tabs(lang: str, shown: Shown, transcript: int, failed: int) -> list[tuple[str, str, int | None]]:
    counts: dict[str, int | None] = {"transcript": transcript, "attempts": failed}
    tabs = TABS if shown.detail.html else tuple(t for t in TABS if t != "html")
    return [(k, pagetext.text(lang, "tab_" + k), counts.get(k)) for k in tabs]


def _view_routes(router: APIRouter, pages: _Pages) -> None:
    @router.get("/view/{message_id}", response_class=HTMLResponse, include_in_schema=False)
    def view(request: Request, message_id: str, tab: str = "") -> Response:
        shown = pages.shown(message_id)
        if shown is None:
            return pages.render(request, "message.html", status=404, page="view", m=None)
        pages.inbox.mark_read([shown.id])
        failed = pages.failed(rcpts=shown.msg.rcpts)
        transcript = [(line, _WHO.get(line.direction, "note")) for line in shown.msg.transcript]
        tabs = _tabs(pages.lang(request), shown, len(transcript), len(failed))
        if tab not in {k for k, _, _ in tabs}:
            tab = tabs[0][0]
        return pages.render(
            request,
            "message.html",
            page="view",
            m=shown,
            tab=tab,
            tabs=tabs,
            transcript=transcript,
            failed=failed,
        )

    @router.get("/view/{message_id}/html", include_in_schema=False)
    def html_part(message_id: str) -> Response:
        shown = pages.shown(message_id)
        if shown is None or not shown.detail.html:
            return Response(
                "no such HTML part", status_code=404, media_type="text/plain", headers=FRAME_HEADERS
            )
        parts = [*shown.detail.inline, *shown.detail.attachments]
        body = html_for_frame(shown.detail.html, shown.id, parts)
        return Response(body, media_type="text/html; charset=utf-8", headers=FRAME_HEADERS)

    @router.get("/view/{message_id}/raw", include_in_schema=False)
    def raw(message_id: str) -> Response:
        shown = pages.shown(message_id)
        if shown is None:
            return Response("no such message", status_code=404, media_type="text/plain")
        headers = {**_download(f"{shown.id}.eml"), "X-Content-Type-Options": "nosniff"}
        return Response(shown.msg.raw(), media_type="message/rfc822", headers=headers)

    @router.get("/view/{message_id}/part/{part_id}", include_in_schema=False)
    def part(message_id: str, part_id: str) -> Response:
        msg = pages.message(message_id)
        found = msg.part(part_id) if msg is not None and _PART.match(part_id) else None
        if found is None:
            return Response("no such part", status_code=404, media_type="text/plain")
        meta, content = found
        image = meta.content_type.startswith("image/") and meta.content_type != "image/svg+xml"
        headers = {
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "no-store",
        }
        if not image:
            headers.update(_download(meta.filename or f"part-{part_id}"))
        return Response(
            content, media_type=meta.content_type if image else "application/octet-stream", headers=headers
        )

    @router.post("/view/{message_id}/delete", include_in_schema=False)
    def delete(request: Request, message_id: str) -> Response:
        if not _same_site(request):
            return _CROSS_SITE
        if _ID.match(message_id):
            pages.inbox.delete([message_id])
        return RedirectResponse("/", status_code=303)


def _same_site(request: Request) -> bool:
    """A form posted from this page, not from another site the browser happens to show.

    Browsers send ``Origin`` with every POST; a page elsewhere cannot make it ours. Without the
    header (curl, a script) the request is let through: it is not a browser being misled."""
    origin = request.headers.get("origin")
    if origin is None:
        return request.headers.get("sec-fetch-site", "same-origin") in {"same-origin", "none"}
    return origin == f"{request.url.scheme}://{request.headers.get('host', '')}"


_CROSS_SITE = Response(
    "refused: this form was sent from another site", status_code=403, media_type="text/plain"
)


def _download(filename: str) -> dict[str, str]:
    plain = re.sub(r"[^A-Za-z0-9._-]", "_", filename)[:100] or "download"
    return {"Content-Disposition": f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename)}"}


def inbox_router(inbox: Callable[[], Inbox | None], smtp: Callable[[], str]) -> APIRouter:
    """The inbox's pages over ``inbox()`` (``None``: the inbox is off, the pages show nothing);
    ``smtp()`` says where mail is received, e.g. ``127.0.0.1:1025``."""
    router = APIRouter()
    pages = _Pages(inbox, smtp)

    @router.get("/_inbox/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in _STATIC_FILES:
            return Response("not found", status_code=404, media_type="text/plain")
        return FileResponse(
            STATIC / name, media_type=_STATIC_FILES[name], headers={"X-Content-Type-Options": "nosniff"}
        )

    _list_routes(router, pages)
    _view_routes(router, pages)
    return router
