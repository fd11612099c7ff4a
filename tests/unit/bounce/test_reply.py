from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mailfate.bounce.reply import find_replycode, normalize_status, parse_reply


def test_multiline_reply() -> None:
    r = parse_reply(
        "452-4.2.2 The recipient's inbox is out of storage space.\r\n452 4.2.2 Please direct the"
        " recipient to https://support.example.org/answer"
    )
    assert (r.code, r.status) == ("452", "4.2.2")
    assert r.text.startswith("The recipient's inbox is out of storage space. Please direct")
    assert r.is_transient and not r.is_permanent


def test_status_normalization() -> None:
    assert normalize_status("smtp; 5.01.001 (x)") == "5.1.1"
    assert normalize_status("#5.1.1") == "5.1.1"
    assert normalize_status("version 1.2.3") == ""
    assert normalize_status("192.0.2.5.1.1") == ""


def test_replycode() -> None:
    assert find_replycode("550 5.1.1 user unknown") == "550"
    assert find_replycode("host said: 421 try later") == "421"
    assert find_replycode("no code here 12345") == ""


@given(st.text(max_size=300))
def test_parse_reply_never_raises(text: str) -> None:
    r = parse_reply(text)
    assert r.code == "" or (len(r.code) == 3 and r.code[0] in "245")
