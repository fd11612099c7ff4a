"""The dashboard's routes as mounted on an application: ``/receivers`` leads to ``/domains``, and no
dashboard route is in the API's OpenAPI schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from mailfate.model import ApiKey
from mailfate.store import Store
from mailfate.web.dashboard import mount_dashboard

ROUTES = {
    "static": "/static/{name}",
    "login_form": "/login",
    "login": "/login",
    "logout": "/logout",
    "overview_page": "/",
    "domains_page": "/domains",
    "receivers": "/receivers",
    "events_page": "/events",
    "live_events": "/live/events",
    "messages_page": "/messages",
    "message_page": "/messages/{message_id}",
    "message_letter": "/messages/{message_id}/inquiry",
    "domain_letter": "/domains/{domain}/inquiry",
    "suppressions_page": "/suppressions",
    "alerts_page": "/alerts",
}


def test_receivers_is_a_permanent_redirect_to_domains(dashboard: dict[str, Any]) -> None:
    with httpx.Client(base_url=dashboard["url"], timeout=20) as anon:
        bare = anon.get("/receivers")
        assert bare.status_code == 308 and bare.headers["location"] == "/domains"
        windowed = anon.get("/receivers?window=7d")
        assert windowed.status_code == 308 and windowed.headers["location"] == "/domains?window=7d"
        assert anon.post("/receivers").status_code == 405
    followed = dashboard["read"].get("/receivers?window=1h", follow_redirects=True)
    assert followed.status_code == 200 and followed.url.path == "/domains"
    assert 'href="/domains" aria-current="page"' in followed.text


def test_the_served_schema_documents_the_api_only(dashboard: dict[str, Any]) -> None:
    paths = dashboard["read"].get("/v1/openapi.json").json()["paths"]
    assert paths and all(p.startswith("/v1/") for p in paths)
    assert not set(ROUTES.values()) & set(paths)


def test_every_route_is_mounted_and_left_out_of_the_schema(tmp_path: Path) -> None:
    async def nobody(secret: str) -> ApiKey | None:
        return None

    app = FastAPI()

    @app.get("/v1/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    store = Store.open(str(tmp_path / "store.db"))
    try:
        mount_dashboard(app, store, nobody)
        for name, path in ROUTES.items():
            params = {p: "x" for p in ("name", "message_id", "domain") if f"{{{p}}}" in path}
            assert app.url_path_for(name, **params) == path.format(**params), name
        assert list(app.openapi()["paths"]) == ["/v1/health"]
    finally:
        store.close()
