"""The dashboard's routes: one ``APIRouter`` per page or resource, gathered in :data:`router`.

Every route is left out of the API's OpenAPI schema (``/v1/openapi.json`` documents the API only).
"""

from __future__ import annotations

from fastapi import APIRouter

from mailfate.web.pages import (
    alerts,
    domains,
    inquiry,
    live,
    login,
    messages,
    overview,
    static,
    suppressions,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
for _module in (static, login, overview, domains, live, messages, inquiry, suppressions, alerts):
    router.include_router(_module.router)
