"""The generic parsers on bounces whose notice is not in English."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.parsers import heuristic

_GERMAN = (
    "From: Zustellsystem <bounces@mail.example.net>\nTo: sender@example.org\n"
    "Subject: Unzustellbar: Ihre Nachricht\nContent-Type: text/plain; charset=utf-8\n\n"
    "Ihre Nachricht konnte nicht zugestellt werden.\n\n"
    "<nobody@example.com>: 550 5.1.1 User unknown\n"
)


def test_localized_subject_marks_a_bounce() -> None:
    (draft,) = heuristic.parse(Mail(_GERMAN.encode())) or []
    assert draft.recipient == "nobody@example.com"
    (record,) = parse_bounce(_GERMAN.encode())
    assert (record.replycode, str(record.reason), record.hardbounce) == ("550", "userunknown", True)


def test_ordinary_mail_with_an_address_is_not_a_bounce() -> None:
    ordinary = _GERMAN.replace("Subject: Unzustellbar: Ihre Nachricht", "Subject: Treffen am Montag")
    assert heuristic.parse(Mail(ordinary.encode())) is None
