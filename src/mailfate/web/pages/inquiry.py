"""The postmaster inquiry (``mailfate report``'s letter, without the DNS section) about one message,
``/messages/{id}/inquiry``, or about a receiver's deferrals and bounces, ``/domains/{domain}/inquiry``:
HTML in the page's language, or Markdown with ``?format=md``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, Response

from mailfate.doctor.inquiry import Inquiry, domain_inquiry, message_inquiry
from mailfate.doctor.inquiry_text import render as write_letter
from mailfate.web.deps import WINDOWS, PageDep, SenderDep, StoreDep, Viewer
from mailfate.web.pages.messages import MESSAGE_ID
from mailfate.web.rendering import LETTER_HEADERS

__all__ = ["router"]

router = APIRouter()
Format = Annotated[str, Query(alias="format")]


@router.get("/messages/{message_id}/inquiry")
async def message_letter(  # noqa: PLR0917 - the path, the format and the shared parts
    page: PageDep, viewer: Viewer, store: StoreDep, sender: SenderDep, message_id: str, fmt: Format = "html"
) -> Response:
    """The postmaster inquiry about this message (``mailfate report``; DNS is not asked here)."""
    if viewer is None:
        return page.to_login()
    if (
        not MESSAGE_ID.match(message_id)
        or await asyncio.to_thread(store.messages.message, message_id) is None
    ):
        return Response("no such message", status_code=404, media_type="text/plain")
    now = datetime.now(UTC)
    envelope = sender.envelope_domain  # alignment is computed from the envelope domain we send with
    built = await asyncio.to_thread(
        lambda: message_inquiry(store, message_id, now=now, envelope_domain=envelope)
    )
    return _letter(built, page.lang, fmt)


@router.get("/domains/{domain}/inquiry")
async def domain_letter(  # noqa: PLR0917 - the path, the format and the window
    page: PageDep,
    viewer: Viewer,
    store: StoreDep,
    sender: SenderDep,
    domain: Annotated[str, Path(max_length=255, pattern=r"^[A-Za-z0-9.-]+$")],
    fmt: Format = "html",
    window: str = "7d",
) -> Response:
    """The postmaster inquiry about every deferral and bounce to ``domain`` in the window."""
    if viewer is None:
        return page.to_login()
    now = datetime.now(UTC)
    since = now - WINDOWS.get(window, WINDOWS["7d"])
    envelope = sender.envelope_domain
    built = await asyncio.to_thread(
        lambda: domain_inquiry(store, domain, now=now, since=since, envelope_domain=envelope)
    )
    if not built.attempts:
        return Response(
            f"no deferral or bounce to {domain} in that window", status_code=404, media_type="text/plain"
        )
    return _letter(built, page.lang, fmt)


def _letter(inquiry: Inquiry, lang: str, fmt: str) -> Response:
    text = write_letter(inquiry, lang=lang, fmt="md" if fmt == "md" else "html")
    if fmt == "md":
        return Response(text, media_type="text/markdown; charset=utf-8", headers=LETTER_HEADERS)
    return HTMLResponse(text, headers=LETTER_HEADERS)
