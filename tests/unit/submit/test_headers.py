"""Header fields as written by compose: injection never adds a field, text round-trips exactly,
every line stays within 998 octets, addresses are punycoded (or UTF-8 when they must be)."""

from __future__ import annotations

import email
import email.policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailfate.errors import InputError
from mailfate.submit.addresses import validate_address
from mailfate.submit.compose import Composed, compose

SENDER = "no-reply@app.example"
ALWAYS = ["from", "to", "subject", "date", "message-id", "mime-version"]
SINGLE_PART = ["content-type", "content-transfer-encoding"]


def modern(c: Composed) -> EmailMessage:
    msg = email.message_from_string(c.raw.decode("utf-8"), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def decoded(msg: Message, name: str) -> str:
    return str(make_header(decode_header(str(msg[name]).replace("\r\n", ""))))


def assert_wire_form(c: Composed) -> None:
    lines = c.raw.split(b"\r\n")
    assert max(len(line) for line in lines) <= 998
    assert b"\r" not in c.raw.replace(b"\r\n", b"") and b"\n" not in c.raw.replace(b"\r\n", b"")


@settings(max_examples=200, deadline=None)
@given(
    subject=st.text(max_size=300),
    name=st.text(max_size=60),
    value=st.text(max_size=300),
    ref=st.text(alphabet=st.characters(codec="ascii"), max_size=100),
)
def test_arbitrary_text_fails_cleanly_or_round_trips_without_a_new_field(
    subject: str, name: str, value: str, ref: str
) -> None:
    try:
        c = compose(
            from_=f"{name} <{SENDER}>",
            to="kim@naver.test",
            subject=subject,
            text="x",
            headers={"X-Value": value, "References": ref},
        )
    except InputError:
        return
    assert_wire_form(c)
    assert c.raw.isascii()
    old = email.message_from_bytes(c.raw, policy=email.policy.compat32)
    assert sorted(k.lower() for k in old) == sorted([*ALWAYS, *SINGLE_PART, "x-value", "references"])
    assert old.get_all("Bcc") is None and len(old.get_all("To") or []) == 1
    assert decoded(old, "Subject") == subject
    assert decoded(old, "X-Value") == value
    assert str(old["References"]).replace("\r\n", "") == ref.strip()
    ((display, addr),) = getaddresses([str(old["From"]).replace("\r\n", "")])
    assert addr == SENDER
    if name.strip() and not name.strip().startswith('"'):
        assert str(make_header(decode_header(display))) == name.strip()
    msg = modern(c)
    assert msg["Subject"] == subject or (subject != subject.strip() and msg["Subject"] == subject.strip())
    assert msg["From"].addresses[0].addr_spec == SENDER


@settings(max_examples=100, deadline=None)
@given(key=st.text(min_size=1, max_size=30), value=st.text(alphabet="abc xyz", max_size=20))
def test_an_extra_field_name_is_one_field_or_refused(key: str, value: str) -> None:
    try:
        c = compose(from_=SENDER, to="kim@naver.test", subject="s", text="x", headers={key: value})
    except InputError:
        return
    old = email.message_from_bytes(c.raw, policy=email.policy.compat32)
    assert sorted(k.lower() for k in old) == sorted([*ALWAYS, *SINGLE_PART, key.lower()])
    assert key.lower() not in ALWAYS and not key.lower().startswith("content-")


@settings(max_examples=100, deadline=None)
@given(tags=st.lists(st.text(max_size=70), max_size=22))
def test_tags_are_one_field_or_refused(tags: list[str]) -> None:
    try:
        c = compose(from_=SENDER, to="kim@naver.test", subject="s", text="x", tags=tags)
    except InputError:
        return
    old = email.message_from_bytes(c.raw, policy=email.policy.compat32)
    assert len(tags) <= 20 and c.tags == tuple(tags)
    if tags:
        assert str(old["X-Mailfate-Tags"]).replace("\r\n", "").split(" ") == tags
    assert sorted(k.lower() for k in old) == sorted(
        [*ALWAYS, *SINGLE_PART, *(["x-mailfate-tags"] if tags else [])]
    )


@settings(max_examples=100, deadline=None)
@given(code=st.text(max_size=40), app=st.text(max_size=40))
def test_template_variables_cannot_add_a_field(code: str, app: str) -> None:
    try:
        c = compose(
            from_=SENDER,
            to="kim@naver.test",
            template="verification-code",
            variables={"code": code, "app_name": app},
        )
    except InputError:
        return
    assert_wire_form(c)
    old = email.message_from_bytes(c.raw, policy=email.policy.compat32)
    assert sorted(k.lower() for k in old) == sorted([*ALWAYS, "content-type"])
    assert decoded(old, "Subject") == c.subject == f"Your {app} verification code: {code}"


def test_a_newline_at_the_end_of_a_variable_is_refused_not_stripped() -> None:
    with pytest.raises(InputError, match="one line"):
        compose(from_=SENDER, to="k@n.test", template="verification-code", variables={"code": "1\n"})
    with pytest.raises(InputError, match="header injection"):
        compose(from_=SENDER, to="k@n.test", subject="s\u2028Bcc: x@y.test", text="x")


def test_korean_subject_and_names_round_trip() -> None:
    c = compose(
        from_="'김철수' 고객센터 <help@app.example>",
        to="kim@naver.test",
        subject="[가나다] 주문하신 상품이 발송되었습니다 — 1234",
        text="x",
        reply_to="상담 창구 <desk@app.example>",
    )
    assert c.raw.isascii()
    old = email.message_from_bytes(c.raw, policy=email.policy.compat32)
    assert decoded(old, "Subject") == "[가나다] 주문하신 상품이 발송되었습니다 — 1234"
    ((name, addr),) = getaddresses([str(old["From"])])
    assert (str(make_header(decode_header(name))), addr) == ("'김철수' 고객센터", "help@app.example")
    assert modern(c)["Reply-To"].addresses[0].display_name == "상담 창구"


def test_a_thousand_recipients_fold_into_short_lines() -> None:
    to = [f"user{i}@example{i % 7}.test" for i in range(1000)]
    c = compose(from_=SENDER, to=to, subject="s", text="x")
    assert_wire_form(c)
    assert max(len(line) for line in c.raw.split(b"\r\n\r\n")[0].split(b"\r\n")) <= 78
    assert [a.addr_spec for a in modern(c)["To"].addresses] == to


def test_long_words_are_encoded_or_refused_never_over_998() -> None:
    c = compose(from_=SENDER, to="k@n.test", subject="a" * 3000, text="x", headers={"X-Id": "b" * 5000})
    assert_wire_form(c)
    assert modern(c)["Subject"] == "a" * 3000 and modern(c)["X-Id"] == "b" * 5000
    with pytest.raises(InputError, match="References"):
        compose(from_=SENDER, to="k@n.test", subject="s", text="x", headers={"References": "<" + "c" * 2000})
    with pytest.raises(InputError, match="printable ASCII"):
        compose(from_=SENDER, to="k@n.test", subject="s", text="x", headers={"In-Reply-To": "<가@x.test>"})


def test_idn_domains_are_punycoded_and_utf8_local_parts_kept() -> None:
    assert validate_address("Kim@한국.TEST") == "Kim@xn--3e0b707e.test"
    c = compose(from_="앱 <no-reply@앱.test>", to="kim@한국.test", subject="s", text="x")
    assert c.recipients == ("kim@xn--3e0b707e.test",) and c.from_addr == "no-reply@xn--rf5b.test"
    assert c.raw.isascii() and c.header_message_id.endswith("@xn--rf5b.test>")
    utf8 = compose(from_="홍길동@한국.test", to=["홍길동@한국.test", "kim@x.test"], subject="s", text="x")
    assert utf8.recipients == ("홍길동@한국.test", "kim@x.test")  # needs SMTPUTF8
    assert [a.username for a in modern(utf8)["To"].addresses] == ["홍길동", "kim"]
    assert utf8.header_message_id.endswith("@xn--3e0b707e.test>")


def test_invalid_addresses_are_named_with_the_reason() -> None:
    with pytest.raises(InputError, match=r"x{20}.*too long"):
        validate_address("x" * 300 + "@x.test")
    with pytest.raises(InputError, match=r"from:.*no-at-sign"):
        compose(from_="App <no-at-sign>", to="k@n.test", subject="s", text="x")
    with pytest.raises(InputError, match=r"a b@x\.test"):
        compose(from_=SENDER, to="ok@x.test, a b@x.test", subject="s", text="x")
    assert validate_address("someone@mx.mailfate.test") == "someone@mx.mailfate.test"


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ({"headers": {"Reply-To": "a@x.test"}, "reply_to": "b@x.test"}, "Reply-To"),
        ({"headers": {"X-A": "1", "x-a": "2"}}, "twice"),
        ({"headers": {"List-Unsubscribe": "<https://x.test/u>"}}, "set by mailfate"),
        ({"headers": {"ARC-Seal": "i=1"}}, "set by mailfate"),
        ({"headers": {"Resent-To": "a@x.test"}}, "set by mailfate"),
        ({"tags": "one-string"}, "list"),
        ({"list_unsubscribe": "https://x.test/u, <mailto:u @x.test>"}, "URL"),
    ],
)
def test_conflicting_or_protected_fields_are_refused(extra: dict[str, Any], match: str) -> None:
    with pytest.raises(InputError, match=match):
        compose(from_=SENDER, to="k@n.test", subject="s", text="x", **extra)


def test_allowed_extra_fields_go_through() -> None:
    allowed = {
        "Reply-To": "Desk <desk@app.example>",
        "Auto-Submitted": "auto-generated",
        "Precedence": "bulk",
        "Feedback-ID": "signup:kr:mailfate",
        "In-Reply-To": "<a@app.example>",
        "References": "<a@app.example> <b@app.example>",
        "X-Campaign": "welcome",
        "List-Id": "<news.app.example>",
    }
    msg = modern(compose(from_=SENDER, to="k@n.test", subject="s", text="x", headers=allowed))
    assert {k: str(msg[k]) for k in allowed} == {**allowed, "Reply-To": "Desk <desk@app.example>"}


def test_marketing_with_a_mailto_and_an_https_unsubscribe() -> None:
    c = compose(
        from_=SENDER,
        to="k@n.test",
        subject="(광고) 할인",
        text="x",
        category="marketing",
        list_unsubscribe="<mailto:u@app.example>, <https://app.example/u/1>",
    )
    msg = modern(c)
    assert msg["List-Unsubscribe"] == "<mailto:u@app.example>, <https://app.example/u/1>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    mailto = modern(
        compose(from_=SENDER, to="k@n.test", subject="s", text="x", list_unsubscribe="mailto:u@app.example")
    )
    assert mailto["List-Unsubscribe-Post"] is None
    assert modern(compose(from_=SENDER, to="k@n.test", subject="s", text="x", category="marketing"))


def test_user_templates_overlay_the_packaged_ones_and_are_sandboxed(tmp_path: Path) -> None:
    (tmp_path / "verification-code.en.subject.txt").write_text("Code {{ code }} for {{ app_name }}\n")
    (tmp_path / "notice.en.subject.txt").write_text("Notice\n")
    (tmp_path / "notice.en.text.txt").write_text("Hello {{ who }}\n")
    (tmp_path / "evil.en.subject.txt").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}\n")
    (tmp_path / "evil.en.text.txt").write_text("x\n")
    base: dict[str, Any] = {"from_": SENDER, "to": "k@n.test", "template_dirs": [tmp_path]}
    over = compose(**base, template="verification-code", variables={"code": "1", "app_name": "A"})
    assert over.subject == "Code 1 for A" and modern(over).get_body(("html",)) is not None
    notice = modern(compose(**base, template="notice", variables={"who": "<b>"}))
    assert notice.get_content_type() == "text/plain" and notice.get_content().rstrip() == "Hello <b>"
    with pytest.raises(InputError, match="who"):
        compose(**base, template="notice")
    with pytest.raises(InputError, match="evil"):
        compose(**base, template="evil")
    with pytest.raises(InputError, match=r"no language 'fr' \(it has: en, ko\)"):
        compose(**base, template="verification-code", lang="fr", variables={"code": "1"})
    with pytest.raises(InputError):
        compose(**base, template="../etc/passwd")
