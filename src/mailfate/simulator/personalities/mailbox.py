"""``mailbox-simulator``: fixed outcomes by local part, after Amazon SES's mailbox simulator.

The local part decides, case-insensitively and ignoring a ``+label`` suffix (so a test can tell
its messages apart: ``bounce+signup-42@simulator.mailfate.test``):

============== =========================================================================
success        250
bounce         ``unknown_user`` (550 5.1.1) at RCPT
ooto           250, then an RFC 3834 out-of-office auto-reply to the envelope sender
complaint      250, then an RFC 5965 ARF complaint to the envelope sender
suppressionlist ``suppressed`` (550 5.1.1) at RCPT
anything else  250
============== =========================================================================

Options (``[domains."x".mailbox-simulator]``): ``delay`` seconds before the auto-reply or the
complaint (default 30), ``autoreply_text`` the auto-reply's text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from mailfate.errors import ConfigError
from mailfate.simulator.dsnbuild import build_autoreply
from mailfate.simulator.model import (
    AcceptedMessage,
    OutgoingReport,
    Personality,
    RcptContext,
    Reply,
    ReportSink,
    Services,
)
from mailfate.simulator.personalities.complaint import schedule_complaint
from mailfate.simulator.reports import delay_option

__all__ = ["MailboxSimulator", "scenario"]

DEFAULT_TEXT = (
    "Thank you for your message. I am out of the office with limited access to email "
    "and will reply when I am back."
)
_AT_RCPT = {"bounce": "unknown_user", "suppressionlist": "suppressed"}


def scenario(local_part: str) -> str:
    """The mailbox simulator scenario of a local part: its base before ``+``, lowercased."""
    return local_part.split("+", 1)[0].lower()


class MailboxSimulator(Personality):
    """SES-style fixed outcomes by local part."""

    name: ClassVar[str] = "mailbox-simulator"

    def __init__(self, options: Mapping[str, Any], services: Services) -> None:
        super().__init__(options, services)
        self.delay = delay_option(self.options, self.name)
        text = self.options.get("autoreply_text", DEFAULT_TEXT)
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(f"{self.name}: autoreply_text must be a non-empty string")
        self.autoreply_text = text

    async def on_rcpt(self, ctx: RcptContext) -> Reply | None:
        key = _AT_RCPT.get(scenario(ctx.local_part))
        return ctx.replies.get(key) if key else None

    async def after_accept(self, message: AcceptedMessage, reports: ReportSink) -> None:
        if not message.mail_from:
            return  # RFC 3834 §2: never answer a message with the null sender
        for rcpt in message.rcpts:
            which = scenario(rcpt.rpartition("@")[0])
            if which == "complaint":
                schedule_complaint(message, rcpt, reports, due_in=self.delay, services=self.services)
            elif which == "ooto":
                due = self.services.clock.now() + self.delay
                content = build_autoreply(
                    message.content, rcpt=rcpt, text=self.autoreply_text, sender=message.mail_from, date=due
                )
                reports.schedule(
                    OutgoingReport(
                        kind="autoreply",
                        mail_from="",
                        rcpt=message.mail_from,
                        content=content,
                        not_before=due,
                        about=rcpt,
                    )
                )
