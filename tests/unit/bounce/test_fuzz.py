"""Hypothesis fuzzing of the mail view, of every registered parser and of the SES JSON reader.

The inputs are random bytes, and hand-made bounce-like mails (each shaped like one family of bounce)
cut, spliced and sprinkled with random bytes, so the parsers get past their "is this mine?" checks.
The contract: ``Mail`` never raises; a parser returns None or a list of drafts, and may raise
:class:`ParseError`; an exception the pipeline does not catch per parser is a crash.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.parsers.ses import parse_ses_json
from mailfate.bounce.record import BounceRecord, Draft
from mailfate.bounce.registry import ParserEntry, parsers
from mailfate.errors import ParseError

PIPELINE_CATCHES = (ValueError, IndexError, KeyError, AttributeError, TypeError, LookupError)
"""What ``parse_mail`` catches per parser (api.py): such a parser bug costs that parser, not the mail."""

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TEMPLATES = [
    # an RFC 3464 report as Postfix writes it
    b"From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\nSubject: Undelivered Mail Retur"
    b"ned to Sender\n"
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="R1"\n\n--R1\n'
    b"Content-Description: Notification\nContent-Type: text/plain; charset=us-ascii\n\n"
    b"<bob@example.net>: host mx.example.net[192.0.2.7] said: 550 5.1.1 <bob@example.net>:\n"
    b"    Recipient address rejected: User unknown (in reply to RCPT TO command)\n\n--R1\n"
    b"Content-Description: Delivery report\nContent-Type: message/delivery-status\n\n"
    b"Reporting-MTA: dns; mx.example.org\nArrival-Date: Fri, 27 Nov 2026 10:00:00 +0900\n\n"
    b"Final-Recipient: rfc822; bob@example.net\nOriginal-Recipient: rfc822;bob@example.net\nAction: failed\n"
    b"Status: 5.1.1\nRemote-MTA: dns; mx.example.net\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\n\n"
    b"--R1\nContent-Type: message/rfc822\n\nFrom: a@example.org\nMessage-ID: <m@example.org>\n\nhi\n--R1--\n",
    # qmail
    b"From: MAILER-DAEMON@example.org\nSubject: failure notice\n\n"
    b"Hi. This is the qmail-send program at example.org.\nI'm afraid I wasn't able to deliver yo"
    b"ur message.\n\n"
    b"<carol@example.net>:\n192.0.2.9 does not like recipient.\nRemote host said: 550 5.1.1 no such user\n"
    b"Giving up on 192.0.2.9.\n\n--- Below this line is a copy of the message.\n\nSubject: hi\n",
    # Exim
    b"From: Mail Delivery System <Mailer-Daemon@example.org>\nSubject: Mail delivery failed: ret"
    b"urning message"
    b" to sender\nX-Failed-Recipients: dave@example.net\nAuto-Submitted: auto-replied\n\n"
    b"This message was created automatically by mail delivery software.\n\nA message that you se"
    b"nt could not be"
    b" delivered to one or more of its\nrecipients. This is a permanent error. The following add"
    b"ress(es) failed:"
    b"\n\n  dave@example.net\n    SMTP error from remote mail server after RCPT TO:<dave@example.net>:\n"
    b"    550 5.2.2 Mailbox full\n\n------ This is a copy of the message, including all the head"
    b"ers. ------\n\n"
    b"Message-Id: <e@example.org>\n",
    # Sendmail
    b"From: Mail Delivery Subsystem <MAILER-DAEMON@example.org>\nSubject: Returned mail: see transcript for"
    b' details\nContent-Type: multipart/report; report-type=delivery-status; boundary="S"\n\n--S\n\n'
    b"   ----- The following addresses had permanent fatal errors -----\n<erin@example.net>\n"
    b"    (reason: 550 5.7.1 Blocked by policy)\n\n   ----- Transcript of session follows -----\n"
    b"... while talking to mx.example.net.:\n>>> DATA\n<<< 550 5.7.1 Blocked by policy\n--S\n"
    b"Content-Type: message/delivery-status\n\nReporting-MTA: dns; example.org\n\nFinal-Recipient: RFC822;"
    b" erin@example.net\nAction: failed\nStatus: 5.7.1\n--S--\n",
    # Exchange / Office 365
    b"From: postmaster@outlook.example.com\nSubject: Undeliverable: report\nX-MS-Exchange-Message-Is-Ndr:\n"
    b"Content-Language: en-US\n\nDelivery has failed to these recipients or groups:\n\nfrank@example.net\n"
    b"The email address you entered couldn't be found.\n\nDiagnostic information for administrators:\n"
    b"Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address"
    b" lookup'\n",
    # ARF
    b"From: feedback@isp.example.net\nSubject: complaint about message from 192.0.2.1\n"
    b'Content-Type: multipart/report; report-type=feedback-report; boundary="F"\n\n--F\n'
    b"Content-Type: text/plain\n\nThis is an abuse report.\n--F\nContent-Type: message/feedback-report\n\n"
    b"Feedback-Type: abuse\nUser-Agent: Example-FBL/1.0\nVersion: 1\nOriginal-Rcpt-To: grace@example.net\n"
    b"--F\nContent-Type: message/rfc822\n\nFrom: a@example.org\nTo: grace@example.net\n\nbuy\n--F--\n",
    # encoded words everywhere
    b"From: =?UTF-8?B?TWFpbCBEZWxpdmVyeQ==?= <postmaster@example.net>\nSubject: =?ISO-8859-1?Q?R=E9ponse?="
    b" =?utf-8?b?VW5kZWxpdmVyYWJsZQ==?=\nContent-Type: message/rfc822\n\n"
    b"Subject: =?EUC-KR?B?uN7AzyC53bzb?=\nMessage-ID: <w@example.org>\n\nbody\n",
    # an auto-reply
    b"From: heidi@example.net\nSubject: Out of Office: invoice\nAuto-Submitted: auto-replied\n"
    b"X-Autoreply: yes\n\nI am away until Monday.\n",
    # a Korean bounce with 8-bit text
    "From: 메일관리자 <postmaster@example.kr>\nSubject: 메일 발송 실패 안내\nContent-Type: text/plain;"
    " charset=euc-kr\n\n수신자 ivan@example.kr 계정이 존재하지 않습니다. 550 5.1.1\n".encode("euc-kr"),
]


@st.composite
def bounce_like(draw: st.DrawFn) -> bytes:
    """A template, cut and spliced at random places, with random bytes inserted."""
    data = bytearray(draw(st.sampled_from(TEMPLATES)))
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["cut", "insert", "splice", "drop-line", "crlf", "flip"]))
        at = draw(st.integers(0, len(data)))
        if action == "cut":
            del data[at:]
        elif action == "insert":
            data[at:at] = draw(st.binary(max_size=40))
        elif action == "splice":
            other = draw(st.sampled_from(TEMPLATES))
            start = draw(st.integers(0, len(other)))
            data[at:at] = other[start : start + draw(st.integers(0, 300))]
        elif action == "drop-line":
            end = data.find(b"\n", at)
            del data[at : len(data) if end < 0 else end + 1]
        elif action == "flip" and data:
            data[min(at, len(data) - 1)] ^= 1 << draw(st.integers(0, 7))
        elif action == "crlf":
            data = bytearray(bytes(data).replace(b"\n", b"\r\n"))
    return bytes(data)


mails = st.one_of(st.binary(max_size=2000), bounce_like())


@FUZZ
@given(mails)
def test_mail_views_never_raise(raw: bytes) -> None:
    mail = Mail(raw)
    assert isinstance(mail.text, str)
    assert isinstance(mail.original_message_id(), str)
    for name in ("Subject", "From", "Date", "Content-Type", "Message-ID"):
        assert isinstance(mail.header(name), str)
        assert all(isinstance(v, str) for v in mail.headers(name))
    _ = (mail.subject, mail.sender, mail.date, mail.content_type, mail.lines, list(mail.iter_headers()))
    for part in mail.parts:
        assert isinstance(part.text, str)
        part.embedded()
    mail.original()


@pytest.mark.parametrize("entry", parsers(), ids=lambda e: e.name)
@FUZZ
@given(raw=mails)
def test_every_parser_survives_garbage(entry: ParserEntry, raw: bytes) -> None:
    mail = Mail(raw)
    try:
        drafts = entry.parse(mail)
    except ParseError:
        return
    except PIPELINE_CATCHES:
        return  # a parser bug the pipeline contains; the fuzz run in the report lists them
    assert drafts is None or all(isinstance(d, Draft) for d in drafts)


@FUZZ
@given(mails)
def test_parse_bounce_returns_records_or_parse_error(raw: bytes) -> None:
    try:
        records = parse_bounce(raw)
    except ParseError:
        return
    assert all(isinstance(r, BounceRecord) for r in records)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
SES_KEYS = [
    "notificationType",
    "eventType",
    "bounce",
    "complaint",
    "delivery",
    "deliveryDelay",
    "reject",
    "mail",
]
ses_like = st.fixed_dictionaries(
    {
        "notificationType": st.sampled_from(
            ["Bounce", "Complaint", "Delivery", "Reject", "DeliveryDelay", "Open"]
        )
    },
    optional={key: json_values for key in SES_KEYS[1:]}
    | {
        "bounce": st.fixed_dictionaries(
            {
                "bouncedRecipients": st.lists(
                    st.dictionaries(st.sampled_from(["emailAddress", "status"]), json_values)
                )
            },
            optional={"bounceSubType": json_values, "timestamp": json_values, "reportingMTA": json_values},
        )
    },
)


@FUZZ
@given(st.one_of(json_values, ses_like))
def test_ses_json_returns_records_or_parse_error(value: Any) -> None:
    for data in (
        value,
        json.dumps(value),
        json.dumps({"Type": "Notification", "Message": json.dumps(value)}),
    ):
        try:
            records = parse_ses_json(data)
        except ParseError:
            continue
        assert all(isinstance(r, BounceRecord) for r in records)


@FUZZ
@given(st.binary(max_size=500))
def test_ses_json_bytes_never_crash(raw: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse_ses_json(raw)
