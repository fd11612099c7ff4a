"""The simulator's web inbox in a real headless Chromium (Debian's ``chromium``, driven by
Playwright), against ``mailfate simulator run`` started as a process, with mail sent over SMTP:
list, search, a message's tabs (the HTML one sandboxed), the transcript, the failed attempts,
Korean, the live update, delete.

Set ``MAILFATE_SCREENSHOTS=DIR`` to keep the screenshots (``/tmp/inbox-shots`` when reviewing)."""

from __future__ import annotations

import base64
import email.policy
import http.server
import os
import smtplib
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.support.chromium import headless_chromium, needs_chromium
from tests.support.serve import running

pytestmark = needs_chromium

HTML = (
    "<meta http-equiv='refresh' content='0; url=http://127.0.0.1:{port}/refresh'>"
    "<link rel='stylesheet' href='http://127.0.0.1:{port}/style.css'>"
    "<h1 style='color:#1565c0'>Welcome!</h1><p>Your sign-up code is <b id='code'>424242</b>.</p>"
    "<p><a href='https://app.example/verify?c=424242'>Verify my address</a></p>"
    "<img src='http://127.0.0.1:{port}/pixel.gif' alt='tracking pixel'>"
    "<script>document.body.innerHTML = 'SCRIPT RAN'; fetch('http://127.0.0.1:{port}/script')</script>"
)


SCRIPT_ERRORS: list[str] = []


class _Pixel(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []  # noqa: RUF012 - shared by the server's handlers on purpose

    def do_GET(self) -> None:
        _Pixel.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.end_headers()
        self.wfile.write(b"GIF89a")

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def pixel() -> Iterator[int]:
    """A web server on 127.0.0.1 counting what asks it for something (remote images, scripts)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pixel)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    d = tmp_path_factory.mktemp("sim")
    args = ["simulator", "run", "--port", "0", "--greylist-delay", "1"]
    args += ["--maildir", str(d / "maildir"), "--journal", str(d / "j.jsonl")]
    with running(*args) as ready:
        url = ready.get("http_url") or ready.get("control_url")
        assert url, ready
        yield {"smtp": ready["smtp"]["port"], "url": url}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from headless_chromium()


def send(port: int, raw: bytes, rcpt: str, mail_from: str = "no-reply@app.example") -> None:
    with smtplib.SMTP("127.0.0.1", port, local_hostname="out.app.example", timeout=20) as smtp:
        smtp.sendmail(mail_from, [rcpt], raw)


def html_mail(pixel: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Sign-up <no-reply@app.example>"
    msg["To"] = "Kim Minji <kim@accept.mailfate.test>"
    msg["Subject"] = "Your sign-up code · 가입 인증 코드"
    msg.set_content("Your sign-up code is 424242.\n\nhttps://app.example/verify?c=424242\n")
    msg.add_alternative(HTML.format(port=pixel), subtype="html")
    msg.add_attachment(b"%PDF-1.4 terms", maintype="application", subtype="pdf", filename="이용약관.pdf")
    return msg.as_bytes(policy=email.policy.SMTP)


def euc_kr_mail() -> bytes:
    subject = base64.b64encode("비밀번호 재설정 안내".encode("euc-kr")).decode()
    body = "비밀번호 재설정 코드는 777777 입니다.\r\n".encode("euc-kr")
    head = (
        "From: =?euc-kr?B?{}?= <help@app.example>\r\nTo: lee@greylist.mailfate.test\r\n"
        "Subject: =?euc-kr?B?{}?=\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=euc-kr\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).format(base64.b64encode("고객센터".encode("euc-kr")).decode(), subject)
    return head.encode("ascii") + body


def plain_mail(subject: str, to: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "App <no-reply@app.example>"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content("hello")
    return msg.as_bytes(policy=email.policy.SMTP)


@pytest.fixture(scope="module")
def mail(simulator: dict[str, Any], pixel: int) -> dict[str, Any]:
    port = simulator["smtp"]
    send(
        port,
        plain_mail("<script>alert('subject')</script>", "park@accept.mailfate.test"),
        "park@accept.mailfate.test",
    )
    send(port, html_mail(pixel), "kim@accept.mailfate.test")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as greylisted:  # 451 4.7.1 the first time
        send(port, euc_kr_mail(), "lee@greylist.mailfate.test")
    assert greylisted.value.recipients["lee@greylist.mailfate.test"][0] == 451
    time.sleep(1.2)
    send(port, euc_kr_mail(), "lee@greylist.mailfate.test")  # the retry passes (delay 1 s)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(
            port,
            plain_mail("nobody", "nobody@unknown-users.mailfate.test"),
            "nobody@unknown-users.mailfate.test",
        )
    assert refused.value.recipients["nobody@unknown-users.mailfate.test"][0] == 550
    return {"port": port}


def shots(tmp_path: Path) -> Path:
    kept = os.environ.get("MAILFATE_SCREENSHOTS")
    out = Path(kept) if kept else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    return out


def _page(browser: Any, locale: str) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 860}, locale=locale)
    page.on(
        "dialog", lambda d: d.accept() if d.type == "confirm" else pytest.fail(f"a dialog ran: {d.message}")
    )
    page.on("pageerror", lambda e: SCRIPT_ERRORS.append(str(e)))  # the inbox's own script failing
    return page


def test_list_search_open_tabs_sandbox_and_transcript(
    browser: Any, simulator: dict[str, Any], mail: dict[str, Any], pixel: int, tmp_path: Path
) -> None:
    out = shots(tmp_path)
    page = _page(browser, "en-US")
    page.goto(simulator["url"] + "/")
    rows = page.locator("#messages tbody tr")
    assert rows.count() == 3
    assert "비밀번호 재설정 안내" in rows.nth(0).inner_text()  # newest first, EUC-KR decoded
    assert "<script>alert('subject')</script>" in rows.nth(2).inner_text()  # text, never run
    assert page.locator("#messages tr.unread").count() == 3
    assert rows.nth(1).locator("td.subject").evaluate("e => getComputedStyle(e).fontWeight") == "700"
    page.screenshot(path=str(out / "inbox-en.png"), full_page=True)

    page.fill("input[name=q]", "subject:code has:attachment")
    page.click("form.search button")
    assert page.locator("#messages tbody tr").count() == 1
    page.screenshot(path=str(out / "inbox-search-en.png"), full_page=True)
    page.click("#messages td.subject a")
    page.wait_for_selector("#html-frame")
    assert page.locator("#subject").inner_text() == "Your sign-up code · 가입 인증 코드"
    assert (
        page.locator("#html-frame").get_attribute("sandbox") == "allow-popups allow-popups-to-escape-sandbox"
    )
    frame = page.frame_locator("#html-frame")
    assert frame.locator("#code").inner_text() == "424242"
    assert "SCRIPT RAN" not in frame.locator("body").inner_text()
    assert "이용약관.pdf" in page.locator("#attachments").inner_text()
    time.sleep(0.5)
    assert _Pixel.hits == []  # neither the remote image nor the script's fetch reached out
    page.screenshot(path=str(out / "message-html-en.png"), full_page=True)

    page.click("#tabs >> text=Text")
    assert "Your sign-up code is 424242." in page.locator("#text").inner_text()
    page.click("#tabs >> text=Headers")
    assert "Content-Type" in page.locator("#headers").inner_text()
    page.click("#tabs >> text=Raw source")
    assert "Content-Transfer-Encoding" in page.locator("#raw").inner_text()
    page.click("#tabs >> text=SMTP transcript")
    transcript = page.locator("#transcript").inner_text()
    assert "rcpt to:<kim@accept.mailfate.test>" in transcript.lower() and "250" in transcript
    assert "accept" in transcript  # the personality that decided
    page.screenshot(path=str(out / "message-transcript-en.png"), full_page=True)

    page.click("a.back")
    page.fill("input[name=q]", "")
    page.click("form.search button")
    assert page.locator("#messages tr.unread").count() == 2  # opened: read now
    page.close()
    assert SCRIPT_ERRORS == []


def test_korean_greylisted_message_its_failed_attempt_and_the_attempts_page(
    browser: Any, simulator: dict[str, Any], mail: dict[str, Any], tmp_path: Path
) -> None:
    out = shots(tmp_path)
    page = _page(browser, "ko-KR")
    page.goto(simulator["url"] + "/")
    assert page.locator("h1").inner_text() == "받은 메일"
    page.screenshot(path=str(out / "inbox-ko.png"), full_page=True)
    page.click("text=비밀번호 재설정 안내")
    assert "777777" in page.locator("#text").inner_text()  # no HTML part: the text tab first
    page.click("#tabs >> text=실패한 시도")
    attempts = page.locator("#attempts").inner_text()
    assert "451" in attempts and "4.7.1" in attempts and "지연" in attempts and "greylist" in attempts
    page.screenshot(path=str(out / "message-attempts-ko.png"), full_page=True)
    page.click("#tabs >> text=SMTP 대화 기록")
    page.screenshot(path=str(out / "message-transcript-ko.png"), full_page=True)

    page.click("header nav >> text=실패한 시도")
    page.fill("input[name=to]", "unknown-users")
    page.click("form.search button")
    rows = page.locator("#attempts tbody tr")
    assert rows.count() == 1
    assert "550" in rows.first.inner_text() and "거부" in rows.first.inner_text()
    page.screenshot(path=str(out / "attempts-ko.png"), full_page=True)
    page.click("text=EN")
    assert "rejected" in page.locator("#attempts").inner_text()
    page.goto(simulator["url"] + "/attempts")
    page.screenshot(path=str(out / "attempts-en.png"), full_page=True)
    page.close()


def test_a_new_message_appears_without_a_reload_then_delete(
    browser: Any, simulator: dict[str, Any], mail: dict[str, Any], tmp_path: Path
) -> None:
    out = shots(tmp_path)
    page = _page(browser, "en-US")
    page.goto(simulator["url"] + "/")
    page.wait_for_selector("#live:not([hidden])")  # the websocket is open
    page.evaluate("window.__same_page = true")
    before = page.locator("#messages tbody tr").count()
    send(
        mail["port"], plain_mail("Fresh off the wire", "new@accept.mailfate.test"), "new@accept.mailfate.test"
    )
    page.wait_for_selector("#messages tbody tr.fresh", timeout=10_000)
    assert page.locator("#messages tbody tr").count() == before + 1
    assert "Fresh off the wire" in page.locator("#messages tbody tr").first.inner_text()
    assert page.evaluate("window.__same_page") is True  # no reload
    page.screenshot(path=str(out / "inbox-live-en.png"), full_page=True)

    page.click("text=Fresh off the wire")
    page.click("#delete")  # confirm() is accepted by the dialog handler
    page.wait_for_url(simulator["url"] + "/")
    assert "Fresh off the wire" not in page.locator("#inbox").inner_text()
    assert page.locator("#messages tbody tr").count() == before
    page.close()
    assert SCRIPT_ERRORS == []


def test_without_javascript_every_page_still_works(
    browser: Any, simulator: dict[str, Any], mail: dict[str, Any]
) -> None:
    context = browser.new_context(java_script_enabled=False, locale="en-US")
    page = context.new_page()
    page.goto(simulator["url"] + "/?q=subject:code")
    assert page.locator("noscript").count() == 1  # the list reloads itself every 15 s instead
    assert page.locator("#messages tbody tr").count() == 1
    page.click("#messages td.subject a")
    page.click("#tabs >> text=Headers")
    assert "Content-Type" in page.locator("#headers").inner_text()
    page.click("#tabs >> text=SMTP transcript")
    assert page.locator("#transcript tbody tr").count() > 5
    page.click("a.back")
    page.click("#delete-all")  # no confirm() without JavaScript: the form posts at once
    assert "No mail yet" in page.locator("#inbox").inner_text()
    context.close()
