"""``/messages``, the search (50 a page, newest first, cursor paging), and ``/messages/{id}``, one
message's recipients and timeline with every reply as the receiver said it and what it means."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, Response

from mailfate.model import MessageQuery
from mailfate.model.simulated import SIMULATED_LABEL
from mailfate.tracking.timeline import steps
from mailfate.web.deps import PageDep, SenderDep, StoreDep, Viewer

__all__ = ["FATES", "MESSAGE_ID", "router"]

router = APIRouter()
FATES = ("queued", "sending", "deferred", "delivered", "bounced", "expired", "suppressed", "rejected",
         "complained", "autoreplied")  # fmt: skip
MESSAGE_ID = re.compile(r"^m[0-9a-z]{26}$")
"""A message id as the store makes them; anything else is never looked up."""


@router.get("/messages")
async def messages_page(  # noqa: PLR0917 - one query parameter per filter
    page: PageDep,
    viewer: Viewer,
    store: StoreDep,
    q: Annotated[str, Query(max_length=320)] = "",
    domain: Annotated[str, Query(max_length=255)] = "",
    fate: str = "",
    reason: Annotated[str, Query(max_length=32)] = "",
    tag: Annotated[str, Query(max_length=64)] = "",
    cursor: Annotated[str, Query(max_length=27)] = "",
) -> Response:
    if viewer is None:
        return page.to_login()
    q = q.strip()
    if MESSAGE_ID.match(q):  # an id goes straight to its message
        return RedirectResponse(f"/messages/{q}", status_code=303)
    items, nxt = await asyncio.to_thread(
        lambda: store.messages.search_messages(
            MessageQuery(
                recipient=q or None,
                domain=domain.strip() or None,
                fate=fate if fate in FATES else None,
                reason=reason.strip() or None,
                tag=tag.strip() or None,
                cursor=cursor if MESSAGE_ID.match(cursor) else None,
                limit=50,
            )
        )
    )
    query = {"q": q, "domain": domain, "fate": fate, "reason": reason, "tag": tag}
    return page.render(
        "messages.html",
        "messages",
        items=items,
        next_cursor=nxt,
        query=query,
        fates=FATES,
        next_query="&".join(f"{k}={quote(v, safe='')}" for k, v in query.items() if v),
    )


@router.get("/messages/{message_id}")
async def message_page(
    page: PageDep, viewer: Viewer, store: StoreDep, sender: SenderDep, message_id: str
) -> Response:
    if viewer is None:
        return page.to_login()
    view = (
        await asyncio.to_thread(store.messages.message, message_id) if MESSAGE_ID.match(message_id) else None
    )
    if view is None:
        response = page.render("message.html", "messages", view=None, rows=[])
        response.status_code = 404
        return response
    rows = steps(list(view.events), sender)
    answered = {s.event.recipient_id for s in rows if s.simulated}  # the simulator answered them
    label = SIMULATED_LABEL.get(page.lang, SIMULATED_LABEL["en"])
    return page.render(
        "message.html", "messages", view=view, rows=rows, answered=answered, simulated_label=label
    )
