"""Values passed between the delivery engine's parts: envelopes, attempt results, events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from mailfate.model.reply import SmtpReply

__all__ = ["AttemptResult", "Envelope", "Event", "Outcome"]

Outcome = Literal["delivered", "deferred", "bounced"]


@dataclass(frozen=True, slots=True)
class Envelope:
    """What a transport needs for one delivery: the SMTP envelope and the bytes to send.

    ``recipients`` share one destination domain; ``keys`` are the store's recipient ids in the
    same order, so results map back to rows.
    """

    mail_from: str
    recipients: tuple[str, ...]
    data: bytes
    keys: tuple[int, ...] = ()
    message_id: str = ""
    """The store's message id (not the Message-ID header)."""


@dataclass(frozen=True, slots=True, init=False)
class AttemptResult:
    """What happened to one recipient in one attempt: the reply, what it means, where it came from.

    ``outcome`` is decided from the classification (a 4xx that the classifier calls hard stays
    deferred only if the code is transient: the reply code wins for the outcome, the reason for the
    explanation). ``retry_after`` is a receiver's "try again in N seconds" when it said so.

    The reply is an :class:`~mailfate.model.reply.SmtpReply` (code 0: there was none). It is
    written as its parts, ``AttemptResult("bounced", 550, "5.1.1", "User unknown", ...)``, or
    handed over whole as ``reply=``; ``code``, ``status`` and ``text`` read it back.
    """

    outcome: Outcome
    reply: SmtpReply
    reason: str
    hardbounce: bool
    rule_id: str
    command: str
    """The SMTP command the reply answered (connect, EHLO, MAIL, RCPT, DATA) or "api" for SES."""
    transport: str
    remote_host: str
    remote_ip: str
    tls_version: str
    connect_ms: float | None
    total_ms: float | None
    retry_after: float | None
    remote_id: str
    """The receiver's queue id or SES MessageId, when it gave one."""
    fix: str
    """What the sender must change, when the transport knows (SES: verify the MAIL FROM domain)."""
    cause: str
    """The finer cause (``mailfate.model.causes.Cause``): greylisted, spf-fail, ip-blocklisted..."""
    cause_detail: str
    """More about the cause: the blocklist's name."""
    evidence: str
    """What decided the reason (format, provider-rule, status, phrase, code-class, none): a hard
    bounce suppresses the address only on evidence stronger than a code class."""

    def __init__(  # noqa: PLR0917 - the six parts every call site writes positionally
        self,
        outcome: Outcome,
        code: int = 0,
        status: str = "",
        text: str = "",
        reason: str = "",
        hardbounce: bool = False,
        *,
        reply: SmtpReply | None = None,
        rule_id: str = "",
        command: str = "",
        transport: str = "",
        remote_host: str = "",
        remote_ip: str = "",
        tls_version: str = "",
        connect_ms: float | None = None,
        total_ms: float | None = None,
        retry_after: float | None = None,
        remote_id: str = "",
        fix: str = "",
        cause: str = "",
        cause_detail: str = "",
        evidence: str = "",
    ) -> None:
        if reply is None:
            reply = SmtpReply(code, status, text)
        elif code or status or text:
            raise TypeError("AttemptResult takes the reply whole (reply=) or as its parts, not both")
        facts = locals()  # every field is a parameter of the same name
        for name in self.__dataclass_fields__:
            object.__setattr__(self, name, facts[name])

    @property
    def code(self) -> int:
        """The reply code; 0 when there was no reply."""
        return self.reply.code

    @property
    def status(self) -> str:
        """The enhanced status code, as the receiver gave it or as the classifier read it."""
        return self.reply.status

    @property
    def text(self) -> str:
        """The reply's text, without the code and the status."""
        return self.reply.text

    def to_json(self) -> dict[str, Any]:
        """The fields of the attempt event, the reply flat (``code``, ``status``, ``text``) where it
        always stood; empty ones left out."""
        out: dict[str, Any] = {"outcome": self.outcome}
        for name in self.__dataclass_fields__:
            if name == "reply":
                out.update(code=self.code, status=self.status, text=self.text)
            elif name != "outcome":
                out[name] = getattr(self, name)
        return {k: v for k, v in out.items() if v not in (None, "")}


@dataclass(frozen=True, slots=True)
class Event:
    """One row of a timeline."""

    id: int
    message_id: str
    recipient_id: int | None
    recipient: str
    at: datetime
    type: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "message_id": self.message_id, "recipient": self.recipient,
            "at": self.at.isoformat(), "type": self.type, **self.data,
        }  # fmt: skip
