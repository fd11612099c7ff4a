"""The dashboard's sign-in against a real ``mailfate serve``: cross-site POSTs refused, a session
cookie that is not the key (signed, expiring, ended by revoking the key), and a bounded live cursor."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from mailfate.store.keys import hash_key
from mailfate.web.session import SESSION_SECONDS, cross_site, parse_session, sign_session, valid_session
from tests.support.serve import mailfate

CROSS_SITE = (
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Sec-Fetch-Site": "cross-site", "Origin": "{url}"},  # Sec-Fetch-Site decides when sent
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Referer": "https://evil.example/page"},
    {"Origin": "{url}.evil.example"},
)


@contextlib.contextmanager
def sign_in(url: str, key: str, **headers: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=20) as client:
        answer = client.post("/login", data={"key": key, "next": "/"}, headers=headers)
        assert answer.status_code == 303, answer.text
        yield client


def new_read_key(dashboard: dict[str, Any]) -> str:
    made = mailfate("keys", "create", "--scope", "read", "--json", "--data-dir", str(dashboard["data"]))
    key: str = json.loads(made.stdout)["key"]
    return key


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_a_cross_site_sign_in_is_refused(dashboard: dict[str, Any], headers: dict[str, str]) -> None:
    sent = {k: v.format(url=dashboard["url"]) for k, v in headers.items()}
    with httpx.Client(base_url=dashboard["url"], timeout=20) as anon:
        answer = anon.post("/login", data={"key": dashboard["keys"]["read"], "next": "/"}, headers=sent)
        assert answer.status_code == 403
        assert "another site" in answer.text
        assert "set-cookie" not in answer.headers
        assert anon.get("/").status_code == 303  # not signed in
        as_json = anon.post("/login", data={"key": "k"}, headers={**sent, "Accept": "application/json"})
        assert as_json.status_code == 403 and "another site" in as_json.json()["detail"]


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_a_cross_site_sign_out_is_refused(dashboard: dict[str, Any], headers: dict[str, str]) -> None:
    sent = {k: v.format(url=dashboard["url"]) for k, v in headers.items()}
    with sign_in(dashboard["url"], dashboard["keys"]["read"]) as client:
        answer = client.post("/logout", headers=sent)
        assert answer.status_code == 403 and "set-cookie" not in answer.headers
        assert client.get("/").status_code == 200  # still signed in


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-origin", "Origin": "{url}"},
        {"Sec-Fetch-Site": "none"},
        {"Origin": "{url}"},
        {"Referer": "{url}/login?next=%2F"},
        {},  # no browser: a script, which has no cookie to abuse
    ],
)
def test_a_same_origin_sign_in_and_out_work(dashboard: dict[str, Any], headers: dict[str, str]) -> None:
    sent = {k: v.format(url=dashboard["url"]) for k, v in headers.items()}
    with sign_in(dashboard["url"], dashboard["keys"]["read"], **sent) as client:
        assert client.get("/").status_code == 200
        out = client.post("/logout", headers=sent)
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert client.get("/").status_code == 303


def test_behind_a_tls_proxy_the_origin_is_https_and_the_cookie_secure(dashboard: dict[str, Any]) -> None:
    https = dashboard["url"].replace("http://", "https://")
    proxied = {"X-Forwarded-Proto": "https"}  # uvicorn believes it from 127.0.0.1
    with httpx.Client(base_url=dashboard["url"], timeout=20) as anon:
        data = {"key": dashboard["keys"]["read"], "next": "/"}
        plain = anon.post("/login", data=data, headers={**proxied, "Origin": dashboard["url"]})
        assert plain.status_code == 403  # http://host is not the origin of https://host
        ok = anon.post("/login", data=data, headers={**proxied, "Origin": https})
        assert ok.status_code == 303
        assert "Secure" in ok.headers["set-cookie"]


def test_the_cookie_is_a_signed_session_not_the_key(dashboard: dict[str, Any]) -> None:
    key = dashboard["keys"]["read"]
    with httpx.Client(base_url=dashboard["url"], timeout=20) as anon:
        answer = anon.post("/login", data={"key": key, "next": "/"})
        headers = answer.headers.get_list("set-cookie")
        session = next(h for h in headers if h.startswith("mailfate_session="))
        assert key not in "".join(headers) and hash_key(key) not in "".join(headers)
        assert "HttpOnly" in session and "SameSite=strict" in session and "Secure" not in session
        assert f"Max-Age={SESSION_SECONDS}" in session
        value = answer.cookies["mailfate_session"]
        parsed = parse_session(value)
        assert parsed is not None
        assert abs(parsed.expires - (time.time() + SESSION_SECONDS)) < 60
        assert valid_session(parsed, hash_key(key), now=time.time())
        # the raw key older versions kept is dropped
        assert any(h.startswith('mailfate_key=""') and "Max-Age=0" in h for h in headers)


def test_forged_expired_and_legacy_cookies_are_refused(dashboard: dict[str, Any]) -> None:
    key = dashboard["keys"]["read"]
    with sign_in(dashboard["url"], key) as signed:
        real = signed.cookies["mailfate_session"]
    parsed = parse_session(real)
    assert parsed is not None
    now = time.time()

    def answers(name: str, value: str) -> int:
        with httpx.Client(base_url=dashboard["url"], timeout=20, cookies={name: value}) as client:
            page = client.get("/").status_code
            live = client.get("/live/events").status_code
            assert (page, live) in {(200, 200), (303, 401)}
            return page

    assert answers("mailfate_session", real) == 200
    made = sign_session(parsed.key_id, hash_key(key), now=now)  # how the server signs: accepted
    assert answers("mailfate_session", made) == 200
    refused = [
        f"{parsed.key_id}.{parsed.expires}.{'0' * 64}",  # a guessed MAC
        f"{parsed.key_id}.{parsed.expires + 1}.{parsed.mac}",  # a longer life, the old MAC
        f"{parsed.key_id + 1}.{parsed.expires}.{parsed.mac}",  # another key, the old MAC
        sign_session(parsed.key_id, hash_key(key), now=now - SESSION_SECONDS - 1),  # expired
        sign_session(parsed.key_id, hash_key(key), now=now, seconds=30 * 86400),  # too long
        sign_session(parsed.key_id, hash_key("mf_not_the_key"), now=now),  # not the key's hash
        sign_session(2**63, hash_key(key), now=now),
        sign_session(0, hash_key(key), now=now),
        real + "0",
        key,  # the raw key is no session
        "",
    ]
    for value in refused:
        assert answers("mailfate_session", value) == 303, value
    assert answers("mailfate_key", key) == 303  # the old raw-key cookie is not read any more


def test_revoking_the_key_ends_its_sessions(dashboard: dict[str, Any]) -> None:
    key = new_read_key(dashboard)
    with sign_in(dashboard["url"], key) as client:
        assert client.get("/").status_code == 200
        revoked = mailfate("keys", "revoke", key[:10], "--data-dir", str(dashboard["data"]))
        assert revoked.returncode == 0, revoked.stderr
        assert client.get("/").status_code == 303  # at once: the session reads the key by id
        assert client.get("/live/events").status_code == 401
        again = client.post("/login", data={"key": key, "next": "/"})
        assert again.status_code == 401 and "set-cookie" not in again.headers
        assert client.get("/").status_code == 303


@pytest.mark.parametrize(
    "after", [str(2**63), str(2**64), "9" * 40, "-1", "x", "", "1e3", "1.0", " 1", "0x10", "１２", "1_0"]
)
def test_the_live_cursor_is_bounded(dashboard: dict[str, Any], after: str) -> None:
    answer = dashboard["read"].get("/live/events", params={"after": after})
    assert answer.status_code == 422, answer.text


def test_the_largest_cursor_is_an_empty_page(dashboard: dict[str, Any]) -> None:
    answer = dashboard["read"].get("/live/events", params={"after": str(2**63 - 1)})
    assert answer.status_code == 200 and answer.json() == []
    assert dashboard["read"].get("/live/events", params={"after": "0"}).status_code == 200


def request(scheme: str, host: str, **headers: str) -> Request:
    raw = [(b"host", host.encode())] + [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    scope = {"type": "http", "method": "POST", "scheme": scheme, "path": "/login", "headers": raw}
    return Request(scope)


@pytest.mark.parametrize(
    ("scheme", "host", "headers", "refused"),
    [
        ("http", "127.0.0.1:8025", {"Origin": "http://127.0.0.1:8025"}, False),
        ("https", "dash.example", {"Origin": "https://DASH.example:443"}, False),
        ("https", "dash.example:443", {"Origin": "https://dash.example"}, False),
        ("http", "[::1]:8025", {"Referer": "http://[::1]:8025/login"}, False),
        ("https", "dash.example", {"Origin": "http://dash.example"}, True),
        ("https", "dash.example", {"Origin": "https://dash.example:8443"}, True),
        ("https", "dash.example", {"Origin": "https://dash.example.evil.example"}, True),
        ("https", "dash.example", {"Origin": "https://dash.example:99999"}, True),
        ("https", "dash.example", {"Origin": "javascript:alert(1)"}, True),
        ("https", "dash.example", {"Sec-Fetch-Site": "Same-Origin"}, False),
        ("https", "dash.example", {"Sec-Fetch-Site": "same-site", "Origin": "https://dash.example"}, True),
    ],
)
def test_cross_site(scheme: str, host: str, headers: dict[str, str], refused: bool) -> None:
    assert cross_site(request(scheme, host, **headers)) is refused
