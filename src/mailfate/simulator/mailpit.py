"""Mailpit's API on the simulator's control port, so a suite written for Mailpit runs unchanged.

Routes (Mailpit's paths, JSON field names and status codes; see docs/simulator.md):
``GET /api/v1/info``, ``GET /api/v1/webui``, ``GET /api/v1/messages?start=&limit=``,
``PUT /api/v1/messages`` (``{"IDs", "Read"}``; no IDs: every message), ``DELETE
/api/v1/messages`` (``{"IDs"}``; no body or no IDs: every message), ``GET /api/v1/search?query=``,
``DELETE /api/v1/search?query=``, ``GET /api/v1/message/{ID}`` (``latest`` too; marks it read,
as Mailpit does), ``/raw``, ``/headers``, ``/part/{PartID}``, ``GET /api/v1/tags``,
``GET|PUT /api/v1/chaos``, ``GET /view/{ID}.html`` and ``.txt`` (the HTML part under a CSP that
runs and loads nothing; the text part) and the ``/api/events`` websocket (``{"Type": "new", "Data":
<summary>}``, then ``{"Type": "stats", ...}``; also ``update``, ``delete``, ``truncate``, ``prune``).

Bad input is Mailpit's ``400`` with a plain-text message, an unknown id ``404``; never a 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from mailfate.simulator.inbox import Inbox, InboxEvent, Page, StoredMessage
from mailfate.simulator.mime import Address, Part
from mailfate.simulator.query import QueryError
from mailfate.simulator.rules import Chaos, RuleError

__all__ = ["VERSION", "ApiError", "detail_json", "router", "summary_json"]

VERSION = "v1.27.0-mailfate"
"""The Mailpit API version the routes follow (``/api/v1/info``'s ``Version``)."""
MAX_LIMIT = 10_000
MAX_BODY = 1024 * 1024
router = APIRouter()


class ApiError(Exception):
    """A 4xx answer: ``status`` and a plain-text message (Mailpit answers errors as text)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _iso(at: datetime | None) -> str:
    if at is None:
        return "0001-01-01T00:00:00Z"
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _addr(a: Address) -> dict[str, str]:
    return {"Name": a.name, "Address": a.address}


def _from(a: Address) -> dict[str, str] | None:
    return _addr(a) if a.address or a.name else None


def summary_json(msg: StoredMessage) -> dict[str, Any]:
    """Mailpit's message summary (the list item)."""
    s = msg.summary()
    return {
        "ID": msg.id, "MessageID": s.message_id, "Read": msg.read, "From": _from(s.from_),
        "To": [_addr(a) for a in s.to], "Cc": [_addr(a) for a in s.cc], "Bcc": [_addr(a) for a in s.bcc],
        "ReplyTo": [_addr(a) for a in s.reply_to], "Subject": s.subject, "Created": _iso(msg.created),
        "Username": "", "Tags": [], "Size": msg.size, "Attachments": s.attachments, "Snippet": s.snippet,
    }  # fmt: skip


def _part(p: Part) -> dict[str, Any]:
    return {
        "PartID": p.part_id, "FileName": p.filename, "ContentType": p.content_type,
        "ContentID": p.content_id, "Size": p.size, "Checksums": p.checksums,
    }  # fmt: skip


def detail_json(msg: StoredMessage) -> dict[str, Any]:
    """Mailpit's message (``GET /api/v1/message/{ID}``); ``OSError`` when the file has gone."""
    d = msg.detail()
    s = d.summary
    links = [x.strip().strip("<>") for x in d.list_unsubscribe.split(",") if x.strip()]
    unsubscribe = {
        "Header": d.list_unsubscribe,
        "Links": links,
        "Errors": "",
        "HeaderPost": d.list_unsubscribe_post,
    }
    return {
        "ID": msg.id, "MessageID": s.message_id, "From": _from(s.from_), "To": [_addr(a) for a in s.to],
        "Cc": [_addr(a) for a in s.cc], "Bcc": [_addr(a) for a in s.bcc],
        "ReplyTo": [_addr(a) for a in s.reply_to], "ReturnPath": d.return_path or msg.mail_from,
        "Subject": s.subject,
        "ListUnsubscribe": unsubscribe, "Date": _iso(s.date or msg.created), "Tags": [], "Username": "",
        "Text": d.text, "HTML": d.html, "Size": msg.size, "Inline": [_part(p) for p in d.inline],
        "Attachments": [_part(p) for p in d.attachments],
    }  # fmt: skip


def _page_json(page: Page) -> dict[str, Any]:
    return {
        "total": page.total, "unread": page.unread, "count": len(page.messages),
        "messages_count": page.matched, "messages_unread": page.matched_unread, "start": page.start,
        "tags": [], "messages": [summary_json(m) for m in page.messages],
    }  # fmt: skip


# -- helpers ------------------------------------------------------------------------------------
def inbox_of(request: Request | WebSocket) -> Inbox:
    inbox: Inbox | None = getattr(request.app.state, "inbox", None)
    if inbox is None:
        raise ApiError(404, "this simulator runs without an inbox")
    return inbox


def _int(request: Request, name: str, default: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number (got {raw[:40]!r})") from None
    if not 0 <= value <= hi:
        raise ApiError(400, f"{name} must be between 0 and {hi}")
    return value


async def json_body(request: Request, *, empty: Any = None) -> Any:
    """The request's JSON body (``empty`` when there is none); 400 when it is not JSON."""
    body = await request.body()
    if len(body) > MAX_BODY:
        raise ApiError(413, f"the request body is over {MAX_BODY} bytes")
    if not body.strip():
        return empty
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the request body is not valid JSON ({exc})") from None


def _ids(data: Any) -> list[str] | None:
    """The ``IDs`` of a body (``None``: every message)."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ApiError(400, 'the body must be a JSON object like {"IDs": ["..."]}')
    ids = data.get("IDs")
    if ids is None or ids == []:
        return None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ApiError(400, "IDs must be a list of message IDs (strings)")
    return ids


def message_or_404(request: Request, message_id: str) -> StoredMessage:
    msg = inbox_of(request).get(message_id)
    if msg is None:
        raise ApiError(404, f"message {message_id[:64]!r} not found")
    return msg


def _query(request: Request) -> str:
    query = request.query_params.get("query")
    if query is None:
        raise ApiError(400, "query is missing: /api/v1/search?query=to:someone@example.test")
    return query


# -- routes -------------------------------------------------------------------------------------
@router.get("/api/v1/info")
async def info(request: Request) -> dict[str, Any]:
    inbox = inbox_of(request)
    started = getattr(request.app.state, "started", time.monotonic())
    sim = request.app.state.simulator
    rejected = sum(v for k, v in sim.counter_set.total.items() if k != "accepted")
    return {
        "Version": VERSION, "LatestVersion": VERSION, "Database": str(sim.maildir or ""),
        "DatabaseSize": inbox.accepted_bytes, "Messages": len(inbox), "Unread": inbox.unread, "Tags": {},
        "RuntimeStats": {
            "Uptime": int(time.monotonic() - started), "Memory": 0, "MessagesDeleted": inbox.deleted,
            "SMTPAccepted": inbox.accepted, "SMTPAcceptedSize": inbox.accepted_bytes,
            "SMTPRejected": rejected, "SMTPIgnored": 0,
        },
    }  # fmt: skip


@router.get("/api/v1/webui")
async def webui(request: Request) -> dict[str, Any]:
    relay = {"Enabled": False, "SMTPServer": "", "ReturnPath": "", "AllowedRecipients": "",
             "BlockedRecipients": "", "OverrideFrom": "", "PreserveMessageIDs": False}  # fmt: skip
    return {
        "Label": "mailfate simulator", "MessageRelay": relay, "SpamAssassin": False,
        "ChaosEnabled": True, "DuplicatesIgnored": False, "HideDeleteAllButton": False,
    }  # fmt: skip


@router.get("/api/v1/messages")
async def list_messages(request: Request) -> JSONResponse:
    inbox = inbox_of(request)
    return JSONResponse(
        _page_json(inbox.list(_int(request, "start", 0, 10**9), _int(request, "limit", 50, MAX_LIMIT)))
    )


@router.put("/api/v1/messages")
async def set_read(request: Request) -> PlainTextResponse:
    inbox = inbox_of(request)
    data = await json_body(request, empty={})
    ids = _ids(data)
    read = data.get("Read", False) if isinstance(data, dict) else False
    if not isinstance(read, bool):
        raise ApiError(400, "Read must be true or false")
    search = data.get("Search") if isinstance(data, dict) else None
    if isinstance(search, str) and search.strip() and ids is None:
        try:
            ids = [m.id for m in inbox.search(search, 0, 0).messages]
        except QueryError as exc:
            raise ApiError(400, str(exc)) from None
    inbox.mark_read(ids, read)
    return PlainTextResponse("ok")


@router.delete("/api/v1/messages")
async def delete_messages(request: Request) -> PlainTextResponse:
    inbox = inbox_of(request)
    inbox.delete(_ids(await json_body(request)))
    return PlainTextResponse("ok")


@router.get("/api/v1/search")
async def search(request: Request) -> JSONResponse:
    inbox = inbox_of(request)
    start, limit = _int(request, "start", 0, 10**9), _int(request, "limit", 50, MAX_LIMIT)
    try:
        return JSONResponse(_page_json(inbox.search(_query(request), start, limit)))
    except QueryError as exc:
        raise ApiError(400, str(exc)) from None


@router.delete("/api/v1/search")
async def delete_search(request: Request) -> PlainTextResponse:
    inbox = inbox_of(request)
    try:
        inbox.delete_search(_query(request))
    except QueryError as exc:
        raise ApiError(400, str(exc)) from None
    return PlainTextResponse("ok")


@router.get("/api/v1/message/{message_id}")
async def message(request: Request, message_id: str) -> JSONResponse:
    msg = message_or_404(request, message_id)
    try:
        data = detail_json(msg)
    except OSError:
        raise ApiError(404, f"message {message_id[:64]!r}: its file has gone from the maildir") from None
    inbox_of(request).mark_read([msg.id])
    return JSONResponse(data)


@router.get("/api/v1/message/{message_id}/raw")
async def raw(request: Request, message_id: str) -> Response:
    msg = message_or_404(request, message_id)
    try:
        content = msg.raw()
    except OSError:
        raise ApiError(404, f"message {message_id[:64]!r}: its file has gone from the maildir") from None
    return Response(content, media_type="text/plain; charset=utf-8")


@router.get("/api/v1/message/{message_id}/headers")
async def headers(request: Request, message_id: str) -> dict[str, list[str]]:
    msg = message_or_404(request, message_id)
    try:
        pairs = msg.detail().headers
    except OSError:
        raise ApiError(404, f"message {message_id[:64]!r}: its file has gone from the maildir") from None
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


@router.get("/api/v1/message/{message_id}/part/{part_id}")
async def part(request: Request, message_id: str, part_id: str) -> Response:
    msg = message_or_404(request, message_id)
    try:
        found = msg.part(part_id)
    except OSError:
        found = None
    if found is None:
        raise ApiError(404, f"part {part_id[:32]!r} of message {message_id[:64]!r} not found")
    info, data = found
    headers = {}
    if info.filename:
        safe = info.filename.replace('"', "").replace("\\", "").replace("\r", "").replace("\n", "")
        headers["Content-Disposition"] = f'filename="{safe.encode("ascii", "replace").decode()}"'
    return Response(data, media_type=info.content_type, headers=headers)


VIEW_CSP = "sandbox; default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'; font-src data:"
"""The mail's HTML runs nothing and loads nothing from the network."""


@router.get("/view/{message_id}.html")
async def view_html(request: Request, message_id: str) -> Response:
    """Mailpit's rendered HTML part (sandboxed by CSP: no scripts, no remote content)."""
    msg = message_or_404(request, message_id)
    try:
        html = msg.detail().html
    except OSError:
        raise ApiError(404, f"message {message_id[:64]!r}: its file has gone from the maildir") from None
    headers = {"Content-Security-Policy": VIEW_CSP, "X-Content-Type-Options": "nosniff"}
    return Response(html, media_type="text/html; charset=utf-8", headers=headers)


@router.get("/view/{message_id}.txt")
async def view_text(request: Request, message_id: str) -> PlainTextResponse:
    """Mailpit's text part."""
    msg = message_or_404(request, message_id)
    try:
        return PlainTextResponse(msg.detail().text)
    except OSError:
        raise ApiError(404, f"message {message_id[:64]!r}: its file has gone from the maildir") from None


@router.get("/api/v1/tags")
async def tags() -> list[str]:
    return []


def _chaos(request: Request) -> Chaos:
    chaos: Chaos = request.app.state.simulator.chaos
    return chaos


@router.get("/api/v1/chaos")
async def get_chaos(request: Request) -> dict[str, Any]:
    return _chaos(request).to_json()


@router.put("/api/v1/chaos")
async def put_chaos(request: Request) -> dict[str, Any]:
    chaos = _chaos(request)
    try:
        chaos.set(await json_body(request, empty={}))
    except RuleError as exc:
        raise ApiError(400, str(exc)) from None
    return chaos.to_json()


# -- events -------------------------------------------------------------------------------------
def event_json(event: InboxEvent) -> dict[str, Any]:
    if event.type == "new" and event.message is not None:
        return {"Type": "new", "Data": summary_json(event.message)}
    return {"Type": event.type, "Data": event.data or None}


@router.websocket("/api/events")
async def events(websocket: WebSocket) -> None:
    inbox: Inbox | None = getattr(websocket.app.state, "inbox", None)
    await websocket.accept()
    if inbox is None:
        await websocket.close(code=1011, reason="this simulator runs without an inbox")
        return
    queue = inbox.subscribe()
    reader = asyncio.create_task(_drain(websocket))
    try:
        while not reader.done():
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break
            await websocket.send_json(event_json(getter.result()))
            if queue.empty():
                stats = {"Total": len(inbox), "Unread": inbox.unread, "Version": VERSION}
                await websocket.send_json({"Type": "stats", "Data": stats})
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        inbox.unsubscribe(queue)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, until it goes away."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            message = await websocket.receive()
            if message.get("type") == "websocket.disconnect":
                return


def error_response(exc: ApiError) -> PlainTextResponse:
    return PlainTextResponse(exc.message, status_code=exc.status)
