"""Microsoft 365 / Exchange Online non-delivery reports ("Undeliverable: ...").

Exchange Online marks its NDRs with ``X-MS-Exchange-Message-Is-Ndr`` and generates them on hosts
under ``prod.outlook.com``, ``protection.outlook.com`` or ``exchangelabs.com``. The RFC 3464 part is
read when present; some NDRs have none, and then the "Diagnostic information for administrators"
section of the text is read instead::

    Generating server: AM0PR01MB0001.eurprd01.prod.outlook.com

    nobody@example.org
    Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found ...'

Enhanced codes with three-digit details (5.1.10, 5.4.312, 4.7.650) are Microsoft's and are kept.
"""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.reply import normalize_status
from mailfate.bounce.vendors._provider_common import ADDRESS, dsn_drafts, dsn_text, host_of, text_before

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "office365"
PRIORITY = 255

_CLOUD = re.compile(
    r"(?:Generating server|Reporting-MTA):\s*(?:dns;\s*)?[A-Za-z0-9.\-]*"
    r"\.(?:outlook\.com|exchangelabs\.com|office365\.com|onmicrosoft\.com|outlook\.cn)\b",
    re.IGNORECASE,
)
_ADMIN = "Diagnostic information for administrators:"
_GENERATING = re.compile(r"Generating server:\s*([A-Za-z0-9.\-]+)", re.IGNORECASE)
_REMOTE_RETURNED = re.compile(r"Remote Server returned '(.{1,2000}?)'", re.IGNORECASE | re.DOTALL)
_HASHED = re.compile(r"^#\s*([245]\d\d[ -].{1,1000}?)(?:##.*)?$")
_MAILTO = re.compile(r"<mailto:[^>]*>")


def _is_exchange_online(mail: Mail) -> bool:
    if mail.message.get("X-MS-Exchange-Message-Is-Ndr") is None and not mail.subject.startswith(
        "Undeliverable"
    ):
        return False
    return _CLOUD.search(mail.text) is not None


def _from_text(text: str) -> list[Draft]:
    start = text.find(_ADMIN)
    if start < 0:
        return []
    section = text_before(text[start + len(_ADMIN) :], "Original message headers:", "Content-Type: ")
    generating = _GENERATING.search(section)
    reporting = generating.group(1).lower() if generating else ""
    drafts: list[Draft] = []
    lines = section.split("\n")
    for i, raw in enumerate(lines):
        line = _MAILTO.sub("", raw).strip()
        if not line or " " in line or not ADDRESS.fullmatch(line):
            continue
        rest = "\n".join(lines[i + 1 : i + 8])
        draft = Draft(recipient=line, action="failed", reporting_mta=reporting, diagnostic_type="SMTP")
        returned = _REMOTE_RETURNED.search(rest)
        if returned:
            draft.diagnostic = " ".join(returned.group(1).split())
        else:
            for candidate in rest.split("\n"):
                hashed = _HASHED.match(candidate.strip())
                if hashed:
                    draft.diagnostic = hashed.group(1).strip()
                    break
        draft.status = normalize_status(draft.diagnostic)
        drafts.append(draft)
    return drafts


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts for an Exchange Online NDR, or None when the mail is not one."""
    if not _is_exchange_online(mail):
        return None
    status = dsn_text(mail)
    drafts = dsn_drafts(status) if status else []
    if not drafts:
        drafts = _from_text(mail.text)
    for d in drafts:
        if d.reporting_mta:
            d.reporting_mta = host_of(d.reporting_mta)
    return drafts or None
