"""``late-bounce``: accept the message, then bounce it later with an RFC 3464 DSN.

The asynchronous hard bounce: the receiver answers 250, its mail store finds later that the
mailbox does not exist, and a DSN goes back to the envelope sender minutes (here ``delay``
seconds) after the 250. Options (``[domains."x".late-bounce]``):

- ``delay``: seconds between acceptance and the DSN (default 30, the ``[reports]`` delay);
- ``reply``: the key of the domain's reply whose text becomes the Diagnostic-Code
  (default ``unknown_user``);
- ``status``: the DSN's Status (default: that reply's enhanced status, 5.1.1 for unknown_user).

A message with the null sender (a bounce itself) is never bounced.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from mailfate.errors import ConfigError
from mailfate.model.reply import is_status
from mailfate.simulator.dsnbuild import build_dsn
from mailfate.simulator.model import (
    AcceptedMessage,
    DataContext,
    OutgoingReport,
    Personality,
    RcptContext,
    Reply,
    ReplyBook,
    ReportSink,
    Services,
)
from mailfate.simulator.reports import delay_option

__all__ = ["LateBounce"]

_FALLBACK = Reply(550, "5.1.1", "<{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table")


class LateBounce(Personality):
    """Accept, then send a DSN for every recipient of the domain after ``delay``."""

    name: ClassVar[str] = "late-bounce"

    def __init__(self, options: Mapping[str, Any], services: Services) -> None:
        super().__init__(options, services)
        self.delay = delay_option(self.options, self.name)
        self.reply_key = str(self.options.get("reply", "unknown_user"))
        status = self.options.get("status")
        if status is not None and (not isinstance(status, str) or not is_status(status) or status[0] == "2"):
            raise ConfigError(
                f"{self.name}: status = {status!r} is not a 4.x.x or 5.x.x enhanced status code; "
                'write e.g. status = "5.1.1"'
            )
        self.status: str | None = status
        self._replies: ReplyBook | None = None

    async def on_rcpt(self, ctx: RcptContext) -> Reply | None:
        self._replies = ctx.replies
        return None

    async def on_data(self, ctx: DataContext) -> Reply | None:
        self._replies = ctx.replies
        return None

    def _reply(self) -> Reply:
        reply = _FALLBACK
        if self._replies is not None:
            try:
                reply = self._replies.get(self.reply_key)
            except KeyError:
                reply = _FALLBACK
        if self.status is not None:
            reply = dataclasses.replace(reply, status=self.status, code=550 if self.status[0] == "5" else 450)
        return reply

    async def after_accept(self, message: AcceptedMessage, reports: ReportSink) -> None:
        if not message.mail_from:
            return
        reply = self._reply()
        host = self.services.hostname
        due = self.services.clock.now() + self.delay
        for rcpt in message.rcpts:
            local, _, domain = rcpt.rpartition("@")
            text = reply.one_line(
                rcpt=rcpt,
                domain=domain,
                local_part=local,
                mail_from=message.mail_from,
                client_ip=message.session.client_ip,
                helo=message.session.helo,
                hostname=host,
                queue_id=message.queue_id,
            )
            content = build_dsn(
                message.content,
                reporting_mta=host,
                rcpt=rcpt,
                action="failed" if reply.status.startswith("5") else "delayed",
                status=reply.status or "5.0.0",
                diagnostic=f"smtp; {text}",
                remote_mta=f"mailstore.{message.domain}",
                arrival_date=message.accepted_at,
                envelope_sender=message.mail_from,
                date=due,
            )
            reports.schedule(
                OutgoingReport(
                    kind="dsn",
                    mail_from="",
                    rcpt=message.mail_from,
                    content=content,
                    not_before=due,
                    about=rcpt,
                )
            )
