"""The RFC 3834 auto-reply parser: vacation notices yes, ordinary mail and bounces no."""

from __future__ import annotations

import pytest

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.parsers import rfc3834
from mailfate.model.reasons import Kind, Reason


def _mail(headers: str, body: str = "I am out of the office until Monday.") -> bytes:
    return (headers.strip() + "\nContent-Type: text/plain; charset=utf-8\n\n" + body + "\n").encode()


def test_auto_submitted_auto_replied() -> None:
    raw = _mail(
        "From: Carol <carol@example.net>\nTo: news@example.org\n"
        "Subject: Re: hello\nAuto-Submitted: auto-replied"
    )
    records = parse_bounce(raw)
    assert [(r.recipient, r.reason, r.kind, r.hardbounce) for r in records] == [
        ("carol@example.net", Reason.VACATION, Kind.AUTOREPLY, False)
    ]


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: hello",
        "Auto: hello",
        "Out of Office: hello",
        "부재중 자동응답",
        "不在通知：hello",
        "Abwesenheitsnotiz",
    ],
)
def test_vacation_subjects(subject: str) -> None:
    raw = _mail(f"From: dave@example.net\nTo: news@example.org\nSubject: {subject}")
    drafts = rfc3834.parse(Mail(raw))
    assert drafts is not None
    assert drafts[0].reason is Reason.VACATION


def test_ordinary_mail_gives_nothing() -> None:
    raw = _mail("From: erin@example.net\nTo: news@example.org\nSubject: lunch", "See you at noon.")
    assert rfc3834.parse(Mail(raw)) is None
    assert parse_bounce(raw) == []


def test_bounce_with_auto_submitted_is_not_vacation() -> None:
    raw = _mail(
        "From: postmaster@example.net\nTo: news@example.org\nSubject: email bounce notification\n"
        "Auto-Submitted: auto-replied",
        "Your message was rejected.",
    )
    assert rfc3834.parse(Mail(raw)) is None


def test_garbage_does_not_raise() -> None:
    assert rfc3834.parse(Mail(b"Subject: \xff\xfe\n\n\x00")) is None


def test_apple_vacation_header() -> None:
    raw = _mail("From: fay@example.net\nTo: news@example.org\nSubject: Re: hello\nX-Apple-Action: vacation")
    drafts = rfc3834.parse(Mail(raw))
    assert drafts is not None and drafts[0].recipient == "fay@example.net"


def test_mail_to_root_is_not_an_auto_reply() -> None:
    raw = _mail(
        "From: cron@example.net\nTo: root@example.net\nSubject: Cron output\nAuto-Submitted: auto-generated"
    )
    assert rfc3834.parse(Mail(raw)) is None
