"""What a parser finds (a draft per recipient) and what mailfate reports (a record per recipient)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mailfate.model.causes import Cause, Evidence
from mailfate.model.reasons import Kind, Reason

__all__ = ["BounceRecord", "Draft"]


@dataclass(slots=True)
class Draft:
    """One recipient as a parser saw it, before classification.

    Parsers fill what their format carries and leave the rest empty. ``reason`` is set only when the
    format itself says why (a vendor's own error class, an ARF report, an auto-reply); otherwise the
    classifier decides from ``status``, ``replycode`` and ``diagnostic``.
    """

    recipient: str = ""
    action: str = ""
    """RFC 3464 action: failed, delayed, delivered, relayed, expanded; "" when unknown."""
    status: str = ""
    """Enhanced status code x.y.z (RFC 3463)."""
    replycode: str = ""
    """Three-digit SMTP reply code."""
    diagnostic: str = ""
    diagnostic_type: str = ""
    """The Diagnostic-Code type: SMTP, X-Unix, X-Postfix, ... ("" when absent)."""
    command: str = ""
    """The SMTP command that failed: CONN, EHLO, HELO, MAIL, RCPT, DATA, ... ("" when unknown)."""
    remote_mta: str = ""
    reporting_mta: str = ""
    timestamp: datetime | None = None
    reason: Reason | None = None
    """Set only when the format itself names the reason."""
    vouched: bool = False
    """The format names ``reason`` with authority (an SES permanent ``NoEmail`` bounce): it is
    evidence of the format, not an inference from a reply code."""
    feedback_type: str = ""
    original_message_id: str = ""
    original_envelope_sender: str = ""
    original_recipient: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BounceRecord:
    """The fate of one recipient as a bounce, DSN, complaint or auto-reply tells it."""

    recipient: str
    action: str
    status: str
    replycode: str
    diagnostic: str
    reason: Reason
    hardbounce: bool
    kind: Kind
    remote_mta: str
    reporting_mta: str
    original_message_id: str
    original_envelope_sender: str
    timestamp: datetime | None
    feedback_type: str
    parser: str
    rule_id: str
    """The id of the classification rule (or parser step) that decided the reason."""
    command: str = ""
    cause: Cause = Cause.UNKNOWN
    """The finer cause a sender acts on (see :mod:`mailfate.model.causes`)."""
    cause_detail: str = ""
    evidence: Evidence = Evidence.NONE
    """What decided the reason; a hard bounce suppresses only on strong evidence."""
    retry: bool = False
    """Whether sending again later can succeed."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with every field."""
        out = dataclasses.asdict(self)
        out["reason"] = str(self.reason)
        out["kind"] = str(self.kind)
        out["cause"] = str(self.cause)
        out["evidence"] = str(self.evidence)
        out["timestamp"] = self.timestamp.isoformat() if self.timestamp else None
        return out

    def summary(self) -> dict[str, Any]:
        """The fields ``mailfate bounce classify --json`` prints per result."""
        return {
            "recipient": self.recipient,
            "status": self.status,
            "replycode": self.replycode,
            "reason": str(self.reason),
            "cause": str(self.cause),
            **({"cause_detail": self.cause_detail} if self.cause_detail else {}),
            "hardbounce": self.hardbounce,
            "kind": str(self.kind),
            "retry": self.retry,
            "evidence": str(self.evidence),
            "diagnostic": self.diagnostic,
            "remote_mta": self.remote_mta,
            "original_message_id": self.original_message_id,
            "parser": self.parser,
        }
