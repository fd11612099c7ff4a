"""Courier MTA: "This is a delivery status notification from ... running the Courier mail server"."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import (
    command_in,
    dsn_report,
    find_address,
    host_of,
    readable,
    reply_draft,
    split_typed,
)

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "courier"
PRIORITY = 300

_RECIPIENT = re.compile(r"^<([^>]+@[^>]+)>:\s*$")
_SUBJECTS = ("NOTICE: mail delivery status.", "WARNING: delayed mail.")
_MARKERS = ("UNDELIVERABLE MAIL", "DELAYS IN DELIVERING YOUR MESSAGE")


def _transcripts(body: str) -> dict[str, tuple[str, str]]:
    """address -> (command, reply text) from the human-readable part."""
    out: dict[str, tuple[str, str]] = {}
    current = ""
    command = ""
    reply: list[str] = []
    for raw in body.split("\n"):
        line = raw.strip()
        m = _RECIPIENT.match(line)
        if m:
            if current:
                out[current] = (command, " ".join(reply))
            current, command, reply = m.group(1).lower(), "", []
            continue
        if not current:
            continue
        if line.startswith(">>>"):
            command = command_in(line)
        elif line.startswith("<<<"):
            reply.append(line[3:].strip())
        elif line.startswith("----"):
            out[current] = (command, " ".join(reply))
            current = ""
    if current:
        out[current] = (command, " ".join(reply))
    return out


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from a Courier DSN; None for other mail."""
    if not (
        mail.subject in _SUBJECTS
        or "courier mail server at " in mail.sender
        or mail.header("Message-ID").startswith("<courier.")
    ):
        return None
    body = readable(mail)
    head = body[:3000]
    if "Courier mail server" not in head and not any(m in head for m in _MARKERS):
        return None
    action = "delayed" if mail.subject.startswith("WARNING") else "failed"
    transcripts = _transcripts(body)
    dsn = dsn_report(mail)
    drafts: list[Draft] = []
    if dsn.recipients:
        for fields in dsn.recipients:
            address = find_address(fields.get("final-recipient") or fields.get("original-recipient", ""))
            dtype, diagnostic = split_typed(fields.get("diagnostic-code", ""))
            command, reply = transcripts.get(address.lower(), ("", ""))
            remote = host_of(fields.get("remote-mta", ""))
            drafts.append(
                reply_draft(
                    address,
                    diagnostic or reply,
                    status=fields.get("status", ""),
                    command=command,
                    action=fields.get("action", action).lower(),
                    remote_mta=remote,
                    diagnostic_type=dtype,
                )
            )
        return drafts or None
    for address, (command, reply) in transcripts.items():
        drafts.append(reply_draft(address, reply, command=command, action=action))
    return drafts or None
