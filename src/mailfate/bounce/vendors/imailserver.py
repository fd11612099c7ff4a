"""Ipswitch (Progress) IMail Server (SMTP32): "Undeliverable Mail" with "error text: address" lines."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import (
    body_before,
    command_in,
    find_address,
    readable,
    reply_draft,
)
from mailfate.model.reasons import Reason

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "imailserver"
PRIORITY = 300

_LINE = re.compile(r"^(.{3,200}?):\s*<?(\S+@[^\s>]+)>?\s*$")
_UNDELIVERABLE = re.compile(r"^undeliverable to\s+<?(\S+@[^\s>]+)>?", re.IGNORECASE)
_RESPONSE = "Body of message generated response:"
# IMail's own error sentences and the reasons they state.
_MESSAGES = (
    ("unknown user", Reason.USERUNKNOWN),
    ("invalid final delivery userid", Reason.USERUNKNOWN),
    ("user mailbox exceeds allowed size", Reason.MAILBOXFULL),
    ("unknown host", Reason.HOSTUNKNOWN),
    ("delivery failed", Reason.EXPIRED),
)


def _is_imail(mail: Mail) -> bool:
    if mail.header("X-Mailer").startswith("<SMTP32 v"):
        return True
    subject = mail.subject
    return subject == "Undeliverable Mail" or subject.startswith("Undeliverable Mail ")


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from an IMail bounce; None for other mail."""
    if not _is_imail(mail):
        return None
    drafts: list[Draft] = []
    response: list[str] = []
    in_response = False
    for raw in body_before(readable(mail), ("Original message follows.",)):
        line = raw.strip()
        m = _LINE.match(line)
        u = _UNDELIVERABLE.match(line) if m is None else None
        if m or u:
            address = find_address(m.group(2) if m else u.group(1) if u else "")
            draft = reply_draft(address, line)
            lowered = line.lower()
            draft.reason = next((r for phrase, r in _MESSAGES if lowered.startswith(phrase)), None)
            drafts.append(draft)
            in_response = False
            continue
        if line.startswith(_RESPONSE):
            in_response = True
            rest = line[len(_RESPONSE) :].strip()
            if rest:
                response.append(rest)
            continue
        if in_response and line:
            response.append(line)
    if response:
        remote = " ".join(response)
        for draft in drafts:
            built = reply_draft(draft.recipient, f"{draft.diagnostic} {remote}")
            draft.diagnostic, draft.status, draft.replycode = built.diagnostic, built.status, built.replycode
            draft.command = command_in(remote)
    return drafts or None
