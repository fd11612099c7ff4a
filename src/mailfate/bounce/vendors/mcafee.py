"""McAfee Email and Web Security appliance: "--- The following addresses had delivery problems ---"."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import (
    dsn_report,
    find_address,
    readable,
    reply_draft,
    split_typed,
)

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "mcafee"
PRIORITY = 300

_LINE = re.compile(r"^<?([^>\s]+@[^>\s]+)>?\s+\((.*)\)\s*$")


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from a McAfee appliance bounce; None for other mail."""
    if "McAfee" not in mail.header("X-NAI-Header") and mail.subject != "Delivery Status":
        return None
    body = readable(mail)
    if "--- The following addresses had delivery problems ---" not in body:
        return None
    dsn = dsn_report(mail)
    diagnostics: dict[str, tuple[str, str, str]] = {}
    for fields in dsn.recipients:
        address = find_address(fields.get("original-recipient") or fields.get("final-recipient", ""))
        dtype, diag = split_typed(fields.get("diagnostic-code", ""))
        diagnostics[address.lower()] = (dtype, diag, fields.get("remote-mta", ""))
    drafts: list[Draft] = []
    for raw in body.split("\n"):
        m = _LINE.match(raw.strip())
        if m is None:
            continue
        dtype, diag, remote = diagnostics.get(m.group(1).lower(), ("", "", ""))
        drafts.append(reply_draft(m.group(1), diag or m.group(2), remote_mta=remote, diagnostic_type=dtype))
    return drafts or None
