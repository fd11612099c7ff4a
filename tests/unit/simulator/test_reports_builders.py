"""The report builders, read back by mailfate's own bounce parser.

A DSN, an ARF complaint and an auto-reply built by the simulator must each parse as exactly one
record naming the right recipient, kind, reason and the original Message-ID: that is what lets a
late report be matched to the message it is about. Whatever the original is, the report stays
well-formed (CRLF line ends, lines within 998 octets, no header injection from caller values).
"""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailfate.bounce.api import parse_bounce
from mailfate.errors import InputError
from mailfate.model.reasons import Kind, Reason
from mailfate.simulator.dsnbuild import build_arf, build_autoreply, build_dsn, header_lines, header_value

SENDER = "bounces+4f2a9c@mail.app.example"
RCPT = "bob@late-bounce.mailfate.test"
MID = "<20261128.signup-42@app.example>"
ORIGINAL = (
    b"From: App <no-reply@app.example>\r\n"
    b"To: bob@late-bounce.mailfate.test\r\n"
    b"Subject: Your verification code\r\n"
    b"Message-ID: " + MID.encode() + b"\r\n"
    b"Date: Sat, 28 Nov 2026 12:00:00 +0000\r\n"
    b"\r\n"
    b"Your code is 123456\r\n"
)
DIAG = "smtp; 550 5.1.1 <bob@late-bounce.mailfate.test>: Recipient address rejected: User unknown"
WHEN = datetime(2026, 11, 28, 12, 0, 30, tzinfo=UTC)


def _dsn(original: bytes = ORIGINAL, **kw: object) -> bytes:
    args: dict[str, object] = {
        "reporting_mta": "mx.mailfate.test",
        "rcpt": RCPT,
        "diagnostic": DIAG,
        "remote_mta": "mailstore.late-bounce.mailfate.test",
        "arrival_date": WHEN,
        "envelope_sender": SENDER,
    }
    args.update(kw)
    return build_dsn(original, **args)  # type: ignore[arg-type]


def _arf(original: bytes = ORIGINAL, **kw: object) -> bytes:
    args: dict[str, object] = {
        "source_ip": "192.0.2.25",
        "original_rcpt": RCPT,
        "reporting_domain": "complaint.mailfate.test",
        "original_mail_from": SENDER,
    }
    args.update(kw)
    return build_arf(original, **args)  # type: ignore[arg-type]


def _well_formed(raw: bytes) -> None:
    assert b"\n" not in raw.replace(b"\r\n", b""), "bare LF"
    assert b"\r" not in raw.replace(b"\r\n", b""), "bare CR"
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert b"\x00" not in raw


def _headers(raw: bytes) -> email.message.Message:
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def _children(msg: email.message.Message) -> list[email.message.Message]:
    payload = msg.get_payload()
    assert isinstance(payload, list)
    return [p for p in payload if isinstance(p, email.message.Message)]


def _part(msg: email.message.Message, ctype: str) -> email.message.Message:
    return next(p for p in msg.walk() if p.get_content_type() == ctype)


# -- DSN ---------------------------------------------------------------------------------------
def test_dsn_parses_as_one_hard_userunknown_record_for_the_original() -> None:
    raw = _dsn()
    (record,) = parse_bounce(raw)
    assert record.recipient == RCPT
    assert record.kind == Kind.HARD
    assert record.reason == Reason.USERUNKNOWN
    assert record.status == "5.1.1"
    assert record.replycode == "550"
    assert record.original_message_id == MID
    assert record.original_envelope_sender == SENDER
    assert record.remote_mta == "mailstore.late-bounce.mailfate.test"
    assert record.reporting_mta == "mx.mailfate.test"
    assert record.parser == "rfc3464"
    _well_formed(raw)


def test_dsn_envelope_fields_follow_rfc3464_and_3834() -> None:
    msg = _headers(_dsn())
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    assert msg["From"] == "Mail Delivery System <MAILER-DAEMON@mx.mailfate.test>"
    assert msg["To"] == f"<{SENDER}>"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["Message-ID"] != MID and msg["Message-ID"].endswith("@mx.mailfate.test>")
    types = [p.get_content_type() for p in _children(msg)]
    assert types == ["text/plain", "message/delivery-status", "text/rfc822-headers"]
    text = _part(msg, "text/rfc822-headers").get_payload()
    assert isinstance(text, str)
    assert f"Return-Path: <{SENDER}>" in text
    assert "Your code is" not in text, "a DSN returns the headers only"


def test_dsn_of_another_status_keeps_that_status_and_reason() -> None:
    diag = "smtp; 552 5.2.2 <bob@late-bounce.mailfate.test> Quota exceeded (mailbox for user is full)"
    (record,) = parse_bounce(_dsn(status="5.2.2", diagnostic=diag))
    assert record.status == "5.2.2"
    assert record.reason == Reason.MAILBOXFULL


def test_dsn_keeps_an_existing_return_path() -> None:
    original = b"Return-Path: <other@app.example>\r\n" + ORIGINAL
    (record,) = parse_bounce(_dsn(original))
    assert record.original_envelope_sender == "other@app.example"
    assert _dsn(original).count(b"Return-Path:") == 1


@pytest.mark.parametrize(("action", "status"), [("bounced", "5.1.1"), ("failed", "550"), ("failed", "5.1")])
def test_dsn_refuses_a_bad_action_or_status(action: str, status: str) -> None:
    with pytest.raises(InputError):
        _dsn(action=action, status=status)


def test_caller_values_cannot_inject_headers() -> None:
    raw = _dsn(rcpt="bob@x.test\r\nBcc: victim@evil.test", reporting_mta="mx\nX-Evil: 1")
    msg = _headers(raw)
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert b"\r\nBcc:" not in raw and b"\r\nX-Evil:" not in raw
    _well_formed(raw)


# -- ARF ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("feedback_type", ["abuse", "fraud", "not-spam"])
def test_arf_parses_as_one_complaint_for_the_original(feedback_type: str) -> None:
    raw = _arf(feedback_type=feedback_type)
    (record,) = parse_bounce(raw)
    assert record.kind == Kind.COMPLAINT
    assert record.reason == Reason.FEEDBACK
    assert record.feedback_type == feedback_type
    assert record.recipient == RCPT
    assert record.original_message_id == MID
    assert record.original_envelope_sender == SENDER
    _well_formed(raw)


def test_arf_fields_and_the_returned_original() -> None:
    msg = _headers(_arf(arrival_date=WHEN))
    assert msg.get_param("report-type") == "feedback-report"
    assert msg["To"] == f"<{SENDER}>"
    fields = dict(_children(_part(msg, "message/feedback-report"))[0].items())
    assert fields["Feedback-Type"] == "abuse"
    assert fields["Version"] == "1"
    assert fields["Source-IP"] == "192.0.2.25"
    assert fields["Original-Rcpt-To"] == f"<{RCPT}>"
    assert fields["Original-Mail-From"] == f"<{SENDER}>"
    assert fields["Reported-Domain"] == "mail.app.example"
    assert fields["Arrival-Date"] == "Sat, 28 Nov 2026 12:00:30 +0000"
    (inner,) = _children(_part(msg, "message/rfc822"))
    assert inner["Message-ID"] == MID
    assert inner.get_payload() == "Your code is 123456\r\n"


def test_arf_finds_the_sender_in_the_original_when_not_given() -> None:
    original = b"Return-Path: <vrp+77@app.example>\r\n" + ORIGINAL
    (record,) = parse_bounce(_arf(original, original_mail_from=""))
    assert record.original_envelope_sender == "vrp+77@app.example"


def test_arf_refuses_a_feedback_type_that_is_not_a_token() -> None:
    with pytest.raises(InputError):
        _arf(feedback_type="abuse\r\nBcc: x@y.test")


# -- auto-reply --------------------------------------------------------------------------------
def test_autoreply_parses_as_one_autoreply_for_the_original() -> None:
    ooto = "ooto@simulator.mailfate.test"
    raw = build_autoreply(ORIGINAL, rcpt=ooto, text="Back on Monday.", sender=SENDER)
    (record,) = parse_bounce(raw)
    assert record.kind == Kind.AUTOREPLY
    assert record.reason == Reason.VACATION
    assert record.recipient == ooto
    assert record.original_message_id == MID
    msg = _headers(raw)
    assert msg["To"] == f"<{SENDER}>"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["In-Reply-To"] == MID
    assert msg["References"] == MID
    assert msg["Subject"] == "Out of Office: Your verification code"
    _well_formed(raw)


def test_autoreply_goes_to_the_return_path_else_the_from() -> None:
    with_rp = b"Return-Path: <vrp+9@app.example>\r\n" + ORIGINAL
    assert _headers(build_autoreply(with_rp, rcpt=RCPT))["To"] == "<vrp+9@app.example>"
    assert _headers(build_autoreply(ORIGINAL, rcpt=RCPT))["To"] == "<no-reply@app.example>"


def test_autoreply_with_non_ascii_text_is_quoted_printable() -> None:
    raw = build_autoreply(ORIGINAL, rcpt=RCPT, text="부재중입니다. " * 40, sender=SENDER)
    _well_formed(raw)
    assert raw.isascii()
    body = _headers(raw).get_payload(decode=True)
    assert isinstance(body, bytes) and "부재중입니다." in body.decode("utf-8")


# -- reading the original ----------------------------------------------------------------------
def test_header_lines_stop_at_the_body_or_a_non_header_line() -> None:
    lines = header_lines(b"A: 1\nB: two\n\tfolded\nnot a header\nC: 3\n")
    assert lines == [b"A: 1", b"B: two", b"\tfolded"]
    assert header_value(lines, "b") == "two folded"
    assert header_value(lines, "C") == ""


# -- fuzz --------------------------------------------------------------------------------------
_FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_FUZZ
@given(st.binary(max_size=3000))
def test_any_bytes_as_the_original_still_give_one_record_each(original: bytes) -> None:
    dsn = _dsn(original)
    arf = _arf(original)
    ooto = build_autoreply(original, rcpt="ooto@simulator.mailfate.test", sender=SENDER)
    for raw in (dsn, arf, ooto):
        _well_formed(raw)
    (d,) = parse_bounce(dsn)
    assert (d.recipient, d.kind, d.status) == (RCPT, Kind.HARD, "5.1.1")
    (a,) = parse_bounce(arf)
    assert (a.recipient, a.kind, a.feedback_type) == (RCPT, Kind.COMPLAINT, "abuse")
    (o,) = parse_bounce(ooto)
    assert (o.recipient, o.kind) == ("ooto@simulator.mailfate.test", Kind.AUTOREPLY)


_HEADER_LINE = st.builds(
    lambda name, value: name + b": " + value,
    st.sampled_from([b"Received", b"X-Junk", b"Subject", b"To", b"Content-Type", b"DKIM-Signature"]),
    st.binary(max_size=200).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
)


@_FUZZ
@given(
    before=st.lists(_HEADER_LINE, max_size=8),
    after=st.lists(_HEADER_LINE, max_size=8),
    body=st.binary(max_size=2000),
    line_end=st.sampled_from([b"\r\n", b"\n"]),
)
def test_the_original_message_id_survives_odd_headers_and_bodies(
    before: list[bytes], after: list[bytes], body: bytes, line_end: bytes
) -> None:
    original = line_end.join([*before, b"Message-ID: " + MID.encode(), *after, b"", body])
    ooto = build_autoreply(original, rcpt="ooto@simulator.mailfate.test", sender=SENDER)
    for raw in (_dsn(original), _arf(original), ooto):
        _well_formed(raw)
        (record,) = parse_bounce(raw)
        assert record.original_message_id == MID


@_FUZZ
@given(rcpt=st.text(max_size=300), mta=st.text(max_size=100), diagnostic=st.text(max_size=1500))
def test_any_caller_values_keep_the_report_well_formed(rcpt: str, mta: str, diagnostic: str) -> None:
    baseline = [k for k, _ in _headers(_dsn()).items()]
    raw = _dsn(rcpt=rcpt, reporting_mta=mta, diagnostic=diagnostic)
    _well_formed(raw)
    assert [k for k, _ in _headers(raw).items()] == baseline
    arf = _arf(original_rcpt=rcpt, source_ip=mta, reporting_domain=mta)
    _well_formed(arf)
    ooto = build_autoreply(ORIGINAL, rcpt=rcpt, text=diagnostic, subject_prefix=mta)
    _well_formed(ooto)
    assert len(_children(_headers(arf))) == 3
