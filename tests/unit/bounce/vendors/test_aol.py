"""AOL's outbound relay DSNs."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import aol


def _dsn(diagnostic: str, remote: str = "") -> bytes:
    remote_line = f"Remote-MTA: dns; {remote}\n" if remote else ""
    return (
        "From: MAILER-DAEMON@aol.com (Mail Delivery System)\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\n\n'
        "--b1\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"
        "--b1\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; omr-m01.mx.aol.com\n"
        "X-Outbound-Mail-Relay-Queue-ID: 0123456789A\n\n"
        "Final-Recipient: rfc822; nobody@example.org\n"
        "Action: failed\n"
        "Status: 5.4.4\n"
        f"{remote_line}"
        f"Diagnostic-Code: {diagnostic}\n\n"
        "--b1--\n"
    ).encode()


def test_relay_verdict_domain_not_found_is_hostunknown() -> None:
    raw = _dsn(
        "X-Outbound-Mail-Relay; Host or domain name not found. Name\n"
        "    service error for name=example.org type=A: Host not found"
    )
    (record,) = parse_bounce(raw)
    assert record.parser == "aol"
    assert (record.status, str(record.reason), record.hardbounce) == ("5.4.4", "hostunknown", True)


def test_relay_verdict_broken_mx_is_notaccept() -> None:
    raw = _dsn(
        "X-Outbound-Mail-Relay; Name service error for\n"
        "    name=example.org type=MX: Malformed or unexpected name server reply"
    )
    (record,) = parse_bounce(raw)
    assert (str(record.reason), record.hardbounce) == ("notaccept", True)


def test_remote_reply_is_left_to_the_rules() -> None:
    raw = _dsn("smtp; 550 5.1.1 <nobody@example.org>... User Unknown", "mx.example.org").replace(
        b"Status: 5.4.4", b"Status: 5.1.1"
    )
    (draft,) = aol.parse(Mail(raw)) or []
    assert draft.reason is None
    assert draft.remote_mta == "mx.example.org"


def test_foreign_mail_and_garbage() -> None:
    assert aol.parse(Mail(_dsn("smtp; 550 nope").replace(b"aol.com (Mail", b"example.net (Mail"))) is None
    garbage = b"From: MAILER-DAEMON@aol.com\nContent-Type: message/delivery-status\n\n"
    garbage += b"X-Outbound-Mail-Relay\n\x00\x00"
    assert aol.parse(Mail(garbage)) is None
