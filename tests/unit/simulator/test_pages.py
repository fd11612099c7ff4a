"""The web inbox's pages over a real :class:`~mailfate.simulator.inbox.Inbox` (no SMTP here):
what they list, escape, mark read, delete, frame, and say in English and Korean.

The router is mounted on a bare FastAPI app and called through httpx's ASGI transport.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st

from mailfate.simulator import pagetext
from mailfate.simulator.inbox import Attempt, Inbox, StoredMessage, TranscriptLine
from mailfate.simulator.pages import FRAME_HEADERS, inbox_router

T0 = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)
EVIL = "<script>alert(1)</script>"


def _app(inbox: Inbox | None) -> FastAPI:
    app = FastAPI()
    app.include_router(inbox_router(lambda: inbox, lambda: "127.0.0.1:1025"))
    return app


def call(app: FastAPI, method: str, url: str, **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            return await http.request(method, url, **kwargs)

    return asyncio.run(go())


def _add(inbox: Inbox, n: int, raw: bytes, rcpt: str = "x@accept.mailfate.test", **kw: Any) -> StoredMessage:
    return inbox.add(
        "accept.mailfate.test",
        f"Q{n}",
        raw,
        mail_from="app@app.example",
        rcpts=(rcpt,),
        created=T0 + timedelta(minutes=n),
        path=None,
        **kw,
    )


def _plain(subject: str, to: str = "x@accept.mailfate.test", body: str = "hello") -> bytes:
    msg = EmailMessage()
    msg["From"] = "App <app@app.example>"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    return bytes(msg)


def _html_with_attachment() -> bytes:
    msg = EmailMessage()
    msg["From"] = "App <app@app.example>"
    msg["To"] = "kim@accept.mailfate.test"
    msg["Subject"] = "Your code"
    msg["X-Evil"] = EVIL
    msg.set_content("Your code is 424242")
    msg.add_alternative(
        '<META HTTP-EQUIV="Refresh" CONTENT="0; url=http://127.0.0.1:9/">'
        '<p>Your code is <b>424242</b><img src="cid:logo@app"><img src="http://127.0.0.1:9/pixel.gif">'
        "<script>document.title='owned'</script></p>",
        subtype="html",
    )
    msg.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="invoice 1.pdf")
    return bytes(msg)


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr class="(?:read|unread)" data-id="([A-Za-z0-9]+)"', html)


def test_list_is_newest_first_unread_bold_and_escaped() -> None:
    inbox = Inbox()
    first = _add(inbox, 1, _plain(EVIL))
    second = _add(inbox, 2, _plain("인증 코드 123456", to="김 <kim@accept.mailfate.test>"))
    inbox.mark_read([first.id])
    page = call(_app(inbox), "GET", "/")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert _rows(page.text) == [second.id, first.id]
    assert f'<tr class="unread" data-id="{second.id}">' in page.text
    assert f'<tr class="read" data-id="{first.id}">' in page.text
    assert EVIL not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "인증 코드 123456" in page.text and ">김<" in page.text  # the display name in the list
    assert "2 in the inbox, 1 unread" in page.text


def test_search_uses_the_api_language_and_pages() -> None:
    inbox = Inbox()
    for n in range(60):
        _add(
            inbox,
            n,
            _plain(f"n{n}", to=f"u{n % 2}@accept.mailfate.test"),
            rcpt=f"u{n % 2}@accept.mailfate.test",
        )
    app = _app(inbox)
    first = call(app, "GET", "/", params={"q": "to:u1@accept.mailfate.test"})
    assert len(_rows(first.text)) == 30
    assert "1–30 of 30" in first.text and "Delete matching (30)" in first.text
    whole = call(app, "GET", "/")
    assert len(_rows(whole.text)) == 50 and "Older →" in whole.text and "1–50 of 60" in whole.text
    older = call(app, "GET", "/", params={"start": 50})
    assert len(_rows(older.text)) == 10 and "← Newer" in older.text
    beyond = call(app, "GET", "/", params={"start": 500})
    assert beyond.status_code == 200 and "Nothing on this page" in beyond.text
    assert call(app, "GET", "/", params={"q": "subject:n59 is:unread"}).text.count('class="unread"') == 1
    nothing = call(app, "GET", "/", params={"q": "subject:nope"})
    assert "No message matches “subject:nope”." in nothing.text


def test_a_bad_query_is_a_400_page_never_a_500() -> None:
    app = _app(Inbox())
    assert call(app, "GET", "/", params={"q": "is:sideways"}).status_code == 400
    huge = call(app, "GET", "/", params={"q": "x" * 20_000})
    assert huge.status_code == 400 and 'id="problem"' in huge.text
    assert call(app, "GET", "/", params={"start": -1}).status_code == 422
    assert call(app, "POST", "/delete", params={"q": "is:sideways"}).status_code == 400
    assert call(app, "GET", "/attempts", params={"to": "a" * 400}).status_code == 400


def test_opening_a_message_marks_it_read_and_shows_every_tab() -> None:
    inbox = Inbox()
    msg = _add(
        inbox,
        1,
        _html_with_attachment(),
        rcpt="kim@accept.mailfate.test",
        transcript=(
            TranscriptLine(T0.timestamp(), "C", f"RCPT TO:<kim@accept.mailfate.test> {EVIL}"),
            TranscriptLine(T0.timestamp() + 0.01, "S", "250 2.1.5 ok", "accept", "known <user>"),
        ),
    )
    app = _app(inbox)
    assert inbox.unread == 1
    page = call(app, "GET", f"/view/{msg.id}")
    assert page.status_code == 200 and inbox.unread == 0
    assert 'aria-current="page">HTML' in page.text.replace("\n", "")  # HTML first when there is some
    frame = re.search(r"<iframe[^>]*>", page.text)
    assert frame is not None
    sandbox = re.search(r'sandbox="([^"]*)"', frame.group(0))
    assert sandbox is not None
    assert "allow-scripts" not in sandbox.group(1) and "allow-same-origin" not in sandbox.group(1)
    assert "invoice 1.pdf" in page.text and f"/view/{msg.id}/part/" in page.text
    tabs = {
        tab: call(app, "GET", f"/view/{msg.id}", params={"tab": tab}).text
        for tab in ("text", "headers", "raw", "transcript")
    }
    assert "Your code is 424242" in tabs["text"]
    assert "X-Evil" in tabs["headers"] and EVIL not in tabs["headers"]
    assert "Content-Transfer-Encoding" in tabs["raw"] and EVIL not in tabs["raw"]
    assert "250 2.1.5 ok" in tabs["transcript"] and "known &lt;user&gt;" in tabs["transcript"]
    assert EVIL not in tabs["transcript"]


def test_the_html_route_lets_nothing_run_or_load_from_elsewhere() -> None:
    inbox = Inbox()
    msg = _add(inbox, 1, _html_with_attachment())
    answer = call(_app(inbox), "GET", f"/view/{msg.id}/html")
    assert answer.status_code == 200
    csp = answer.headers["content-security-policy"]
    assert csp == FRAME_HEADERS["Content-Security-Policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp and "sandbox" in csp
    assert "allow-scripts" not in csp and "allow-same-origin" not in csp
    assert "img-src 'self' data:" in csp  # http://127.0.0.1:9/pixel.gif is refused by the browser
    assert answer.text.startswith('<base target="_blank">')
    assert "refresh" not in answer.text.lower()
    assert "cid:logo@app" in answer.text  # no part with that Content-ID: the reference is left alone
    assert call(_app(inbox), "GET", "/view/nope/html").status_code == 404


def test_cid_images_point_at_the_part_route() -> None:
    msg = EmailMessage()
    msg["Subject"] = "logo"
    msg.set_content("x")
    msg.add_alternative('<img src="cid:logo@app">', subtype="html")
    html_part = msg.get_body(("html",))
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(b"GIF89a", maintype="image", subtype="gif", cid="<logo@app>")
    inbox = Inbox()
    stored = _add(inbox, 1, bytes(msg))
    app = _app(inbox)
    body = call(app, "GET", f"/view/{stored.id}/html").text
    found = re.search(rf'src="(/view/{stored.id}/part/[0-9.]+)"', body)
    assert found is not None
    image = call(app, "GET", found.group(1))
    assert (
        image.status_code == 200
        and image.headers["content-type"] == "image/gif"
        and image.content == b"GIF89a"
    )


def test_downloads_and_unknown_ids() -> None:
    inbox = Inbox()
    msg = _add(inbox, 1, _html_with_attachment())
    app = _app(inbox)
    raw = call(app, "GET", f"/view/{msg.id}/raw")
    assert raw.status_code == 200 and raw.content == msg.raw()
    assert raw.headers["content-disposition"].startswith("attachment;")
    page = call(app, "GET", f"/view/{msg.id}").text
    part = re.search(rf'href="(/view/{msg.id}/part/[0-9.]+)"', page)
    assert part is not None
    pdf = call(app, "GET", part.group(1))
    assert pdf.content == b"%PDF-1.4 fake"
    assert pdf.headers["content-type"] == "application/octet-stream"
    assert "filename*=UTF-8''invoice%201.pdf" in pdf.headers["content-disposition"]
    for url in (
        "/view/nope",
        "/view/..%2F..%2Fetc",
        f"/view/{msg.id}/part/99",
        f"/view/{msg.id}/part/x",
        "/view/nope/raw",
    ):
        assert call(app, "GET", url).status_code == 404, url
    assert "No such message" in call(app, "GET", "/view/nope").text


def test_failed_attempts_beside_the_message_and_on_their_page() -> None:
    inbox = Inbox()
    msg = _add(inbox, 1, _plain("hi", to="kim@naver.test"), rcpt="kim@naver.test")

    def attempt(rcpt: str, code: int, outcome: str, minutes: int) -> Attempt:
        text = f"{code} 4.7.1 try again <later>" if code < 500 else f"{code} 5.1.1 unknown"
        return Attempt(
            T0 + timedelta(minutes=minutes), "s", "127.0.0.1", "h", "app@app.example", rcpt, "rcpt", code,
            text[4:9], text, outcome, "greylist" if code < 500 else "unknown-users", "why <not>",
        )  # fmt: skip

    inbox.record(
        [attempt("kim@naver.test", 451, "deferred", 0), attempt("lee@naver.test", 550, "rejected", 1)]
    )
    inbox.record([attempt("kim@naver.test", 250, "accepted", 2)])
    app = _app(inbox)
    tab = call(app, "GET", f"/view/{msg.id}", params={"tab": "attempts"}).text
    assert "451 4.7.1 try again &lt;later&gt;" in tab and "550 5.1.1" not in tab
    assert 'class="badge bad">1<' in tab
    every = call(app, "GET", "/attempts").text
    assert every.index("lee@naver.test") < every.index("kim@naver.test")  # newest first
    assert "250" not in re.sub(r"<head>.*</head>", "", every, flags=re.S).split("<tbody>")[1]
    only = call(app, "GET", "/attempts", params={"to": "LEE@"}).text
    assert "lee@naver.test" in only and "kim@naver.test" not in only
    assert "why &lt;not&gt;" in only


def test_delete_one_matching_and_all() -> None:
    inbox = Inbox()
    a = _add(inbox, 1, _plain("keep"))
    b = _add(inbox, 2, _plain("drop me"))
    _add(inbox, 3, _plain("drop me too"))
    app = _app(inbox)
    gone = call(app, "POST", f"/view/{a.id}/delete")
    assert gone.status_code == 303 and gone.headers["location"] == "/"
    assert inbox.get(a.id) is None and len(inbox) == 2
    call(app, "POST", "/delete", params={"q": "subject:drop"})
    assert len(inbox) == 0 and inbox.get(b.id) is None
    _add(inbox, 4, _plain("again"))
    assert call(app, "POST", "/delete").status_code == 303 and len(inbox) == 0
    assert call(app, "GET", "/delete").status_code == 405
    assert "No mail yet. Send some to SMTP 127.0.0.1:1025" in call(app, "GET", "/").text


def test_a_delete_posted_from_another_site_is_refused() -> None:
    inbox = Inbox()
    msg = _add(inbox, 1, _plain("keep me"))
    app = _app(inbox)
    evil = {"Origin": "http://evil.example"}
    assert call(app, "POST", "/delete", headers=evil).status_code == 403
    assert call(app, "POST", f"/view/{msg.id}/delete", headers=evil).status_code == 403
    assert call(app, "POST", "/delete", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert len(inbox) == 1
    assert call(app, "POST", f"/view/{msg.id}/delete", headers={"Origin": "http://t"}).status_code == 303
    assert len(inbox) == 0


def test_latest_opens_the_newest_message() -> None:
    inbox = Inbox()
    _add(inbox, 1, _plain("older"))
    _add(inbox, 2, _plain("newest one"))
    page = call(_app(inbox), "GET", "/view/latest", params={"tab": "text"})
    assert page.status_code == 200 and "newest one" in page.text


def test_korean_from_the_query_the_cookie_or_the_browser() -> None:
    inbox = Inbox()
    subject = "=?euc-kr?B?wM7B9SDE2rXl?="  # 인증 코드 in EUC-KR
    raw = f"From: a@app.example\r\nTo: x@accept.mailfate.test\r\nSubject: {subject}\r\n\r\nx\r\n".encode()
    msg = _add(inbox, 1, raw)
    app = _app(inbox)
    ko = call(app, "GET", "/", params={"lang": "ko"})
    assert '<html lang="ko">' in ko.text and "받은 메일" in ko.text and "인증 코드" in ko.text
    assert ko.cookies.get("mailfate_sim_lang") == "ko"
    assert '<html lang="ko">' in call(app, "GET", "/", headers={"Cookie": "mailfate_sim_lang=ko"}).text
    browser = call(app, "GET", f"/view/{msg.id}", headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.8"})
    assert "텍스트" in browser.text and "원본" in browser.text
    english = call(app, "GET", "/", headers={"Accept-Language": "en-US,ko;q=0.5"})
    assert '<html lang="en">' in english.text
    assert 'href="/?lang=en"' in ko.text  # the switch keeps the page


def test_every_label_in_both_languages() -> None:
    for key in pagetext.label_keys():
        en, ko = pagetext.text("en", key), pagetext.text("ko", key)
        assert en and ko, key
        assert re.findall(r"{\w+}", en) == sorted(
            re.findall(r"{\w+}", ko), key=re.findall(r"{\w+}", en).index
        ), key


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_accept_language_never_fails(value: str) -> None:
    assert pagetext.pick_lang(None, None, value) in pagetext.LANGS


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_any_query_is_a_page_or_a_400(q: str) -> None:
    inbox = Inbox()
    _add(inbox, 1, _plain("x"))
    answer = call(_app(inbox), "GET", "/", params={"q": q})
    assert answer.status_code in (200, 400)


def test_with_the_inbox_off_the_pages_are_empty_not_broken() -> None:
    app = _app(None)
    assert call(app, "GET", "/").status_code == 200
    assert call(app, "GET", "/attempts").status_code == 200
    assert call(app, "GET", "/view/abc").status_code == 404


def test_static_files_and_nothing_else() -> None:
    app = _app(Inbox())
    css = call(app, "GET", "/_inbox/static/inbox.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "url(http" not in css.text and "@import" not in css.text  # nothing from elsewhere
    assert call(app, "GET", "/_inbox/static/inbox.js").status_code == 200
    assert call(app, "GET", "/_inbox/static/..%2Fpages.py").status_code == 404
