"""Unidentified MTA "X6": "We had trouble delivering your message. Full details follow:"."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import command_in, find_address, readable, reply_draft

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "x6"
PRIORITY = 340

_PERMANENT = re.compile(
    r"recipients returned permanent errors: (?P<rcpt>.+?)\. Reason: SMTP Server <(?P<host>[^>]*)> "
    r"refused to accept your message \((?P<cmd>\w+)\).*?\[(?P<reply>[^\]]*)\]"
)
_REJECTED = re.compile(
    r"SMTP Server <(?P<host>[^>]*)> rejected recipient <(?P<rcpt>[^>]+)> "
    r"\(Error following (?P<cmd>\w+) command\).*?\[(?P<reply>[^\]]*)\]"
)


_PREFIXES = ("The following recipients returned permanent errors: ", "SMTP Server <")


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from an X6 bounce; None for other mail."""
    if mail.subject != "There was an error sending your mail":
        return None
    body = readable(mail)
    if "We had trouble delivering your message" not in body:
        return None
    drafts: list[Draft] = []
    for raw in body.split("\n"):
        line = raw.strip()
        m = _PERMANENT.search(line) or _REJECTED.search(line)
        if m is None:
            if line.startswith(_PREFIXES):
                # Another wording of the same report: keep the whole line as the diagnostic.
                start = line.find(": ") + 2 if line.startswith(_PREFIXES[0]) else line.rfind(" <") + 1
                rcpt = find_address(line[start:])
                if rcpt:
                    drafts.append(reply_draft(rcpt, line, command=command_in(line)))
            continue
        for address in m.group("rcpt").split(","):
            rcpt = find_address(address)
            if rcpt:
                drafts.append(
                    reply_draft(
                        rcpt, m.group("reply"), command=command_in(m.group("cmd")), remote_mta=m.group("host")
                    )
                )
    return drafts or None
