"""Signing in and out: ``/login`` (the form and its POST) and ``POST /logout``.

The sign-in checks the key in the store and sets a session cookie (HttpOnly, SameSite=Strict,
Secure over https) that names the key and is signed with its stored hash, never the key itself
(:mod:`mailfate.web.session`). Both POSTs refuse a request another site made the browser send
(``Sec-Fetch-Site``, else ``Origin``/``Referer``): no page elsewhere can sign a browser in with an
attacker's key or out of its session.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from mailfate.store.keys import hash_key
from mailfate.web import i18n
from mailfate.web.deps import PageDep, StoreDep, may_read
from mailfate.web.rendering import PAGE_HEADERS
from mailfate.web.session import LEGACY_COOKIE, SESSION_COOKIE, SESSION_SECONDS, cross_site, sign_session

__all__ = ["router", "safe_next"]

router = APIRouter()


@router.get("/login")
async def login_form(page: PageDep, next: str = "/") -> Response:
    return page.render("login.html", "login", next=safe_next(next), failed=False)


@router.post("/login")
async def login(request: Request, page: PageDep, store: StoreDep) -> Response:
    if cross_site(request):
        return _refuse_cross_site(request, page.lang)
    form = parse_qs((await request.body())[:4096].decode("utf-8", "replace"))
    key = (form.get("key") or [""])[0][:200].strip()
    next = (form.get("next") or ["/"])[0]
    # from the store, not the API's cache: a key revoked a moment ago does not sign in
    found = await asyncio.to_thread(store.keys.find_key, key) if key else None
    if found is None or not may_read(found):
        refused = page.render("login.html", "login", next=safe_next(next), failed=True)
        refused.status_code = 401
        return refused
    response = RedirectResponse(safe_next(next), status_code=303)
    _drop_cookies(response, request, LEGACY_COOKIE)  # the raw key older versions kept
    response.set_cookie(
        SESSION_COOKIE,
        sign_session(found.id, hash_key(key), now=time.time()),
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
async def logout(request: Request, page: PageDep) -> Response:
    if cross_site(request):
        return _refuse_cross_site(request, page.lang)
    response = RedirectResponse("/login", status_code=303)
    _drop_cookies(response, request, SESSION_COOKIE, LEGACY_COOKIE)
    return response


def _refuse_cross_site(request: Request, lang: str) -> Response:
    """403 for a POST another site made the browser send (a forged sign-in or sign-out)."""
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"detail": i18n.text(lang, "cross_site")}, status_code=403, headers=PAGE_HEADERS)
    body = (
        f'<!doctype html><html lang="{lang}"><meta charset="utf-8"><title>403</title>'
        f"<p>{i18n.text(lang, 'cross_site')}</p></html>"
    )
    return HTMLResponse(body, status_code=403, headers=PAGE_HEADERS)


def _drop_cookies(response: Response, request: Request, *names: str) -> None:
    secure = request.url.scheme == "https"
    for name in names:
        response.delete_cookie(name, httponly=True, samesite="strict", secure=secure)


def safe_next(target: str) -> str:
    """Only a path on this site (no ``//host``, no scheme): the login cannot redirect elsewhere."""
    if (
        not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 33 or ord(c) == 127 for c in target)  # browsers drop tabs and newlines: /\t/evil
        or len(target) > 2000
    ):
        return "/"
    return target
