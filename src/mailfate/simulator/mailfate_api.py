"""What Mailpit cannot say, under ``/api/v1/mailfate/`` on the simulator's control port.

``GET /api/v1/mailfate/message/{ID}/transcript``
    ``{"ID", "MailFrom", "Rcpts", "Domain", "QueueID", "Transcript": [{"At", "Direction", "Line",
    "Personality", "Why"}]}``: the SMTP session of the message's transaction.
``GET /api/v1/mailfate/attempts?to=ADDRESS&limit=N``
    ``{"Attempts": [...], "Count"}``: every attempt (one per recipient per transaction, accepted
    or not), oldest first; all recipients without ``to``.
``GET|PUT|DELETE /api/v1/mailfate/rules``
    The run-time rules (:mod:`mailfate.simulator.rules`): PUT replaces them with a JSON list,
    DELETE removes them; both answer ``{"Rules": [...]}``.
``GET /api/v1/mailfate/wait?to=ADDRESS&timeout=S&code=true&pattern=RE``
    Waits (at most ``timeout`` seconds, ≤ 300) for the newest unread message to the address,
    marks it read and answers ``{"ID", "Code", "Message": <summary>}`` (``Code`` only with
    ``code=true``: ``null`` when none is found); ``408`` on timeout. See :mod:`mailfate.simulator.waiting`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request

from mailfate.simulator.mailpit import ApiError, inbox_of, json_body, message_or_404, summary_json
from mailfate.simulator.rules import RuleBook, RuleError
from mailfate.simulator.waiting import find_code, newest_for

__all__ = ["router"]

MAX_WAIT = 300.0
router = APIRouter(prefix="/api/v1/mailfate")


@router.get("/message/{message_id}/transcript")
async def transcript(request: Request, message_id: str) -> dict[str, Any]:
    msg = message_or_404(request, message_id)
    return {
        "ID": msg.id, "MailFrom": msg.mail_from, "Rcpts": list(msg.rcpts), "Domain": msg.domain,
        "QueueID": msg.queue_id, "Transcript": [line.to_json() for line in msg.transcript],
    }  # fmt: skip


@router.get("/attempts")
async def attempts(request: Request) -> dict[str, Any]:
    inbox = inbox_of(request)
    to = request.query_params.get("to") or None
    if to is not None and len(to) > 320:
        raise ApiError(400, "to must be one address (at most 320 characters)")
    raw_limit = request.query_params.get("limit") or "0"
    if not raw_limit.isdigit() or int(raw_limit) > 1_000_000:
        raise ApiError(400, "limit must be a whole number between 0 and 1000000")
    found = inbox.attempts(to, int(raw_limit) or None)
    return {"Attempts": [a.to_json() for a in found], "Count": len(found)}


def _rules(request: Request) -> RuleBook:
    book: RuleBook = request.app.state.simulator.rules
    return book


@router.get("/rules")
async def get_rules(request: Request) -> dict[str, Any]:
    return {"Rules": [r.to_json() for r in _rules(request).rules]}


@router.put("/rules")
async def put_rules(request: Request) -> dict[str, Any]:
    book = _rules(request)
    try:
        rules = book.set(await json_body(request))
    except RuleError as exc:
        raise ApiError(400, str(exc)) from None
    return {"Rules": [r.to_json() for r in rules]}


@router.delete("/rules")
async def delete_rules(request: Request) -> dict[str, Any]:
    _rules(request).clear()
    return {"Rules": []}


def _wait_params(request: Request) -> tuple[str, float, bool, re.Pattern[str] | None, datetime | None]:
    q = request.query_params
    to = (q.get("to") or "").strip()
    if not to or len(to) > 320 or "@" not in to:
        raise ApiError(400, "to must be an address: /api/v1/mailfate/wait?to=alice@example.test")
    try:
        timeout = float(q.get("timeout") or "10")
    except ValueError:
        raise ApiError(400, "timeout must be a number of seconds") from None
    if not 0 <= timeout <= MAX_WAIT:
        raise ApiError(400, f"timeout must be between 0 and {MAX_WAIT:g} seconds")
    code = (q.get("code") or "").lower() in {"1", "true", "yes"}
    pattern = None
    if q.get("pattern"):
        if len(q["pattern"]) > 200:
            raise ApiError(400, "pattern must be at most 200 characters")
        try:
            pattern = re.compile(q["pattern"])
        except re.error as exc:
            raise ApiError(400, f"pattern is not a regular expression: {exc}") from None
    since = None
    if q.get("since"):
        try:
            since = datetime.fromisoformat(q["since"].replace("Z", "+00:00"))
        except ValueError:
            raise ApiError(400, "since must be an ISO 8601 time like 2026-12-06T08:00:00Z") from None
        if since.tzinfo is None:
            raise ApiError(400, "since must carry a time zone (Z or +09:00)")
    return to, timeout, code, pattern, since


@router.get("/wait")
async def wait(request: Request) -> dict[str, Any]:
    inbox = inbox_of(request)
    to, timeout, want_code, pattern, since = _wait_params(request)
    deadline = time.monotonic() + timeout
    queue = inbox.subscribe()
    try:
        while True:
            msg = newest_for(inbox, to, since=since)
            if msg is not None:
                inbox.mark_read([msg.id])
                found = None
                if want_code:
                    try:
                        found = find_code(msg.detail(), pattern.pattern if pattern else None)
                    except OSError:
                        found = None
                    if found is None:
                        continue
                return {"ID": msg.id, "Code": found, "Message": summary_json(msg)}
            left = deadline - time.monotonic()
            if left <= 0:
                what = "unread message with a code" if want_code else "unread message"
                raise ApiError(408, f"no {what} for {to} after {timeout:g} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(queue.get(), left)
    finally:
        inbox.unsubscribe(queue)
