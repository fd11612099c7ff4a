"""What every registered parser promises (the registry discovers them, so new ones are covered)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailfate.bounce.mail import Mail
from mailfate.bounce.registry import ParserEntry, parsers

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "bounces"
ENTRIES = parsers()


def test_names_are_unique_and_priorities_ordered() -> None:
    names = [e.name for e in ENTRIES]
    assert len(names) == len(set(names))
    assert [e.priority for e in ENTRIES] == sorted(e.priority for e in ENTRIES)
    assert len(ENTRIES) > 40


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_ordinary_mail_is_not_claimed(entry: ParserEntry) -> None:
    for raw in (
        (EXAMPLES / "not-a-bounce.eml").read_bytes(),
        b"",
        b"Subject: hello\n\n",
        b"From: a@example.org\nTo: b@example.org\nSubject: Re: lunch?\n\nSee you at noon.\n",
    ):
        assert entry.parse(Mail(raw)) is None, raw[:60]


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.name != "arf"], ids=lambda e: e.name)
def test_a_complaint_report_is_left_to_the_arf_parser(entry: ParserEntry) -> None:
    assert not entry.parse(Mail((EXAMPLES / "arf-complaint.eml").read_bytes()))


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.name != "rfc3834"], ids=lambda e: e.name)
def test_an_auto_reply_is_left_to_the_auto_reply_parser(entry: ParserEntry) -> None:
    assert not entry.parse(Mail((EXAMPLES / "out-of-office.eml").read_bytes()))
