"""``complaint``: accept the message, then report it later as spam with an RFC 5965 ARF report.

What a feedback loop (Yahoo, Outlook.com JMRP, SES complaint notifications) does when a recipient
presses "report spam". Options (``[domains."x".complaint]``):

- ``feedback_type``: the ARF Feedback-Type (default ``abuse``; also fraud, virus, other, not-spam,
  opt-out, auth-failure);
- ``delay``: seconds between acceptance and the report (default 30, the ``[reports]`` delay).

One report per recipient, sent to the original envelope sender; a message with the null sender
gets none.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar

from mailfate.errors import ConfigError
from mailfate.simulator.dsnbuild import build_arf
from mailfate.simulator.model import AcceptedMessage, OutgoingReport, Personality, ReportSink, Services
from mailfate.simulator.reports import delay_option

__all__ = ["FEEDBACK_TYPES", "USER_AGENT", "Complaint", "schedule_complaint"]

FEEDBACK_TYPES = frozenset({"abuse", "fraud", "virus", "other", "not-spam", "opt-out", "auth-failure"})
USER_AGENT = "mailfate-simulator/1.0"


def schedule_complaint(
    message: AcceptedMessage,
    rcpt: str,
    reports: ReportSink,
    *,
    due_in: timedelta,
    services: Services,
    feedback_type: str = "abuse",
) -> None:
    """Schedule an ARF report about ``rcpt``'s copy of ``message`` (nothing for a null sender)."""
    if not message.mail_from:
        return
    due = services.clock.now() + due_in
    content = build_arf(
        message.content,
        feedback_type=feedback_type,
        user_agent=USER_AGENT,
        source_ip=message.session.client_ip,
        original_rcpt=rcpt,
        reporting_domain=message.domain,
        original_mail_from=message.mail_from,
        arrival_date=message.accepted_at,
        date=due,
    )
    reports.schedule(
        OutgoingReport(
            kind="arf", mail_from="", rcpt=message.mail_from, content=content, not_before=due, about=rcpt
        )
    )


class Complaint(Personality):
    """Accept, then send an ARF complaint for every recipient of the domain after ``delay``."""

    name: ClassVar[str] = "complaint"

    def __init__(self, options: Mapping[str, Any], services: Services) -> None:
        super().__init__(options, services)
        self.delay = delay_option(self.options, self.name)
        kind = self.options.get("feedback_type", "abuse")
        if not isinstance(kind, str) or kind.lower() not in FEEDBACK_TYPES:
            raise ConfigError(
                f"{self.name}: feedback_type = {kind!r} is not an ARF feedback type; "
                f"use one of {', '.join(sorted(FEEDBACK_TYPES))}"
            )
        self.feedback_type = kind.lower()

    async def after_accept(self, message: AcceptedMessage, reports: ReportSink) -> None:
        for rcpt in message.rcpts:
            schedule_complaint(
                message,
                rcpt,
                reports,
                due_in=self.delay,
                services=self.services,
                feedback_type=self.feedback_type,
            )
