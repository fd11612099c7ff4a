"""Composing messages: valid addresses only, header injection impossible, templates in ko and en."""

from __future__ import annotations

import base64
import email
import email.policy
import time
from email.header import decode_header, make_header

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailfate.errors import InputError
from mailfate.submit.addresses import parse_recipients, validate_address
from mailfate.submit.compose import compose

BASE = {"from_": "no-reply@app.example", "to": "kim@naver.test", "subject": "Hello", "text": "body"}


def parsed(raw: bytes) -> email.message.Message:
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def header(raw: bytes, name: str) -> str:
    return str(make_header(decode_header(parsed(raw)[name])))


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_verification_code_template_puts_the_code_everywhere(lang: str) -> None:
    c = compose(
        from_="앱 <no-reply@app.example>",
        to="kim@naver.test",
        template="verification-code",
        variables={"code": "428913", "app_name": "가나다" if lang == "ko" else "Acme"},
        lang=lang,
    )
    msg = email.message_from_bytes(c.raw, policy=email.policy.default)
    assert "428913" in c.subject and (
        "인증번호" in c.subject if lang == "ko" else "verification code" in c.subject
    )
    assert msg["From"].addresses[0].display_name == "앱"
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "428913" in text and "428913" in html
    assert ("10분" in text) if lang == "ko" else ("10 minutes" in text)
    assert c.raw.count(b"\r\n") > 5 and b"\n" not in c.raw.replace(b"\r\n", b"")


def test_html_variables_are_escaped_and_missing_ones_are_named() -> None:
    c = compose(
        from_="no-reply@app.example",
        to="kim@naver.test",
        template="verification-code",
        variables={"code": "<script>alert(1)</script>"},
    )
    html = email.message_from_bytes(c.raw, policy=email.policy.default).get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html and "&lt;script&gt;" in html
    with pytest.raises(InputError, match="code"):
        compose(from_="no-reply@app.example", to="kim@naver.test", template="verification-code", variables={})
    with pytest.raises(InputError, match="one line"):
        compose(
            from_="no-reply@app.example",
            to="k@n.test",
            template="verification-code",
            variables={"code": "1\nBcc: x@y.test"},
        )


@pytest.mark.parametrize(
    "bad",
    [
        {"subject": "hi\r\nBcc: victim@evil.test"},
        {"subject": "hi\nBcc: victim@evil.test"},
        {"from_": "App <a@app.example>\r\nBcc: victim@evil.test"},
        {"to": "kim@naver.test\r\nBcc: victim@evil.test"},
        {"headers": {"X-Ref": "1\r\nBcc: victim@evil.test"}},
        {"headers": {"Bcc": "victim@evil.test"}},
        {"headers": {"Content-Type": "text/html"}},
        {"headers": {"X Bad Name": "1"}},
        {"tags": ["ok", "bad tag"]},
        {"reply_to": "a@b.test\nBcc: c@d.test"},
        {"subject": "nul\x00byte"},
    ],
)
def test_header_injection_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(InputError):
        compose(**{**BASE, **bad})  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(subject=st.text(max_size=200), value=st.text(max_size=200), name=st.text(max_size=40))
def test_any_text_either_fails_cleanly_or_adds_no_header(subject: str, value: str, name: str) -> None:
    try:
        c = compose(
            from_=f"{name} <no-reply@app.example>",
            to="kim@naver.test",
            subject=subject,
            text="x",
            headers={"X-Value": value},
        )
    except InputError:
        return
    keys = [k.lower() for k in parsed(c.raw)]
    assert sorted(keys) == sorted(
        [
            "from",
            "to",
            "subject",
            "date",
            "message-id",
            "x-value",
            "mime-version",
            "content-type",
            "content-transfer-encoding",
        ]
    )
    assert header(c.raw, "Subject") == subject or not subject.strip()


def test_addresses() -> None:
    assert validate_address("Kim@Naver.TEST") == "Kim@naver.test"
    assert parse_recipients("a@x.test, a@X.TEST ,b@y.test") == ("a@x.test", "b@y.test")
    assert validate_address("홍길동@한국.test").endswith("@한국.test")
    for bad in ("", "no-at-sign", "a b@x.test", "a@", "x" * 65 + "@x.test", "a@b.invalid", "a@localhost"):
        with pytest.raises(InputError):
            validate_address(bad)
    with pytest.raises(InputError, match="1000"):
        parse_recipients([f"u{i}@x.test" for i in range(1001)])


@pytest.mark.parametrize("line", ["가나다 " * 40 + "\n", "a" * 60_000_000])
def test_a_60_mb_body_composes_with_short_lines(line: str) -> None:
    body = line * (60_000_000 // len(line.encode()) + 1)
    started = time.perf_counter()
    c = compose(**{**BASE, "text": body})  # type: ignore[arg-type]
    print(f"60 MB body ({len(line)}-character lines) composed in {time.perf_counter() - started:.2f} s")
    assert len(c.raw) > 60_000_000
    assert max(len(line) for line in c.raw.split(b"\r\n")) <= 998
    assert b"Content-Transfer-Encoding: base64\r\n" in c.raw[:1000]
    assert base64.b64decode(c.raw.partition(b"\r\n\r\n")[2]) == body.encode()


def test_marketing_gets_one_click_unsubscribe() -> None:
    c = compose(**{**BASE, "category": "marketing", "list_unsubscribe": "https://app.example/u/1"})  # type: ignore[arg-type]
    msg = parsed(c.raw)
    assert msg["List-Unsubscribe"] == "<https://app.example/u/1>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    with pytest.raises(InputError):
        compose(**{**BASE, "category": "spam"})  # type: ignore[arg-type]
