"""The packaged reply texts render into valid SMTP replies, whatever a client sent.

RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets including the CRLF; replies are US-ASCII
(no SMTPUTF8 here). Fields such as ``{rcpt}`` and ``{helo}`` come from the client, so rendering
must keep them verbatim and never interpret them.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailfate.simulator.model import Reply

_DATA = resources.files("mailfate").joinpath("data", "simulator", "replies.toml").read_bytes()
_BOOKS: dict[str, Any] = tomllib.loads(_DATA.decode("utf-8"))
ALL = [("default", key, value) for key, value in _BOOKS["replies"].items()] + [
    (name, key, value)
    for name, preset in _BOOKS["presets"].items()
    for key, value in preset["replies"].items()
]
IDS = [f"{book}.{key}" for book, key, _ in ALL]
LONGEST = {
    "rcpt": "a-rather-long-local-part.with.dots+tag@" + "sub." * 10 + "example.test",
    "domain": "sub." * 10 + "example.test",
    "local_part": "a-rather-long-local-part.with.dots+tag",
    "mail_from": "bounces+0123456789abcdef@mail." + "sub." * 5 + "sender.example",
    "client_ip": "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
    "helo": "out-01.mail." + "sub." * 8 + "sender.example",
    "hostname": "mx.mailfate.test",
    "queue_id": "4XkP2m0Zq1z9AbCdEf",
    "detail": "SPF softfail for 2001:db8:ffff:ffff:ffff:ffff:ffff:ffff, DKIM fail (body hash did not "
    "verify), DMARC fail (p=reject)",
}


def _reply(value: dict[str, Any]) -> Reply:
    return Reply(
        code=value["code"], status=value["status"], text=value["text"], drop=value.get("drop", False)
    )


@pytest.mark.parametrize(("book", "key", "value"), ALL, ids=IDS)
def test_rendered_lines_are_valid_reply_lines(book: str, key: str, value: dict[str, Any]) -> None:
    wire = _reply(value).render(**LONGEST)
    lines = wire.split("\r\n")
    code = str(value["code"])
    for line in lines[:-1]:
        assert line.startswith(code + "-")
    assert lines[-1].startswith(code + " ")
    for line in lines:
        assert len(line.encode("ascii")) + 2 <= 512, line
        assert "\r" not in line and "\n" not in line
        assert line == line.rstrip()
    assert "{" not in wire and "}" not in wire, "every field is one the server or a personality fills"


@pytest.mark.parametrize(("book", "key", "value"), ALL, ids=IDS)
def test_texts_are_plain_ascii_without_stray_whitespace(book: str, key: str, value: dict[str, Any]) -> None:
    text = value["text"]
    assert text.isascii()
    assert "\t" not in text and "\r" not in text
    assert not re.search(r"\n\s*\n", text), "no empty line inside a multi-line reply"
    assert text == text.strip()


_FIELD_TEXT = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=60)


@settings(max_examples=200, deadline=None)
@given(rcpt=_FIELD_TEXT, helo=_FIELD_TEXT, client_ip=_FIELD_TEXT, index=st.integers(0, len(ALL) - 1))
def test_client_supplied_fields_are_inserted_verbatim(
    rcpt: str, helo: str, client_ip: str, index: int
) -> None:
    _, _, value = ALL[index]
    reply = _reply(value)
    fields = dict(LONGEST, rcpt=rcpt, helo=helo, client_ip=client_ip)
    wire = reply.render(**fields)
    text = reply.text
    for name, given_value in (("rcpt", rcpt), ("client_ip", client_ip)):
        if "{" + name + "}" in text:
            assert given_value in wire
    assert wire.startswith(str(reply.code))
