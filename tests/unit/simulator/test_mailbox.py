"""mailbox-simulator: SES-style outcomes chosen by the local part."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from mailfate.bounce.api import parse_bounce
from mailfate.errors import ConfigError
from mailfate.model.reasons import Kind
from mailfate.simulator.model import Reply
from mailfate.simulator.personalities import personality_class
from mailfate.simulator.personalities.mailbox import MailboxSimulator, scenario
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

DOMAIN = "simulator.mailfate.test"


def at_rcpt(local: str) -> Reply | None:
    clock = FakeClock()
    p = MailboxSimulator({}, services(clock))
    return asyncio.run(p.on_rcpt(rcpt_context(f"{local}@{DOMAIN}", Book(), clock)))


def after(rcpts: tuple[str, ...], mail_from: str = SENDER, **options: object) -> RecordingSink:
    sink = RecordingSink()
    p = MailboxSimulator(dict(options), services(FakeClock()))
    asyncio.run(p.after_accept(accepted(rcpts, DOMAIN, mail_from), sink))
    return sink


def test_the_registry_finds_it() -> None:
    assert personality_class("mailbox-simulator") is MailboxSimulator


@pytest.mark.parametrize(
    ("local", "expected"), [("Bounce+Signup-42", "bounce"), ("ooto", "ooto"), ("+x", "")]
)
def test_scenario_ignores_case_and_label(local: str, expected: str) -> None:
    assert scenario(local) == expected


@pytest.mark.parametrize("local", ["bounce", "BOUNCE", "bounce+signup-42"])
def test_bounce_is_unknown_user_at_rcpt(local: str) -> None:
    reply = at_rcpt(local)
    assert reply is not None and (reply.code, reply.status) == (550, "5.1.1")
    assert reply == Book().get("unknown_user")


@pytest.mark.parametrize("local", ["suppressionlist", "SuppressionList+a"])
def test_suppressionlist_is_suppressed_at_rcpt(local: str) -> None:
    assert at_rcpt(local) == Book().get("suppressed")


@pytest.mark.parametrize("local", ["success", "ooto", "complaint", "someone", "bouncer", "success+bounce"])
def test_other_addresses_are_accepted(local: str) -> None:
    assert at_rcpt(local) is None


def test_ooto_gets_an_auto_reply_to_the_sender() -> None:
    sink = after((f"OOTO+t1@{DOMAIN}",), delay=5, autoreply_text="Away until Monday.")
    (report,) = sink.reports
    assert (report.kind, report.mail_from, report.rcpt) == ("autoreply", "", SENDER)
    assert report.not_before == T0 + timedelta(seconds=5)
    (record,) = parse_bounce(report.content)
    assert record.kind == Kind.AUTOREPLY
    assert record.recipient == f"OOTO+t1@{DOMAIN}"
    assert record.original_message_id == MID
    assert "Away until Monday." in record.diagnostic


def test_complaint_gets_an_arf_report_to_the_sender() -> None:
    (report,) = after((f"complaint@{DOMAIN}",)).reports
    assert (report.kind, report.rcpt, report.not_before) == ("arf", SENDER, T0 + timedelta(seconds=30))
    (record,) = parse_bounce(report.content)
    assert record.kind == Kind.COMPLAINT and record.feedback_type == "abuse"
    assert record.recipient == f"complaint@{DOMAIN}" and record.original_message_id == MID


def test_one_report_per_reporting_recipient_and_none_for_the_others() -> None:
    rcpts = tuple(f"{x}@{DOMAIN}" for x in ("success", "ooto", "complaint+2", "anyone"))
    assert [(r.kind, r.about) for r in after(rcpts).reports] == [
        ("autoreply", f"ooto@{DOMAIN}"),
        ("arf", f"complaint+2@{DOMAIN}"),
    ]


def test_nothing_answers_the_null_sender() -> None:
    assert after((f"ooto@{DOMAIN}", f"complaint@{DOMAIN}"), mail_from="").reports == []


def test_an_empty_autoreply_text_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="autoreply_text"):
        MailboxSimulator({"autoreply_text": "  "}, services(FakeClock()))
