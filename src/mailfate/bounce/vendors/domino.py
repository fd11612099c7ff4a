"""HCL (IBM Lotus) Domino: "Your message ... was not delivered to: ... because: ..."."""

from __future__ import annotations

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import (
    dsn_report,
    find_address,
    host_of,
    readable,
    reply_draft,
    split_typed,
)

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "domino"
PRIORITY = 300


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from a Domino delivery failure report; None for other mail."""
    if not mail.subject.startswith("DELIVERY FAILURE:") and "DELIVERY_FAILURE" not in mail.subject:
        return None
    body = readable(mail)
    if "was not delivered to:" not in body:
        return None
    recipients: list[str] = []
    because: list[str] = []
    section = ""
    for raw in body.split("\n"):
        line = raw.strip()
        if line.startswith("was not delivered to:"):
            section = "to"
            continue
        if line.startswith("because:"):
            section = "because"
            continue
        if not line:
            if section == "because" and because:
                break
            continue
        if section == "to":
            address = find_address(line)
            if address:
                recipients.append(address)
        elif section == "because":
            because.append(line)
    dsn = dsn_report(mail)
    reason_text = " ".join(because)
    drafts: list[Draft] = []
    for address in recipients:
        fields = dsn.for_recipient(address) or (dsn.recipients[0] if len(dsn.recipients) == 1 else {})
        remote = host_of(fields.get("remote-mta", ""))
        dtype = split_typed(fields.get("diagnostic-code", ""))[0]
        drafts.append(
            reply_draft(
                address,
                reason_text,
                status=fields.get("status", ""),
                remote_mta=remote,
                diagnostic_type=dtype,
            )
        )
    return drafts or None
