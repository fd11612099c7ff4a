"""DragonFly Mail Agent (dma): plain-text bounces "There was an error delivering your mail to <addr>."."""

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
from mailfate.model.reply import STATUS_PATTERN

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "dragonfly"
PRIORITY = 300

_ERROR_LINE = re.compile(r"^There was an error delivering your mail to <([^>]+)>")
_PEER = re.compile(r"^(\S+) \[([^\]]*)\] did not like our (.+?):\s*$")
_STOP = ("Message headers follow.", "Original message follows.")


def _is_dma(mail: Mail) -> bool:
    if any("(DragonFly Mail Agent" in r for r in mail.headers("Received")):
        return True
    return mail.subject == "Mail delivery failed" and "DragonFly Mail Agent" in mail.text[:400]


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts for the recipient of a dma bounce; None for other mail."""
    if not _is_dma(mail):
        return None
    drafts: list[Draft] = []
    current: Draft | None = None
    lines: list[str] = []
    for line in body_before(readable(mail), _STOP):
        m = _ERROR_LINE.match(line)
        if m:
            if current is not None:
                drafts.append(_finish(current, lines))
            current, lines = Draft(recipient=find_address(m.group(1)), action="failed"), []
            continue
        if current is None or not line.strip():
            continue
        peer = _PEER.match(line)
        if peer:
            current.remote_mta = peer.group(1)
            current.command = command_in(peer.group(3))
            continue
        lines.append(line.strip())
    if current is not None:
        drafts.append(_finish(current, lines))
    return drafts or None


def _finish(draft: Draft, lines: list[str]) -> Draft:
    # Multi-line replies repeat "550-5.7.26": keep the code once.
    text = " ".join(
        re.sub(r"^\d{3}[ -](?:" + STATUS_PATTERN + r"\s+)?", "", ln) if i else ln
        for i, ln in enumerate(lines)
    )
    built = reply_draft(draft.recipient, text, command=draft.command, remote_mta=draft.remote_mta)
    return built
