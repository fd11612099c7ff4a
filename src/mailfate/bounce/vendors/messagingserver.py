"""Oracle (Sun, iPlanet, PMDF) Messaging Server: "Recipient address: / Reason: / Diagnostic code:" reports."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import dsn_report, readable, reply_draft, split_typed

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "messagingserver"
PRIORITY = 300

_FIELD = re.compile(r"^\s+(Recipient address|Original address|Reason|Diagnostic code|Remote system):\s*(.*)$")
# "Reason:" sentences that name the stage of the SMTP session unambiguously. "Remote SMTP server has
# rejected address" is left out: the server uses it for refusals of every kind, filters included.
_STAGES = (
    ("rejected mail from", "MAIL"),
    ("rejected the message", "DATA"),
)


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from a Messaging Server report; None for other mail."""
    # The subject may be rewritten or localized; the MIME boundary style is the server's own.
    if not mail.subject.startswith("Delivery Notification: ") and "Boundary_(ID_" not in mail.header(
        "Content-Type"
    ):
        return None
    body = readable(mail, with_dsn=True)
    if "This report relates to a message you sent" not in body:
        return None
    delayed = "delayed" in mail.subject.lower()
    entries: list[dict[str, str]] = []
    for raw in body.split("\n"):
        m = _FIELD.match(raw)
        if m is None:
            continue
        key, value = m.group(1).lower(), m.group(2).strip()
        if key == "recipient address":
            entries.append({"recipient": value})
        elif entries and key not in entries[-1]:
            entries[-1][key] = value
    dsn = dsn_report(mail)
    drafts: list[Draft] = []
    for entry in entries:
        fields = dsn.for_recipient(entry["recipient"])
        reason = entry.get("reason", "")
        command = next((cmd for phrase, cmd in _STAGES if phrase in reason.lower()), "")
        dtype, diagnostic = split_typed(entry.get("diagnostic code", ""))
        _, remote = split_typed(entry.get("remote system", ""))
        draft = reply_draft(
            entry["recipient"],
            diagnostic or reason,
            status=fields.get("status", ""),
            command=command,
            action="delayed" if delayed else fields.get("action", "failed").lower(),
            remote_mta=remote.split()[0] if remote else "",
            diagnostic_type=dtype,
        )
        drafts.append(draft)
    return drafts or None
