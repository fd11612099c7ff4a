"""The transport interface and the one rule for turning replies into attempt results.

``deliver`` never raises for anything the network or the receiver does: a refused connection, a
timeout, a garbled reply, a connection dropped mid-DATA are all results (deferred, never
delivered). 2xx → delivered, 4xx → deferred, 5xx → bounced; the reply is classified for the
reason (the code decides the outcome, the classification explains it), with one exception: a 4xx
whose text says retrying will not succeed is bounced (soft) rather than retried for days.
"""

from __future__ import annotations

from typing import Protocol

from mailfate.bounce import classify_reply
from mailfate.model import AttemptResult, Envelope, Outcome, SmtpReply

__all__ = ["Transport", "no_reply", "result_from_reply"]


class Transport(Protocol):
    name: str

    async def deliver(self, envelope: Envelope) -> list[AttemptResult]: ...

    async def aclose(self) -> None: ...


def result_from_reply(
    code: int,
    text: str,
    *,
    command: str,
    transport: str,
    remote_host: str = "",
    remote_ip: str = "",
    tls_version: str = "",
    connect_ms: float | None = None,
    total_ms: float | None = None,
    remote_id: str = "",
) -> AttemptResult:
    """An attempt result from one SMTP reply (``text`` without the code)."""
    heard = SmtpReply(code, "", " ".join(text.split())[:2000])
    verdict = classify_reply(heard)  # the enhanced status is read from the text there
    outcome: Outcome = "delivered" if 200 <= code < 300 else "bounced" if heard.is_permanent else "deferred"
    if outcome == "deferred" and not verdict.retry and heard.is_transient:
        outcome = "bounced"  # "retrying will NOT succeed": the receiver said so
    return AttemptResult(
        outcome,
        reply=SmtpReply(code, verdict.status, heard.text),
        reason=str(verdict.reason),
        hardbounce=outcome == "bounced" and verdict.hardbounce,
        rule_id=verdict.rule_id,
        command=command,
        transport=transport,
        remote_host=remote_host,
        remote_ip=remote_ip,
        tls_version=tls_version,
        connect_ms=connect_ms,
        total_ms=total_ms,
        retry_after=verdict.retry_after if outcome == "deferred" else None,
        remote_id=remote_id,
        cause=str(verdict.cause),
        cause_detail=verdict.cause_detail,
        evidence=str(verdict.evidence),
    )


def no_reply(
    text: str,
    *,
    command: str,
    transport: str,
    status: str = "4.4.1",
    reason: str = "networkerror",
    remote_host: str = "",
    remote_ip: str = "",
    total_ms: float | None = None,
) -> AttemptResult:
    """A deferral with no SMTP reply at all: refused, timed out, dropped, TLS or DNS failure."""
    return AttemptResult(
        outcome="deferred",
        code=0,
        status=status,
        text=text,
        reason=reason,
        hardbounce=False,
        rule_id="transport",
        command=command,
        transport=transport,
        remote_host=remote_host,
        remote_ip=remote_ip,
        total_ms=total_ms,
    )
