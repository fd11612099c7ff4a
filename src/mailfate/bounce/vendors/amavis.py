"""amavisd-new: non-delivery and quarantine notices from "Content-filter at <host>" with a DSN part."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import dsn_drafts, dsn_report, readable

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "amavis"
PRIORITY = 300

# Lines of the human-readable part that say what amavis found wrong with the message itself.
_FINDINGS = re.compile(
    r"^\s*((?:Duplicate|Invalid|Improper use of|Missing required) header[^\n]{0,200}"
    r"|(?:Non-encoded 8-bit data|Improper folded header field)[^\n]{0,200})",
    re.IGNORECASE | re.MULTILINE,
)


def _is_amavis(mail: Mail) -> bool:
    sender = mail.sender
    if sender.startswith(('"content-filter at', "content-filter at")):
        return True
    return "amavisd-new" in mail.header("X-Mailer").lower()


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from an amavisd-new notice; None for other mail."""
    if not _is_amavis(mail):
        return None
    drafts = dsn_drafts(dsn_report(mail))
    findings = [m.group(1).strip() for m in _FINDINGS.finditer(readable(mail))]
    if findings:
        for draft in drafts:
            draft.diagnostic = f"{draft.diagnostic} ({'; '.join(findings)})"
    return drafts or None
