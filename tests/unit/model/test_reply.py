"""One SMTP reply type: parsed by the classifier, sent by the simulator, carried by attempt results."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from mailfate.bounce.classify import classify_reply
from mailfate.delivery.transports.base import no_reply, result_from_reply
from mailfate.model import AttemptResult, Reason, SmtpReply
from mailfate.model.reply import (
    STATUS_PATTERN,
    find_replycode,
    is_status,
    normalize_status,
    parse_reply,
)
from mailfate.simulator.model import Reply

SRC = Path(__file__).resolve().parents[3] / "src" / "mailfate"


def test_multiline_reply() -> None:
    r = parse_reply(
        "452-4.2.2 The recipient's inbox is out of storage space.\r\n452 4.2.2 Please direct the"
        " recipient to https://support.example.org/answer"
    )
    assert (r.code, r.status) == (452, "4.2.2")
    assert r.text.startswith("The recipient's inbox is out of storage space. Please direct")
    assert r.is_transient and not r.is_permanent and not r.is_success


def test_one_line_reply_and_no_code() -> None:
    assert parse_reply("550 5.1.1 <a@b.example>: User unknown") == SmtpReply(
        550, "5.1.1", "<a@b.example>: User unknown"
    )
    assert SmtpReply.parse("250 2.0.0 Ok: queued as 4F2A") == SmtpReply(250, "2.0.0", "Ok: queued as 4F2A")
    assert parse_reply("connection refused") == SmtpReply(0, "", "connection refused")
    assert str(SmtpReply(550, "5.1.1", "User unknown")) == "550 5.1.1 User unknown"
    assert str(SmtpReply(0, "4.4.1", "refused")) == "4.4.1 refused"


def test_status_normalization() -> None:
    assert normalize_status("smtp; 5.01.001 (x)") == "5.1.1"
    assert normalize_status("#5.1.1") == "5.1.1"
    assert normalize_status("version 1.2.3") == ""
    assert normalize_status("192.0.2.5.1.1") == ""
    assert is_status("5.7.26") and is_status("2.0.0")
    assert not is_status("5.7.26 x") and not is_status("1.2.3") and not is_status("5.7.")


def test_replycode() -> None:
    assert find_replycode("550 5.1.1 user unknown") == "550"
    assert find_replycode("host said: 421 try later") == "421"
    assert find_replycode("no code here 12345") == ""


@given(st.text(max_size=300))
def test_parse_reply_never_raises(text: str) -> None:
    r = parse_reply(text)
    assert r.code == 0 or (200 <= r.code < 600 and str(r.code)[0] in "245")
    assert r.status == "" or is_status(r.status)


def test_a_rendered_reply_parses_back() -> None:
    """What the simulator sends is what the classifier reads: multi-line replies included."""
    sent = SmtpReply(550, "5.7.26", "Unauthenticated email is not accepted.\nSee the sender guidelines.")
    assert sent.render() == (
        "550-5.7.26 Unauthenticated email is not accepted.\r\n550 5.7.26 See the sender guidelines."
    )
    assert parse_reply(sent.render()) == dataclasses.replace(sent, text=" ".join(sent.text.split()))


# -- the one type -------------------------------------------------------------------------------


def test_the_simulator_scripts_the_same_reply_type() -> None:
    """The simulator's reply is an SmtpReply with notes (the reason the classifier must find,
    the source, drop); the reply's fields and its behaviour are not written again."""
    assert issubclass(Reply, SmtpReply)
    assert [f.name for f in dataclasses.fields(Reply)][:3] == ["code", "status", "text"]
    assert {"code", "status", "text", "is_success", "is_transient", "is_permanent"}.isdisjoint(vars(Reply))
    scripted = Reply(550, "5.1.1", "<{rcpt}>: Recipient address rejected: User unknown", Reason.USERUNKNOWN)
    sent = scripted.render(rcpt="kim@example.org")
    heard = parse_reply(sent)
    assert heard == SmtpReply(550, "5.1.1", "<kim@example.org>: Recipient address rejected: User unknown")
    assert classify_reply(heard).reason is scripted.reason


def test_the_classifier_takes_the_reply_or_its_parts() -> None:
    reply = SmtpReply(452, "4.2.2", "The recipient's inbox is out of storage space")
    assert classify_reply(reply) == classify_reply(452, "4.2.2", reply.text)
    assert classify_reply(reply).reason is Reason.MAILBOXFULL


def test_an_attempt_result_carries_the_reply() -> None:
    result = result_from_reply(550, "5.1.1 <a@b.example>: User unknown", command="RCPT", transport="smtp")
    assert type(result.reply) is SmtpReply
    assert (result.code, result.status, result.text) == (550, "5.1.1", "5.1.1 <a@b.example>: User unknown")
    assert result.reply == SmtpReply(550, "5.1.1", "5.1.1 <a@b.example>: User unknown")
    none = no_reply("connection refused", command="connect", transport="smtp")
    assert none.reply == SmtpReply(0, "4.4.1", "connection refused")
    assert not (none.reply.is_success or none.reply.is_transient or none.reply.is_permanent)


def test_an_attempt_result_is_written_by_parts_or_whole() -> None:
    by_parts = AttemptResult("deferred", 451, "4.7.1", "Greylisted", "spamdetected", False, connect_ms=2.5)
    whole = AttemptResult(
        "deferred",
        reply=SmtpReply(451, "4.7.1", "Greylisted"),
        reason="spamdetected",
        hardbounce=False,
        connect_ms=2.5,
    )
    assert by_parts == whole and hash(by_parts) == hash(whole)
    assert dataclasses.replace(by_parts, reason="greylisted").reply == by_parts.reply
    try:
        AttemptResult("deferred", 451, reply=SmtpReply(451))
    except TypeError:
        pass
    else:
        raise AssertionError("a reply given twice must be refused")


def test_the_attempt_event_json_keeps_its_flat_shape() -> None:
    """Events, ``trace --json`` and the HTTP API show the reply flat, in the order it always had."""
    result = AttemptResult(
        "bounced",
        550,
        "5.1.1",
        "User unknown",
        "userunknown",
        True,
        rule_id="r1",
        command="RCPT",
        connect_ms=1.5,
    )
    data = result.to_json()
    assert list(data) == [
        "outcome", "code", "status", "text", "reason", "hardbounce", "rule_id", "command", "connect_ms",
    ]  # fmt: skip
    assert data["code"] == 550 and data["status"] == "5.1.1" and data["text"] == "User unknown"
    assert AttemptResult("deferred", 0, "4.4.1", "", "networkerror", False).to_json() == {
        "outcome": "deferred", "code": 0, "status": "4.4.1", "reason": "networkerror", "hardbounce": False,
    }  # fmt: skip


def test_the_enhanced_status_pattern_is_written_once() -> None:
    """Every pattern that needs an enhanced status code builds on STATUS_PATTERN."""
    written = re.compile(r"\\d\{1,3\}\\\.\\d\{1,3\}")
    places = [
        str(path.relative_to(SRC))
        for path in sorted(SRC.rglob("*.py"))
        if written.search(path.read_text("utf-8"))
    ]
    assert places == ["model/reply.py"]
    assert re.fullmatch(STATUS_PATTERN, "5.7.26")
