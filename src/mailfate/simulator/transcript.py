"""What one SMTP session said, for the inbox: the transcript and the attempts of a transaction.

:class:`SessionLog` is kept by every connection while the inbox is on: the lines of the session
before its first MAIL command (banner, EHLO, STARTTLS: the *head*, at most :data:`HEAD_LINES`)
and the lines of the current transaction. A transaction's transcript is the head and its own
lines; the log then starts over, so a session sending thousands of messages keeps one
transaction's lines at a time. The client's AUTH arguments are never kept.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime

from mailfate.simulator.inbox import Attempt, TranscriptLine
from mailfate.simulator.journal import outcome_of
from mailfate.simulator.model import Reply, SessionInfo

__all__ = ["HEAD_LINES", "MAX_LINES", "SessionLog", "attempts_of", "why_of"]

HEAD_LINES = 40
MAX_LINES = 400
"""Lines kept per transaction (a client sending garbage cannot grow it further)."""


def why_of(reply: Reply, decider: str) -> str:
    """A short reason for a reply: the outcome, and the bounce reason mailfate's classifier gives
    the reply when the script names one (``deferred, classified spamdetected`` for a greylisting)."""
    outcome = outcome_of(reply)
    if reply.reason is not None:
        return f"{outcome}, classified {reply.reason.value}"
    if not decider and reply.is_success:
        return f"{outcome}: no personality objected"
    return outcome


class SessionLog:
    """The transcript lines of one connection (see the module docstring)."""

    __slots__ = ("head", "in_tx", "lines", "next_note", "skip_next")

    def __init__(self) -> None:
        self.head: list[TranscriptLine] = []
        self.lines: list[TranscriptLine] = []
        self.in_tx = False
        self.next_note: tuple[str, str] | None = None
        self.skip_next = False

    def client(self, line: bytes) -> None:
        verb = line[:4].upper()
        if verb == b"MAIL":
            self.in_tx = True
        text = (
            "AUTH " + line[5:].split(b" ", 1)[0].decode("ascii", "replace") + " ***"
            if verb == b"AUTH"
            else None
        )
        self._add(TranscriptLine(time.time(), "C", text or line.decode("utf-8", "replace")))

    def server(self, text: str) -> None:
        if self.skip_next:
            self.skip_next = False
            return
        note, self.next_note = self.next_note, None
        who, why = note if note else ("", "")
        self._add(TranscriptLine(time.time(), "S", text, who, why))

    def decided(self, text: str, decider: str, why: str) -> None:
        """Log a reply now (before it is sent) and skip it when it is pushed."""
        self._add(TranscriptLine(time.time(), "S", text, decider, why))
        self.skip_next = True

    def note(self, text: str) -> None:
        self._add(TranscriptLine(time.time(), "*", text))

    def _add(self, line: TranscriptLine) -> None:
        target = self.lines if self.in_tx else self.head
        limit = MAX_LINES if self.in_tx else HEAD_LINES
        if len(target) < limit:
            target.append(line)

    def take(self) -> tuple[TranscriptLine, ...]:
        """The transaction's transcript (head + its lines); the log starts the next transaction."""
        out = (*self.head, *self.lines)
        self.lines = []
        self.in_tx = False
        return out


def attempts_of(  # noqa: PLR0917 - the parts of one finished transaction
    info: SessionInfo,
    mail_from: str,
    rcpts: Iterable[tuple[str, str | None, Reply, str, str]],
    data: tuple[Reply, str, str] | None,
    at: datetime,
    ids: dict[str, str],
) -> list[Attempt]:
    """One :class:`Attempt` per recipient: its RCPT refusal, else the DATA reply (else abandoned).

    ``rcpts`` are (address, domain, reply, wire text, decider); ``data`` the DATA reply, its
    wire text and decider; ``ids`` the inbox ids of the stored copies by domain.
    """
    out: list[Attempt] = []
    for rcpt, domain, reply, text, decider in rcpts:
        if not reply.is_success or reply.drop:
            stage, final, wire, who, outcome = "rcpt", reply, text, decider, outcome_of(reply)
        elif data is not None:
            stage, (final, wire, who) = "data", data
            outcome = outcome_of(final)
        else:
            stage, final, wire, who, outcome = "none", reply, text, decider, "abandoned"
        mid = ids.get(domain or "") if outcome == "accepted" else None
        why = why_of(final, who) if outcome != "abandoned" else "abandoned: no DATA followed"
        out.append(
            Attempt(
                at=at, session=info.session_id, client_ip=info.client_ip, helo=info.helo, mail_from=mail_from,
                rcpt=rcpt, stage=stage, code=final.code, status=final.status, text=wire, outcome=outcome,
                personality=who, why=why, message=mid,
            )
        )  # fmt: skip
    return out
