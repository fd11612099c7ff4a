"""Microsoft Exchange 5.5-2003 (Internet Mail Service): "did not reach the following recipient(s):"."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import find_address, readable
from mailfate.model.reasons import Reason

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "exchange2003"
PRIORITY = 300

_RECIPIENT = re.compile(r"^\s*(\S+@\S+?)\s+on\s+\S")
_SMTP_IN_X400 = re.compile(r":SMTP=([^;\s]+)", re.IGNORECASE)
_MSEXCH = re.compile(r"MSEXCH:[^\n]*?\(([0-9A-F]{8})\)\s*(.*)$", re.IGNORECASE)
_MAILERS = ("Internet Mail Service (", "Microsoft Exchange Server Internet Mail Connector")

# Exchange's internal diagnostic codes (the 8 hex digits in parentheses after MSEXCH:...).
_CODES = {
    "000C05A6": Reason.USERUNKNOWN,  # Unknown Recipient
    "000C0595": Reason.FILTERED,  # Ambiguous Recipient
    "00010256": Reason.SYSTEMERROR,  # Too many recipients
    "000D06B5": Reason.SYSTEMERROR,  # No proxy for the recipient
    "00120270": Reason.NETWORKERROR,  # Too many hops
    "00050311": Reason.CONTENTERROR,  # Conversion to Internet format failed
    "000502CC": Reason.CONTENTERROR,  # Conversion to Internet format failed
    "000B0981": Reason.SECURITYERROR,  # Server does not support AUTH
}


def _is_exchange(mail: Mail) -> bool:
    if mail.header("X-MS-Embedded-Report") or mail.message.get("X-MS-Embedded-Report") is not None:
        return True
    if mail.header("X-Mailer").startswith(_MAILERS):
        return True
    if mail.header("X-MimeOLE").startswith("Produced By Microsoft Exchange"):
        return True
    return any(" with Internet Mail Service (" in r for r in mail.headers("Received"))


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from an Exchange 2003 non-delivery report; None for other mail."""
    if not _is_exchange(mail):
        return None
    body = readable(mail)
    if "did not reach the following recipient(s):" not in body and "could not be reached:" not in body:
        return None
    drafts: list[Draft] = []
    texts: list[list[str]] = []
    reading = False
    for raw in body.split("\n"):
        line = raw.rstrip()
        if not reading:
            reading = "did not reach the following recipient" in line or "could not be reached:" in line
            continue
        m = _RECIPIENT.match(line)
        x400 = _SMTP_IN_X400.search(line) if " on " in line else None
        if (m or x400) and "MSEXCH:" not in line:
            address = find_address(x400.group(1) if x400 else m.group(1) if m else "")
            drafts.append(Draft(recipient=address, action="failed"))
            texts.append([])
            continue
        if drafts and line.strip():
            texts[-1].append(line.strip())
    for draft, lines in zip(drafts, texts, strict=True):
        joined = " ".join(ln for ln in lines if not ln.startswith(("The MTS-ID", ";l=")))
        m = _MSEXCH.search(joined)
        if m:
            draft.reason = _CODES.get(m.group(1).upper())
            readable_part = joined[: m.start()].strip()
            draft.diagnostic = " ".join(x for x in (readable_part, m.group(2).strip()) if x)
        else:
            draft.diagnostic = joined
    return drafts or None
