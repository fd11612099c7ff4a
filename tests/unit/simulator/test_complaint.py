"""complaint: 250 now, an RFC 5965 ARF report later, to the envelope sender, per recipient."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from mailfate.bounce.api import parse_bounce
from mailfate.errors import ConfigError
from mailfate.model.reasons import Kind, Reason
from mailfate.simulator.personalities import personality_class
from mailfate.simulator.personalities.complaint import Complaint
from tests.unit.simulator.reportkit import MID, SENDER, T0, FakeClock, RecordingSink, accepted, services

DOMAIN = "complaint.mailfate.test"


def run(p: Complaint, rcpts: tuple[str, ...], mail_from: str = SENDER) -> RecordingSink:
    sink = RecordingSink()
    asyncio.run(p.after_accept(accepted(rcpts, DOMAIN, mail_from), sink))
    return sink


def test_the_registry_finds_it() -> None:
    assert personality_class("complaint") is Complaint


@pytest.mark.parametrize("feedback_type", ["abuse", "fraud"])
def test_every_recipient_gets_an_arf_report_after_the_delay(feedback_type: str) -> None:
    p = Complaint({"feedback_type": feedback_type, "delay": 600}, services(FakeClock()))
    rcpts = (f"ann@{DOMAIN}", f"cho@{DOMAIN}")
    sink = run(p, rcpts)
    assert len(sink.reports) == 2
    for report, rcpt in zip(sink.reports, rcpts, strict=True):
        assert (report.kind, report.mail_from, report.rcpt, report.about) == ("arf", "", SENDER, rcpt)
        assert report.not_before == T0 + timedelta(seconds=600)
        (record,) = parse_bounce(report.content)
        assert record.kind == Kind.COMPLAINT
        assert record.reason == Reason.FEEDBACK
        assert record.feedback_type == feedback_type
        assert record.recipient == rcpt
        assert record.original_message_id == MID
        assert record.original_envelope_sender == SENDER
        assert b"Source-IP: 192.0.2.25" in report.content


def test_no_report_for_the_null_sender() -> None:
    assert run(Complaint({}, services(FakeClock())), (f"ann@{DOMAIN}",), mail_from="").reports == []


@pytest.mark.parametrize("options", [{"feedback_type": "angry"}, {"feedback_type": 3}, {"delay": -5}])
def test_bad_options_are_config_errors(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="complaint"):
        Complaint(options, services(FakeClock()))
