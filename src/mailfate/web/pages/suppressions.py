"""``/suppressions``: the suppression list (address, sending domain, reason, since, detail)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import Response

from mailfate.web.deps import PageDep, StoreDep, Viewer

__all__ = ["router"]

router = APIRouter()


@router.get("/suppressions")
async def suppressions_page(page: PageDep, viewer: Viewer, store: StoreDep) -> Response:
    if viewer is None:
        return page.to_login()
    items = await asyncio.to_thread(lambda: store.suppressions.suppressions(limit=500))
    return page.render("suppressions.html", "suppressions", items=items)
