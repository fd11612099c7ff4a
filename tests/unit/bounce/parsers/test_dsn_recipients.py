"""RFC 3464 reports whose recipient is not an internet address (X.400, X-Notes, unknown, local)."""

from __future__ import annotations

import pytest

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.parsers import rfc3464


def _report(notice: str, block: str, delayed: bool = False) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@gw.example.net>\nTo: list-bounces@lists.example.org\n"
        f"Subject: Delivery Status Notification ({'Delay' if delayed else 'Failure'})\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        f"--B\nContent-Type: text/plain\n\n{notice}\n\n"
        f"--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; gw.example.net\n\n{block}\n"
        "--B--\n"
    ).encode()


@pytest.mark.parametrize(
    ("notice", "block", "recipient"),
    [
        (
            "Your message was not delivered.",
            "Final-Recipient: X400; /C=us/ADMD= "
            "/PRMD=example/O=corp/S=Doe/G=John/RFC-822=jdoe(a)corp.example.com/\n"
            "Action: failed\nStatus: 5.1.1\nDiagnostic-Code: X400; 1 (unrecognized-ORName)\n",
            "jdoe@corp.example.com",
        ),
        (
            "Your message was not delivered.",
            "Original-Recipient: rfc822;ann@example.com\nFinal-Recipient: X-Notes; Ann Smith/Sales/Example\n"
            "Action: failed\nStatus: 5.0.0\nDiagnostic-Code: X-Notes; User Ann Smith not listed in "
            "Domino Directory\n",
            "ann@example.com",
        ),
        (
            "Your message was not delivered.",
            "Final-Recipient: unknown; <bob@example.com>\nAction: failed\nStatus: 5.1.1\n",
            "bob@example.com",
        ),
        (
            "Your message was not delivered.",
            "Final-Recipient: LOCAL; carol\nX-Actual-Recipient: rfc822; carol@example.com\nAction: failed\n"
            "Status: 5.2.2\nDiagnostic-Code: X-Unix; mailbox full\n",
            "carol@example.com",
        ),
        (
            "Your message to <dave@example.com> could not be delivered.",
            "Final-Recipient: X400; /C=de/ADMD=x/O=corp/S=Dave/\nAction: failed\nStatus: 5.1.1\n",
            "dave@example.com",
        ),
        (
            "Your message was not delivered.",
            "Original-Recipient: rfc822; erin@example.com\nAction: failed\nStatus: 5.1.1\n"
            "Diagnostic-Code: smtp; 550 5.1.1 No such user\n",
            "erin@example.com",
        ),
    ],
    ids=[
        "x400-rfc822-attribute",
        "x-notes-original",
        "unknown-type",
        "x-actual-recipient",
        "from-the-notice",
        "original-only",
    ],
)
def test_best_internet_address_is_kept(notice: str, block: str, recipient: str) -> None:
    (draft,) = rfc3464.parse(Mail(_report(notice, block))) or []
    assert draft.recipient == recipient
    assert draft.status.startswith("5")
    (record,) = parse_bounce(_report(notice, block))
    assert record.recipient == recipient


def test_diagnostic_is_kept_with_a_non_internet_recipient() -> None:
    block = (
        "Final-Recipient: X-Notes; Ann Smith/Sales/Example\nOriginal-Recipient: rfc822;ann@example.com\n"
        "Action: failed\nStatus: 5.0.0\nDiagnostic-Code: X-Notes; User Ann Smith not listed in "
        "Domino Directory\n"
    )
    (draft,) = rfc3464.parse(Mail(_report("Not delivered.", block))) or []
    assert draft.recipient == "ann@example.com"
    assert "not listed in Domino Directory" in draft.diagnostic


def test_delayed_report_is_a_soft_delay() -> None:
    block = (
        "Final-Recipient: rfc822; frank@example.com\nAction: delayed\nStatus: 4.4.7\n"
        "Diagnostic-Code: smtp; 421 4.4.0 connection timed out\nWill-Retry-Until: Fri, 4 Oct 2002 "
        "10:00:00 +0000\n"
    )
    (record,) = parse_bounce(_report("This is only a warning.", block, delayed=True))
    assert (record.recipient, record.action, record.hardbounce) == ("frank@example.com", "delayed", False)


def test_a_local_name_with_no_other_address_stays() -> None:
    block = "Final-Recipient: LOCAL; gina\nAction: failed\nStatus: 5.1.1\n"
    (draft,) = rfc3464.parse(Mail(_report("No such user here.", block))) or []
    assert draft.recipient == "gina"
