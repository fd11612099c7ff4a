"""``/events``, the newest events, and ``/live/events``, the JSON its script polls for newer ones."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from mailfate.model import Event
from mailfate.web import i18n
from mailfate.web.deps import PageDep, StoreDep, Viewer

__all__ = ["router"]

router = APIRouter()
_CURSOR = re.compile(r"^[0-9]{1,19}$")
_MAX_CURSOR = 2**63  # event ids are signed 64-bit integers in the store
_NO_STORE = {"Cache-Control": "no-store"}


@router.get("/events")
async def events_page(page: PageDep, viewer: Viewer, store: StoreDep) -> Response:
    if viewer is None:
        return page.to_login()
    evs = await asyncio.to_thread(lambda: store.messages.recent_events(limit=100))
    return page.render("events.html", "events", events=evs, newest=evs[0].id if evs else 0)


@router.get("/live/events")
async def live_events(
    page: PageDep, viewer: Viewer, store: StoreDep, after: Annotated[str, Query(max_length=40)] = "0"
) -> Response:
    """New events as JSON for the live page's script (oldest first); ``after`` is an event id."""
    if viewer is None:
        return JSONResponse({"detail": "sign in"}, status_code=401)
    # a plain decimal below 2^63, else a 422: never an overflow in the database
    cursor = int(after) if _CURSOR.fullmatch(after) else _MAX_CURSOR
    if cursor >= _MAX_CURSOR:
        return JSONResponse(
            {"detail": f"after: an event id, 0 to {_MAX_CURSOR - 1}"}, status_code=422, headers=_NO_STORE
        )
    evs = await asyncio.to_thread(lambda: store.messages.recent_events(after_id=cursor, limit=100))
    return JSONResponse([_live(e, page.lang) for e in reversed(evs)], headers=_NO_STORE)


def _live(e: Event, lang: str) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": f"{e.at:%Y-%m-%d %H:%M:%S}",
        "message_id": e.message_id,
        "recipient": e.recipient,
        "type": e.type,
        "outcome": str(e.data.get("outcome") or ""),
        "reason": str(e.data.get("reason") or ""),
        "meaning": i18n.meaning(lang, str(e.data.get("cause") or e.data.get("reason") or "")),
    }
