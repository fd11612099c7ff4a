"""late-bounce: 250 now, an RFC 3464 DSN later, to the envelope sender, per recipient."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from mailfate.bounce.api import parse_bounce
from mailfate.errors import ConfigError
from mailfate.model.reasons import Kind, Reason
from mailfate.simulator.model import Reply
from mailfate.simulator.personalities import personality_class
from mailfate.simulator.personalities.latebounce import LateBounce
from tests.unit.simulator.reportkit import (
    MID,
    SENDER,
    T0,
    Book,
    FakeClock,
    RecordingSink,
    accepted,
    rcpt_context,
    services,
)

DOMAIN = "late-bounce.mailfate.test"


def run(p: LateBounce, rcpts: tuple[str, ...], book: Book, mail_from: str = SENDER) -> RecordingSink:
    async def main() -> RecordingSink:
        clock = p.services.clock
        assert isinstance(clock, FakeClock)
        for rcpt in rcpts:
            assert await p.on_rcpt(rcpt_context(rcpt, book, clock, mail_from)) is None, "accepts at RCPT"
        sink = RecordingSink()
        await p.after_accept(accepted(rcpts, DOMAIN, mail_from), sink)
        return sink

    return asyncio.run(main())


def test_the_registry_finds_it() -> None:
    assert personality_class("late-bounce") is LateBounce


def test_every_recipient_gets_a_dsn_to_the_sender_after_the_delay() -> None:
    clock = FakeClock()
    p = LateBounce({"delay": 90}, services(clock))
    rcpts = (f"bob@{DOMAIN}", f"eve@{DOMAIN}")
    sink = run(p, rcpts, Book())
    assert [r.about for r in sink.reports] == list(rcpts)
    for report, rcpt in zip(sink.reports, rcpts, strict=True):
        assert report.kind == "dsn"
        assert report.mail_from == ""
        assert report.rcpt == SENDER
        assert report.not_before == T0 + timedelta(seconds=90)
        (record,) = parse_bounce(report.content)
        assert record.recipient == rcpt
        assert record.kind == Kind.HARD
        assert record.reason == Reason.USERUNKNOWN
        assert record.status == "5.1.1"
        assert record.original_message_id == MID
        assert record.original_envelope_sender == SENDER
        assert f"<{rcpt}>: Recipient address rejected: User unknown" in record.diagnostic


def test_the_default_delay_is_thirty_seconds() -> None:
    sink = run(LateBounce({}, services(FakeClock())), (f"bob@{DOMAIN}",), Book())
    assert sink.reports[0].not_before == T0 + timedelta(seconds=30)


def test_the_diagnostic_is_the_domains_own_unknown_user_text() -> None:
    naver_like = Reply(550, "5.1.1", "<{rcpt}> 받는 사람이 없습니다 / No such user", Reason.USERUNKNOWN)
    sink = run(LateBounce({}, services(FakeClock())), (f"bob@{DOMAIN}",), Book(unknown_user=naver_like))
    (record,) = parse_bounce(sink.reports[0].content)
    assert f"<bob@{DOMAIN}> 받는 사람이 없습니다 / No such user" in record.diagnostic


def test_another_reply_and_status_can_be_chosen() -> None:
    p = LateBounce({"reply": "mailbox_full", "status": "5.2.2"}, services(FakeClock()))
    (record,) = parse_bounce(run(p, (f"bob@{DOMAIN}",), Book()).reports[0].content)
    assert record.status == "5.2.2"
    assert record.reason == Reason.MAILBOXFULL


def test_a_bounce_is_never_bounced() -> None:
    assert run(LateBounce({}, services(FakeClock())), (f"bob@{DOMAIN}",), Book(), mail_from="").reports == []


@pytest.mark.parametrize(
    "options",
    [{"status": "2.0.0"}, {"status": "5.1"}, {"delay": -1}, {"delay": "soon"}, {"delay": True}],
)
def test_bad_options_are_config_errors(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="late-bounce"):
        LateBounce(options, services(FakeClock()))
