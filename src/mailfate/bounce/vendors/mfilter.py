"""m-FILTER (Digital Arts): Japanese bounces with "-------server message" and "-------SMTP command" blocks."""

from __future__ import annotations

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import ADDRESS, command_in, readable, reply_draft

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "mfilter"
PRIORITY = 300

_STOP = ("-------original message", "-------original mail info")


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from an m-FILTER bounce, one per address block; None for other mail."""
    if mail.header("X-Mailer").strip() != "m-FILTER":
        return None
    blocks: list[tuple[str, list[str], list[str]]] = []
    section = ""
    for raw in readable(mail).split("\n"):
        line = raw.strip()
        if line.startswith(_STOP):
            break
        if not line:
            continue
        if ADDRESS.fullmatch(line.strip("<>")):
            blocks.append((line.strip("<>"), [], []))
            section = ""
        elif line.startswith("-------server message"):
            section = "reply"
        elif line.startswith("-------SMTP command"):
            section = "command"
        elif blocks and section == "reply":
            blocks[-1][1].append(line)
        elif blocks and section == "command":
            blocks[-1][2].append(line)
    drafts: list[Draft] = []
    for address, reply, command in blocks:
        drafts.append(reply_draft(address, " ".join(reply), command=command_in(" ".join(command[:1]))))
    # A block without its own server message shares the next one's (several addresses, one error).
    for i in range(len(drafts) - 2, -1, -1):
        if not drafts[i].diagnostic and drafts[i + 1].diagnostic:
            later = drafts[i + 1]
            drafts[i] = reply_draft(drafts[i].recipient, later.diagnostic, command=later.command)
    return drafts or None
