"""The SMTP reply as a value, and taking replies and diagnostic texts apart.

One type for every reply mailfate meets: the classifier reads one, the simulator sends one (its
scripted reply is an :class:`SmtpReply` with a note of what the classifier must say of it), and an
attempt result carries one. 4xx and 5xx are results, not exceptions.

The enhanced status code (RFC 3463, ``class.subject.detail``) is matched by one pattern,
:data:`STATUS_PATTERN`; every other pattern that needs it (vendor parsers, rule text cleaning)
builds on it rather than writing its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "SMTP_REPLY_CODES",
    "STATUS_PATTERN",
    "SmtpReply",
    "find_replycode",
    "find_status",
    "is_status",
    "normalize_status",
    "parse_reply",
]

STATUS_PATTERN = r"[245]\.\d{1,3}\.\d{1,3}"
"""An enhanced status code, ``5.1.1``: the one pattern for it, to embed in larger patterns."""

_STATUS = re.compile(r"(?<![\d.])(" + STATUS_PATTERN + r")(?![\d.]*\d)")
_STATUS_EXACT = re.compile(STATUS_PATTERN)
# Cheap scans (no look-behind at every position) find where a code may start; the full patterns
# then check that one position. Three times faster on typical diagnostics.
_STATUS_HINT = re.compile(r"[245]\.\d")
_REPLYCODE_HINT = re.compile(r"[245][0-7]\d")
_REPLYCODE = re.compile(r"(?<![\d.\-])([245][0-7][0-9])(?=[\s\-]|$)")
_LEADING = re.compile(r"^\s*([245]\d\d)(?:[\s\-]+|$)")
_REPLY_LINE = re.compile(r"^([245]\d\d)([\s\-]?)(.*)$")


@dataclass(frozen=True, slots=True)
class SmtpReply:
    """An SMTP reply: the reply code, the enhanced status code and the text.

    ``code`` is 0 when there was no reply at all (refused, timed out, an API's answer); ``status``
    is ``""`` when the reply carried none. ``text`` is what follows the code (:func:`parse_reply`
    also takes a leading status off it; an attempt result keeps the text as the receiver sent it).
    """

    code: int
    status: str = ""
    text: str = ""

    @property
    def is_success(self) -> bool:
        """A positive reply (2xx, or 3xx: go on)."""
        return 200 <= self.code < 400

    @property
    def is_transient(self) -> bool:
        return 400 <= self.code < 500

    @property
    def is_permanent(self) -> bool:
        return 500 <= self.code < 600

    @classmethod
    def parse(cls, reply: str) -> SmtpReply:
        """The reply in a line or a multi-line reply as sent (see :func:`parse_reply`)."""
        return parse_reply(reply)

    def render(self) -> str:
        """The reply as sent on the wire (without the final CRLF).

        A text with several lines becomes a multi-line reply, every line carrying the code and
        the enhanced status as Gmail and Postfix do (``550-5.7.26 …`` then ``550 5.7.26 …``).
        """
        lines = [line for line in self.text.splitlines() if line.strip()] or [""]
        prefix = f"{self.status} " if self.status else ""
        out = [f"{self.code}-{prefix}{line}".rstrip() for line in lines[:-1]]
        out.append(f"{self.code} {prefix}{lines[-1]}".rstrip())
        return "\r\n".join(out)

    def __str__(self) -> str:
        return " ".join(x for x in (str(self.code) if self.code else "", self.status, self.text) if x)


def is_status(value: str) -> bool:
    """Whether ``value`` is exactly an enhanced status code (``"5.1.1"``, not ``"5.1.1 x"``)."""
    return _STATUS_EXACT.fullmatch(value) is not None


def normalize_status(value: str) -> str:
    """ "5.1.1" from "5.1.1", "#5.1.1", "smtp; 5.1.1 (...)"; "" when none."""
    if not value:
        return ""
    pos = 0
    while True:
        hint = _STATUS_HINT.search(value, pos)
        if hint is None:
            return ""
        m = _STATUS.match(value, hint.start())
        if m is not None:
            cls, sub, det = m.group(1).split(".")
            return f"{cls}.{int(sub)}.{int(det)}"
        pos = hint.start() + 1


def find_status(text: str) -> str:
    """The first enhanced status code x.y.z in a text, or ""."""
    return normalize_status(text)


SMTP_REPLY_CODES = frozenset(
    "211 214 220 221 250 251 252 253 354 421 422 431 432 441 442 446 447 449 "
    "450 451 452 453 454 455 458 459 471 500 501 502 503 504 521 523 525 530 "
    "534 535 538 540 541 550 551 552 553 554 555 556 557 571 ".split()
)
"""Reply codes servers really send: RFC 5321, RFC 7504 (521, 556), RFC 4954 (432, 454, 530, 534, 535,
538), 525 (5.7.13 in the IANA registry) and non-standard ones common in the wild (Exchange's 44x,
571). "426 connection timed out" is not an SMTP reply."""


def find_replycode(text: str) -> str:
    """The SMTP reply code of a diagnostic text: the leading one, else the first one found."""
    if not text:
        return ""
    m = _LEADING.match(text)
    if m and m.group(1) in SMTP_REPLY_CODES:
        return m.group(1)
    pos = 0
    while True:
        hint = _REPLYCODE_HINT.search(text, pos)
        if hint is None:
            return ""
        m = _REPLYCODE.match(text, hint.start())
        if m is not None and m.group(1) in SMTP_REPLY_CODES:
            return m.group(1)
        pos = hint.start() + 1


def parse_reply(reply: str) -> SmtpReply:
    """Split an SMTP reply, single or multi-line ("550-5.1.1 ...\\n550 5.1.1 ..."), into its parts.

    Continuation prefixes and repeated enhanced codes are removed from the text. Never raises:
    a text without a reply code gives ``code`` 0.
    """
    reply = reply or ""
    if "\n" not in reply and "\r" not in reply:
        return _parse_line(reply.strip())
    lines = [ln.strip() for ln in reply.replace("\r\n", "\n").split("\n") if ln.strip()]
    code = ""
    texts: list[str] = []
    status = ""
    for line in lines:
        m = _REPLY_LINE.match(line)
        if m and (not code or m.group(1) == code):
            code = code or m.group(1)
            rest = m.group(3).strip()
        else:
            rest = line
        st = _STATUS.match(rest)
        if st:
            status = status or normalize_status(st.group(0))
            rest = rest[st.end() :].strip()
        if rest:
            texts.append(rest)
    if not status:
        status = find_status(" ".join(texts))
    return SmtpReply(code=int(code or 0), status=status, text=" ".join(texts))


def _parse_line(line: str) -> SmtpReply:
    """``parse_reply`` for the common one-line reply, without the list work."""
    m = _REPLY_LINE.match(line)
    code, rest = (int(m.group(1)), m.group(3).strip()) if m else (0, line)
    st = _STATUS.match(rest)
    if st:
        return SmtpReply(code=code, status=normalize_status(st.group(0)), text=rest[st.end() :].strip())
    return SmtpReply(code=code, status=find_status(rest), text=rest)
