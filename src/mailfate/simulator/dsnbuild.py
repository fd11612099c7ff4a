"""Building the reports a receiver sends late: RFC 3464 DSNs, RFC 5965 ARF complaints, RFC 3834
auto-replies.

Pure functions on bytes. The original message is treated as opaque: only the header fields a
report needs (Message-ID, Subject, Return-Path, From, References) are read, as ASCII with
anything else replaced, and nothing else is decoded. Whatever the original is — garbage included —
the result is a well-formed message: CRLF line ends, no line over 998 octets, a MIME boundary that
occurs nowhere in the content, and caller-given values stripped of line breaks (no header
injection).
"""

from __future__ import annotations

import email.utils
import quopri
import re
import secrets
import textwrap
import time
from collections.abc import Iterable
from datetime import UTC, datetime

from mailfate.errors import InputError
from mailfate.model.reply import is_status

__all__ = ["MAX_ORIGINAL", "build_arf", "build_autoreply", "build_dsn", "header_lines", "header_value"]

MAX_ORIGINAL = 1024 * 1024
"""At most this much of the original is returned in an ARF report (its headers always are)."""
MAX_HEADERS = 64 * 1024
"""At most this much of the original's header section is returned in a DSN."""
_MAX_LINE = 998
_FIELD_NAME = re.compile(rb"^[\x21-\x39\x3b-\x7e]{1,76}:")
_LINE_END = re.compile(rb"\r\n|\r|\n")
_MSGID = re.compile(r"<[^<>\s]{1,900}>")
_FEEDBACK_TYPE = re.compile(r"^[a-z][a-z0-9-]{0,40}$")
_ACTIONS = frozenset({"failed", "delayed", "delivered", "relayed", "expanded"})


# -- reading the original ------------------------------------------------------------------------
_SEVEN_BIT = re.compile(rb"[\t\x20-\x7e]*")  # printable ASCII: anything else is quoted-printable


def _lines(data: bytes) -> list[bytes]:
    """The lines of ``data`` whatever its line ends, NUL bytes removed, none over 998 octets."""
    out: list[bytes] = []
    for line in _LINE_END.split(data.replace(b"\x00", b"")):
        out.extend(line[i : i + _MAX_LINE] for i in range(0, max(len(line), 1), _MAX_LINE))
    if out and out[-1] == b"":
        out.pop()
    return out


def header_lines(original: bytes) -> list[bytes]:
    """The header section of ``original`` as lines: fields and their continuation lines, up to the
    first blank line or the first line that is neither (which a mail parser takes as the body)."""
    out: list[bytes] = []
    size = 0
    for line in _lines(original[: MAX_HEADERS * 2]):
        if not line.strip():
            break
        if line[:1] in (b" ", b"\t"):
            if not out:
                continue
        elif not _FIELD_NAME.match(line):
            break
        size += len(line) + 2
        if size > MAX_HEADERS:
            break
        out.append(line)
    return out


def header_value(lines: Iterable[bytes], name: str) -> str:
    """The first field called ``name`` (case-insensitive), unfolded, read as ASCII; "" if absent."""
    key = name.lower().encode("ascii") + b":"
    value: list[bytes] | None = None
    for line in lines:
        if value is not None:
            if line[:1] in (b" ", b"\t"):
                value.append(line)
                continue
            break
        if line.lower().startswith(key):
            value = [line[len(key) :]]
    if value is None:
        return ""
    return " ".join(b" ".join(value).decode("ascii", "replace").split())


def _message_id(lines: list[bytes]) -> str:
    m = _MSGID.search(header_value(lines, "Message-ID"))
    return m.group(0) if m else ""


def _address(value: str) -> str:
    addr = email.utils.parseaddr(value)[1]
    return addr if "@" in addr else ""


# -- writing -------------------------------------------------------------------------------------
def _clean(value: str, limit: int = 900) -> str:
    """A caller-given value on one line (no CR, LF or NUL), at most ``limit`` characters."""
    return " ".join(value.replace("\x00", " ").split())[:limit]


def _field(name: str, value: str) -> str:
    """``Name: value`` folded at spaces so that no line passes 78 characters when it can be helped
    (and 998 octets never)."""
    value = _clean(value, 4000)
    pieces = textwrap.wrap(value, width=76, break_long_words=False, break_on_hyphens=False) or [""]
    lines: list[str] = []
    for piece in pieces:
        # a word too long to fold is cut (300 characters stay under 998 octets in UTF-8)
        lines.extend(piece[i : i + 300] for i in range(0, max(len(piece), 1), 300))
    return f"{name}: " + "\r\n  ".join(lines)


def _date(when: datetime | None) -> str:
    moment = when if when is not None else datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return email.utils.format_datetime(moment)


def _new_message_id(domain: str) -> str:
    host = re.sub(r"[^A-Za-z0-9.-]", "", domain) or "mailfate.invalid"
    return f"<{time.time_ns():x}.{secrets.token_hex(8)}@{host}>"


def _boundary(*contents: bytes) -> str:
    while True:
        candidate = f"=_mailfate_{secrets.token_hex(12)}"
        token = candidate.encode("ascii")
        if not any(token in c for c in contents):
            return candidate


def _join(lines: Iterable[bytes]) -> bytes:
    return b"".join(line + b"\r\n" for line in lines)


def _head(fields: list[str]) -> bytes:
    return "".join(f"{f}\r\n" for f in fields).encode("utf-8", "replace")


def _text_part(text: str, description: str = "") -> bytes:
    """A text/plain part: 7bit when it can be, else quoted-printable (non-ASCII, overlong lines)."""
    body = "\r\n".join(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    raw = body.encode("utf-8")
    head = [f"Content-Description: {description}"] if description else []
    head.append('Content-Type: text/plain; charset="utf-8"')
    lines = raw.split(b"\r\n")
    if all(_SEVEN_BIT.fullmatch(line) and len(line) <= _MAX_LINE for line in lines):
        head.append("Content-Transfer-Encoding: 7bit")
    else:
        head.append("Content-Transfer-Encoding: quoted-printable")
        raw = quopri.encodestring(raw.replace(b"\r\n", b"\n")).replace(b"\n", b"\r\n")
    return _head(head) + b"\r\n" + raw + b"\r\n"


def _multipart(headers: list[str], report_type: str, parts: list[bytes]) -> bytes:
    boundary = _boundary(*parts)
    head = [
        *headers,
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type={report_type};\r\n  boundary="{boundary}"',
    ]
    out = [_head(head), b"\r\nThis is a MIME-formatted message.\r\n"]
    for part in parts:
        out.append(f"\r\n--{boundary}\r\n".encode("ascii"))
        out.append(part)
    out.append(f"\r\n--{boundary}--\r\n".encode("ascii"))
    return b"".join(out)


def _address_field(name: str, addr: str) -> list[str]:
    addr = _clean(addr, 320)
    return [f"{name}: <{addr}>"] if addr else []


# -- RFC 3464 ------------------------------------------------------------------------------------
def build_dsn(
    original: bytes,
    *,
    reporting_mta: str,
    rcpt: str,
    action: str = "failed",
    status: str = "5.1.1",
    diagnostic: str = "smtp; 550 5.1.1 Recipient address rejected: User unknown",
    remote_mta: str = "",
    arrival_date: datetime | None = None,
    envelope_sender: str = "",
    date: datetime | None = None,
) -> bytes:
    """An RFC 3464 delivery status notification about ``rcpt`` for the ``original`` message.

    ``diagnostic`` is a typed Diagnostic-Code (``"smtp; 550 5.1.1 ..."``; an untyped text gets
    ``smtp;``). The report returns the original's header section (text/rfc822-headers) with a
    Return-Path naming ``envelope_sender`` on top, so the original Message-ID and the VERP address
    are both there for matching. ``date`` is when it was written (now by default).
    """
    if action not in _ACTIONS:
        raise InputError(f"DSN action {action!r} is not one of {', '.join(sorted(_ACTIONS))}")
    if not is_status(status):
        raise InputError(f"DSN status {status!r} is not an enhanced status code such as 5.1.1")
    rcpt = _clean(rcpt, 320)
    host = _clean(reporting_mta, 255) or "localhost"
    diag = _clean(diagnostic, 2000)
    if diag and ";" not in diag.split(" ", 1)[0]:
        diag = f"smtp; {diag}"
    headers = header_lines(original)
    sender = _clean(envelope_sender, 320)
    if sender and not header_value(headers, "Return-Path"):
        headers.insert(0, f"Return-Path: <{sender}>".encode())
    written = _date(date)
    verb = "could not be delivered" if action == "failed" else f"was {action}"
    human = (
        f"This is the mail delivery system at {host}.\r\n\r\n"
        f"Your message {verb} to the recipient below.\r\n"
        "The delivery report and the headers of your message are attached.\r\n\r\n"
        f"<{rcpt}>: {diag.split(';', 1)[-1].strip()}\r\n"
    )
    per_message = [_field("Reporting-MTA", f"dns; {host}"), _field("Arrival-Date", _date(arrival_date))]
    per_rcpt = [
        _field("Final-Recipient", f"rfc822; {rcpt}"),
        f"Action: {action}",
        f"Status: {status}",
    ]
    if remote_mta:
        per_rcpt.append(_field("Remote-MTA", f"dns; {_clean(remote_mta, 255)}"))
    if diag:
        per_rcpt.append(_field("Diagnostic-Code", diag))
    per_rcpt.append(_field("Last-Attempt-Date", written))
    status_part = (
        _head(["Content-Description: Delivery report", "Content-Type: message/delivery-status"])
        + b"\r\n"
        + _head(per_message)
        + b"\r\n"
        + _head(per_rcpt)
    )
    headers_part = (
        _head(["Content-Description: Undelivered Message Headers", "Content-Type: text/rfc822-headers"])
        + b"\r\n"
        + _join(headers)
    )
    top = [
        f"From: Mail Delivery System <MAILER-DAEMON@{host}>",
        *_address_field("To", sender),
        "Subject: Undelivered Mail Returned to Sender"
        if action == "failed"
        else f"Subject: Delivery Status Notification ({action})",
        f"Date: {written}",
        f"Message-ID: {_new_message_id(host)}",
        "Auto-Submitted: auto-replied",
    ]
    return _multipart(top, "delivery-status", [_text_part(human, "Notification"), status_part, headers_part])


# -- RFC 5965 ------------------------------------------------------------------------------------
def build_arf(
    original: bytes,
    *,
    feedback_type: str = "abuse",
    user_agent: str = "mailfate-simulator/1.0",
    source_ip: str,
    original_rcpt: str,
    reporting_domain: str,
    original_mail_from: str = "",
    arrival_date: datetime | None = None,
    reported_domain: str = "",
    date: datetime | None = None,
) -> bytes:
    """An RFC 5965 feedback report (a complaint) about the ``original`` message.

    ``reporting_domain`` is the mailbox provider sending the report (its From: and Message-ID);
    ``Reported-Domain`` names the original's sender domain (``reported_domain``, else the domain
    of ``original_mail_from``, of the Return-Path or of the From of the original). The original is
    returned whole as message/rfc822 (up to :data:`MAX_ORIGINAL`, its lines kept under 998 octets).
    """
    kind = feedback_type.strip().lower()
    if not _FEEDBACK_TYPE.match(kind):
        raise InputError(f"feedback type {feedback_type!r} is not a token such as 'abuse' or 'fraud'")
    headers = header_lines(original)
    mail_from = _clean(original_mail_from, 320) or _address(header_value(headers, "Return-Path"))
    reported = _clean(reported_domain, 255)
    if not reported:
        sender = mail_from or _address(header_value(headers, "From"))
        reported = sender.rpartition("@")[2]
    reporter = _clean(reporting_domain, 255) or "localhost"
    rcpt = _clean(original_rcpt, 320)
    ip = _clean(source_ip, 64)
    arrived = _date(arrival_date)
    human = (
        f"This is an email abuse report for a message received from IP {ip or 'unknown'} on {arrived}.\r\n"
        f"The recipient <{rcpt}> reported it ({kind}).\r\n"
        "The original message is attached.\r\n"
    )
    report = [
        f"Feedback-Type: {kind}",
        _field("User-Agent", user_agent or "mailfate-simulator/1.0"),
        "Version: 1",
        *_address_field("Original-Mail-From", mail_from),
        *_address_field("Original-Rcpt-To", rcpt),
        _field("Arrival-Date", arrived),
    ]
    if ip:
        report.append(f"Source-IP: {ip}")
    if reported:
        report.append(f"Reported-Domain: {reported}")
    report_part = _head(["Content-Type: message/feedback-report"]) + b"\r\n" + _head(report)
    body = _join(_lines(original[:MAX_ORIGINAL]))
    encoding = "7bit" if body.isascii() else "8bit"
    original_part = (
        _head(
            [
                "Content-Type: message/rfc822",
                "Content-Disposition: inline",
                f"Content-Transfer-Encoding: {encoding}",
            ]
        )
        + b"\r\n"
        + body
    )
    top = [
        f"From: Feedback Loop <abuse@{reporter}>",
        *_address_field("To", mail_from),
        f"Subject: Abuse report ({kind})",
        f"Date: {_date(date)}",
        f"Message-ID: {_new_message_id(reporter)}",
        "Auto-Submitted: auto-generated",
    ]
    return _multipart(top, "feedback-report", [_text_part(human), report_part, original_part])


# -- RFC 3834 ------------------------------------------------------------------------------------
def build_autoreply(
    original: bytes,
    *,
    rcpt: str,
    subject_prefix: str = "Out of Office: ",
    text: str = "I am out of the office and will reply when I am back.",
    sender: str = "",
    date: datetime | None = None,
) -> bytes:
    """An RFC 3834 automatic reply from ``rcpt`` to the sender of the ``original`` message.

    It goes to ``sender`` (the original's envelope sender), else to the original's Return-Path,
    else its From. In-Reply-To and References name the original Message-ID, and the body quotes
    it too, since many receivers of auto-replies match on the quoted text.
    """
    headers = header_lines(original)
    to = (
        _clean(sender, 320)
        or _address(header_value(headers, "Return-Path"))
        or _address(header_value(headers, "From"))
    )
    replier = _clean(rcpt, 320)
    mid = _message_id(headers)
    subject = header_value(headers, "Subject")
    if not subject.isprintable() or "\ufffd" in subject:
        subject = ""
    subject = _clean(subject, 400)
    top = [
        _field("From", f"<{replier}>"),
        *_address_field("To", to),
        _field("Subject", f"{_clean(subject_prefix, 200)} {subject}".strip() if subject else subject_prefix),
        f"Date: {_date(date)}",
        f"Message-ID: {_new_message_id(replier.rpartition('@')[2])}",
        "Auto-Submitted: auto-replied",
    ]
    if mid:
        refs = " ".join([*_MSGID.findall(header_value(headers, "References"))[-10:], mid])
        top += [f"In-Reply-To: {mid}", _field("References", refs)]
    body = text.rstrip()
    if mid:
        body += f"\n\n--- Your message ---\nMessage-ID: {mid}\n"
        if subject:
            body += f"Subject: {subject}\n"
    return _head([*top, "MIME-Version: 1.0"]) + _text_part(body)
