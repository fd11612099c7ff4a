"""``/static/{name}``: the dashboard's one stylesheet and one script, nothing else from that folder."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from mailfate.web.rendering import STATIC

__all__ = ["router"]

router = APIRouter()
_FILES = {"dashboard.css": "text/css", "dashboard.js": "text/javascript"}


@router.get("/static/{name}")
async def static(name: str) -> Response:
    media = _FILES.get(name)
    if media is None:  # a name, never a path: /static/../dashboard.py is a 404
        return Response(status_code=404)
    return FileResponse(STATIC / name, media_type=media, headers={"Cache-Control": "max-age=300"})
