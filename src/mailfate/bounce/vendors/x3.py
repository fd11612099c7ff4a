"""Unidentified MTA "X3": "This is an automatically generated Delivery Status Notification." reports."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import (
    command_in,
    dsn_report,
    readable,
    reply_draft,
    split_typed,
)
from mailfate.model.reasons import Reason

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "x3"
PRIORITY = 340

_RECIPIENT = re.compile(r"^\*\s+(\S+@\S+)\s*$")
_SMTP_DETAIL = re.compile(r"^SMTP:(\w+) host (\S+?):\s*(.*)$")


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from an X3 report; None for other mail."""
    if (
        not mail.subject.startswith("Delivery status notification")
        or "mail delivery system" not in mail.sender
    ):
        return None
    body = readable(mail)
    if "This is an automatically generated Delivery Status Notification" not in body:
        return None
    aborted = "was aborted after" in body
    recipients: list[str] = []
    details: list[str] = []
    command = ""
    remote = ""
    in_details = False
    for raw in body.split("\n"):
        line = raw.strip()
        m = _RECIPIENT.match(line)
        if m:
            recipients.append(m.group(1))
            continue
        if line.startswith("Technical details:"):
            in_details = True
            continue
        if in_details:
            if line.startswith("====") or not line:
                if details:
                    break
                continue
            smtp = _SMTP_DETAIL.match(line)
            if smtp:
                command, remote = command_in(smtp.group(1)), smtp.group(2)
                line = smtp.group(3)
            details.append(line)
    dsn = dsn_report(mail)
    drafts: list[Draft] = []
    for address in recipients:
        fields = dsn.for_recipient(address)
        _, diag = split_typed(fields.get("diagnostic-code", ""))
        draft = reply_draft(
            address,
            " ".join(details) or diag,
            status=fields.get("status", ""),
            command=command,
            remote_mta=remote,
        )
        if aborted and not details and not diag:
            draft.reason = Reason.EXPIRED
        elif aborted and not draft.replycode and not command:
            # "Delivery ... was aborted after N hour(s)": retries ran out; the detail is the last error.
            draft.reason = Reason.EXPIRED
        drafts.append(draft)
    return drafts or None
