"""The dashboard in a real headless Chromium (Debian's ``chromium``, driven by Playwright): sign in,
read the overview, search a message, open its timeline, watch the live feed, take screenshots.

Set ``MAILFATE_SCREENSHOTS=DIR`` to keep the screenshots (the README's picture comes from here)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.chromium import needs_chromium

pytestmark = needs_chromium


def shots(tmp_path: Path) -> Path:
    kept = os.environ.get("MAILFATE_SCREENSHOTS")
    out = Path(kept) if kept else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_sign_in_search_a_message_and_open_its_timeline(
    browser: Any, dashboard: dict[str, Any], tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-US")
    page.goto(dashboard["url"] + "/")
    assert page.url.startswith(dashboard["url"] + "/login")
    page.fill("#key", dashboard["keys"]["read"])
    page.click("form.login button")
    page.wait_for_url(dashboard["url"] + "/")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # the rollups are folded every 2 s: reload until they are in
        delivered = page.locator("[data-kind=delivered]").inner_text().replace(",", "")
        if int(delivered) >= 3:
            break
        time.sleep(0.2)
        page.reload()
    assert int(page.locator("[data-kind=delivered]").inner_text().replace(",", "")) >= 3
    assert page.locator("svg.chart rect").count() >= 2
    out = shots(tmp_path)
    page.screenshot(path=str(out / "dashboard-overview.png"), full_page=True)

    page.click("nav >> text=Messages")
    page.fill("input[name=q]", "bounce@simulator.mailfate.test")
    page.click("form.search button")
    rows = page.locator("#results tbody tr")
    assert rows.count() == 1
    assert "<script>" in rows.first.inner_text()  # shown as text, never run
    page.click("a.message-link")
    page.wait_for_selector("#timeline")
    assert page.locator("#fate").inner_text() == "bounced"
    timeline = page.locator("#timeline").inner_text()
    assert "550" in timeline and "the mailbox does not exist" in timeline
    page.screenshot(path=str(out / "dashboard-timeline.png"), full_page=True)

    page.click("text=한국어")
    assert page.locator("#fate").inner_text() == "반송됨"
    assert "존재하지 않는 메일함" in page.locator("#timeline").inner_text()
    page.screenshot(path=str(out / "dashboard-timeline-ko.png"), full_page=True)
    page.click("#inquiry")  # the letter to the receiver's postmaster, in Korean
    page.wait_for_selector("blockquote")
    assert "주소 삭제 필요" in page.locator("h1").inner_text()
    assert "550" in page.locator("blockquote").inner_text()
    page.screenshot(path=str(out / "inquiry-ko.png"), full_page=True)
    page.close()
    assert (out / "dashboard-overview.png").stat().st_size > 10_000


def test_live_events_appear_without_a_reload(browser: Any, dashboard: dict[str, Any]) -> None:
    context = browser.new_context(locale="en-US")
    signed = httpx.post(dashboard["url"] + "/login", data={"key": dashboard["keys"]["read"], "next": "/"})
    session = signed.cookies["mailfate_session"]  # a signed session, never the key itself
    context.add_cookies([{"name": "mailfate_session", "value": session, "url": dashboard["url"]}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(dashboard["url"] + "/events")
    before = page.locator("#events tbody tr").count()
    answer = dashboard["send"].post(
        "/v1/messages",
        json={
            "from": "no-reply@app.example",
            "to": ["watch@accept.mailfate.test"],
            "subject": "s",
            "text": "t",
        },
    )
    mid = answer.json()["message_id"]
    page.wait_for_selector(f"#events tbody tr a[href='/messages/{mid}']", timeout=20_000)
    assert page.locator("#events tbody tr").count() > before
    assert errors == []  # the strict CSP let the script run; nothing failed
    context.close()
