"""The dashboard over HTTP, served by a real ``mailfate serve``: sign-in, every page, Korean,
escaping, the live feed, and what it refuses."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.e2e.web.conftest import wait_for


def page(dashboard: dict[str, Any], path: str, **headers: str) -> httpx.Response:
    client: httpx.Client = dashboard["read"]
    return client.get(path, headers=headers)


def test_pages_need_a_read_key_and_sign_in_sets_a_strict_cookie(dashboard: dict[str, Any]) -> None:
    with httpx.Client(base_url=dashboard["url"], timeout=20) as anon:
        first = anon.get("/domains?window=1h")
        assert first.status_code == 303
        assert first.headers["location"] == "/login?next=%2Fdomains%3Fwindow%3D1h"
        assert anon.get("/live/events").status_code == 401
        wrong = anon.post("/login", data={"key": "mf_nope", "next": "/"})
        assert wrong.status_code == 401 and "unknown" in wrong.text
        send_only = anon.post("/login", data={"key": dashboard["keys"]["send"], "next": "/"})
        assert send_only.status_code == 401  # a key that may send but not read sees nothing
        for elsewhere in ("//evil.example/x", "/\t/evil.example", "https://evil.example", "/\\evil.example"):
            ok = anon.post("/login", data={"key": dashboard["keys"]["read"], "next": elsewhere})
            assert ok.status_code == 303 and ok.headers["location"] == "/"  # never off-site
        inside = anon.post("/login", data={"key": dashboard["keys"]["read"], "next": "/domains?window=7d"})
        assert inside.headers["location"] == "/domains?window=7d"
        cookie = ok.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert anon.get("/").status_code == 200  # the cookie now
        anon.post("/logout")
        assert anon.get("/").status_code == 303


def test_overview_counts_rates_and_chart(dashboard: dict[str, Any]) -> None:
    def counted() -> str | None:
        html = page(dashboard, "/").text
        found = re.search(r'data-kind="delivered">(\d+)<', html)
        return html if found and int(found.group(1)) >= 3 else None

    html = wait_for(counted, what="the rollups to count the deliveries")
    response = page(dashboard, "/")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert re.search(r'data-kind="hard">1<', html)
    assert 'id="bounce-rate">25.00%<' in html  # 1 hard bounce of 4 sent
    assert "<svg" in html and 'data-series="delivered"' in html
    assert "SES pause" in html


def test_receivers_search_timeline_suppressions_and_alerts(dashboard: dict[str, Any]) -> None:
    def listed() -> str | None:
        html = page(dashboard, "/domains").text
        return html if "accept.mailfate.test" in html else None

    domains = wait_for(listed, what="the receivers table")
    assert "simulator.mailfate.test" in domains
    found = page(dashboard, "/messages?q=ok2%40accept.mailfate.test").text
    mid = dashboard["ids"]["ok2@accept.mailfate.test"]
    assert f"/messages/{mid}" in found and dashboard["ids"]["ok1@accept.mailfate.test"] not in found
    assert "<script>alert(1)</script>" not in found and "&lt;script&gt;" in found
    jump = page(dashboard, f"/messages?q={mid}")  # an id goes straight to the message
    assert jump.status_code == 303 and jump.headers["location"] == f"/messages/{mid}"
    bounced = page(dashboard, f"/messages/{dashboard['ids']['bounce@simulator.mailfate.test']}").text
    assert "550" in bounced and "the mailbox does not exist" in bounced
    assert page(dashboard, "/messages/mzzzzzzzzzzzzzzzzzzzzzzzzzz").status_code == 404
    assert page(dashboard, "/messages/../../etc/passwd").status_code == 404
    injected = page(dashboard, "/messages?q=%27%20OR%201%3D1%20--&fate=bounced%27--&domain=%25")
    assert injected.status_code == 200 and "/messages/m" not in injected.text
    by_fate = page(dashboard, "/messages?fate=bounced").text
    assert dashboard["ids"]["bounce@simulator.mailfate.test"] in by_fate
    assert dashboard["ids"]["ok1@accept.mailfate.test"] not in by_fate
    assert "bounce@simulator.mailfate.test" in page(dashboard, "/suppressions").text
    assert "No threshold is crossed" in page(dashboard, "/alerts").text


def test_korean_by_choice_by_cookie_and_by_browser(dashboard: dict[str, Any]) -> None:
    chosen = page(dashboard, "/?lang=ko")
    assert "개요" in chosen.text and 'lang="ko"' in chosen.text
    assert "mailfate_lang=ko" in chosen.headers["set-cookie"]
    assert "수신 도메인" in page(dashboard, "/domains").text  # remembered
    dashboard["read"].cookies.clear()
    assert "수신 도메인" in page(dashboard, "/domains", **{"Accept-Language": "ko-KR,ko;q=0.9"}).text
    assert "Receivers" in page(dashboard, "/domains", **{"Accept-Language": "en-US"}).text
    bounced = page(dashboard, f"/messages/{dashboard['ids']['bounce@simulator.mailfate.test']}?lang=ko").text
    assert "존재하지 않는 메일함" in bounced
    dashboard["read"].cookies.clear()


def test_live_feed_returns_only_newer_events(dashboard: dict[str, Any]) -> None:
    events = page(dashboard, "/events").text
    newest = int(re.search(r'data-newest="(\d+)"', events).group(1))  # type: ignore[union-attr]
    assert newest > 0
    assert page(dashboard, f"/live/events?after={newest}").json() == []
    answer = dashboard["send"].post(
        "/v1/messages",
        json={
            "from": "no-reply@app.example",
            "to": ["live@accept.mailfate.test"],
            "subject": "s",
            "text": "t",
        },
    )
    mid = answer.json()["message_id"]
    fresh = wait_for(
        lambda: [e for e in page(dashboard, f"/live/events?after={newest}").json() if e["message_id"] == mid],
        what="the new message's events",
    )
    assert fresh[0]["type"] == "queued" and all(e["id"] > newest for e in fresh)
    assert page(dashboard, "/live/events?after=-1").status_code == 422
    assert page(dashboard, "/static/../dashboard.py").status_code == 404


def test_the_postmaster_inquiry_from_a_message_and_from_a_receiver(dashboard: dict[str, Any]) -> None:
    bounced = dashboard["ids"]["bounce@simulator.mailfate.test"]
    page_html = page(dashboard, f"/messages/{bounced}").text
    assert f'href="/messages/{bounced}/inquiry?lang=en"' in page_html
    letter = page(dashboard, f"/messages/{bounced}/inquiry?lang=ko")
    assert letter.status_code == 200 and "주소 삭제 필요" in letter.text
    assert "script-src" not in letter.headers["content-security-policy"]  # styles only, never a script
    assert "&lt;bounce@simulator.mailfate.test&gt;" in letter.text  # the receiver's reply, escaped
    md = page(dashboard, f"/messages/{bounced}/inquiry?format=md")
    assert md.headers["content-type"].startswith("text/markdown") and md.text.startswith("# Remove ")
    assert page(dashboard, "/messages/mzzzzzzzzzzzzzzzzzzzzzzzzzz/inquiry").status_code == 404
    receiver = page(dashboard, "/domains/simulator.mailfate.test/inquiry")
    assert receiver.status_code == 200 and "no letter is written" in receiver.text  # a dead address
    assert page(dashboard, "/domains/accept.mailfate.test/inquiry").status_code == 404  # nothing to ask
    assert page(dashboard, "/domains/%3Cscript%3E/inquiry").status_code == 422
    with httpx.Client(base_url=dashboard["url"], timeout=20) as anon:
        assert anon.get(f"/messages/{bounced}/inquiry").status_code == 303  # sign in first
