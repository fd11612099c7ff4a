"""Parsing a bounce end to end: bytes in, one record per recipient out."""

from __future__ import annotations

import email.errors
import logging
import re

from mailfate.bounce.classify import Classifier, default_classifier
from mailfate.bounce.mail import Mail, decode_header
from mailfate.bounce.record import BounceRecord, Draft
from mailfate.bounce.registry import parsers
from mailfate.errors import ParseError
from mailfate.model.reasons import Reason

__all__ = ["parse_bounce", "parse_mail"]

log = logging.getLogger(__name__)
MAX_RECIPIENTS = 1000
"""A bounce reports at most this many recipients; more is a mangled or hostile mail."""
_ADDR = re.compile(r"<?([^<>\s\"';,()]+@[^<>\s\"';,()]+?)>?[.;,]*$")


def clean_address(value: str) -> str:
    """The bare address of a recipient field ("rfc822; <A@B>" -> "A@B")."""
    value = value.strip()
    if ";" in value:
        value = value.split(";", 1)[1].strip()
    m = _ADDR.search(value)
    return m.group(1) if m else value.strip("<>")


def clean_host(value: str) -> str:
    """The bare host name of an MTA field ("dns; mx.example.org. (192.0.2.1...)" -> "mx.example.org")."""
    value = value.strip()
    if ";" in value[:12]:
        value = value.split(";", 1)[1].strip()
    token = value.split(None, 1)[0] if value else ""
    return token.strip("[]<>()").rstrip(".,;:").lower() if token else ""


def envelope_sender(mail: Mail) -> str:
    """The envelope sender of the returned message: its Return-Path, else the address the bounce
    itself was delivered to (a bounce goes to the envelope sender: that is what VERP relies on)."""
    inner = mail.original()
    if inner is not None:
        found = clean_address(decode_header(inner.get("Return-Path")) or "")
        if "@" in found:
            return found
    for name in ("X-Original-To", "Delivered-To", "Envelope-To", "To"):
        found = clean_address(mail.header(name))
        if "@" in found:
            return found
    return ""


def _finish(mail: Mail, drafts: list[Draft]) -> None:
    mid = ""
    sender: str | None = None
    for d in drafts:
        if not d.original_envelope_sender and d.reason not in (Reason.FEEDBACK, Reason.VACATION):
            if sender is None:
                sender = envelope_sender(mail)
            d.original_envelope_sender = sender
        else:
            d.original_envelope_sender = clean_address(d.original_envelope_sender)
        d.recipient = clean_address(d.recipient)
        d.remote_mta = clean_host(d.remote_mta)
        d.reporting_mta = clean_host(d.reporting_mta)
        if not d.original_message_id:
            if not mid:
                mid = mail.original_message_id()
            d.original_message_id = mid
        if d.timestamp is None:
            d.timestamp = mail.date


def parse_mail(mail: Mail, classifier: Classifier | None = None) -> list[BounceRecord]:
    """Every recipient the mail reports on; [] when it is not a bounce, DSN, complaint or auto-reply."""
    clf = classifier or default_classifier()
    for entry in parsers():
        try:
            drafts = entry.parse(mail)
        except ParseError:
            raise
        except (
            ValueError,
            IndexError,
            KeyError,
            AttributeError,
            TypeError,
            LookupError,
            email.errors.MessageError,
        ) as exc:
            # A parser bug on odd input must not lose the mail: say which parser and go on.
            log.debug("parser %s failed: %s", entry.name, exc, exc_info=True)
            continue
        if drafts is None:
            continue
        if len(drafts) > MAX_RECIPIENTS:
            log.warning(
                "parser %s reported %d recipients; keeping the first %d",
                entry.name,
                len(drafts),
                MAX_RECIPIENTS,
            )
            drafts = drafts[:MAX_RECIPIENTS]
        _finish(mail, drafts)
        return [clf.resolve(d, entry.name) for d in drafts]
    return []


_MBOX_SEPARATOR = re.compile(
    rb"\n(?=From \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) )"
)
MAX_MBOX_MESSAGES = 100


def split_mbox(raw: bytes) -> list[bytes]:
    """The messages of an mbox ("From sender date" separator lines), or [raw] for a single mail."""
    if not raw.startswith(b"From "):
        return [raw]
    chunks = _MBOX_SEPARATOR.split(raw, maxsplit=MAX_MBOX_MESSAGES - 1)
    return [c for c in chunks if c.strip()]


def parse_bounce(raw: bytes, classifier: Classifier | None = None) -> list[BounceRecord]:
    """Parse one mail (or each mail of an mbox) given as bytes.

    Raises ParseError only for input that is not mail at all.
    """
    out: list[BounceRecord] = []
    for chunk in split_mbox(raw):
        out.extend(parse_mail(Mail(chunk), classifier))
    return out
