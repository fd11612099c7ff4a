"""What the inbox records besides messages: transcript lines, attempts, and message ids.

Both records are tuples (``NamedTuple``), so that the garbage collector does not track the
hundreds of thousands of them a long run keeps.
"""

from __future__ import annotations

import functools
import zlib
from datetime import UTC, datetime
from typing import Any, NamedTuple

__all__ = ["Attempt", "TranscriptLine", "message_id_for"]

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@functools.lru_cache(maxsize=4096)
def _domain_tag(domain: str) -> str:
    n = zlib.crc32(domain.encode("utf-8", "surrogateescape"))
    out = []
    for _ in range(6):
        n, r = divmod(n, 62)
        out.append(_ALPHABET[r])
    return "".join(out)


def message_id_for(domain: str, queue_id: str) -> str:
    """The inbox id of the copy stored for ``domain`` under ``queue_id``: the queue id (unique per
    run: a random prefix and a counter) and 6 base62 characters of the domain, so that the same
    maildir file gets the same id after a restart (21 characters, letters and digits)."""
    return queue_id + _domain_tag(domain)


class TranscriptLine(NamedTuple):
    """One line of an SMTP session: ``direction`` ``"C"`` (client), ``"S"`` (server) or ``"*"`` (a note).

    ``personality`` and ``why`` say who decided a server reply (``"greylist"``, ``"rule #1 ..."``,
    ``"chaos Recipient"``) and why (its reason); empty for protocol replies. ``at`` is a Unix time.
    A tuple, so that the garbage collector does not track a million of them.
    """

    at: float
    direction: str
    line: str
    personality: str = ""
    why: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "At": datetime.fromtimestamp(self.at, UTC).isoformat(timespec="milliseconds"),
            "Direction": self.direction, "Line": self.line, "Personality": self.personality, "Why": self.why,
        }  # fmt: skip


class Attempt(NamedTuple):
    """One recipient of one transaction and what it finally got (RCPT refusal or DATA reply).

    A tuple (not tracked by the garbage collector), like :class:`TranscriptLine`."""

    at: datetime
    session: str
    client_ip: str
    helo: str
    mail_from: str
    rcpt: str
    stage: str
    """``"rcpt"`` (refused at RCPT), ``"data"`` (the DATA reply) or ``"none"`` (no DATA followed)."""
    code: int
    status: str
    text: str
    outcome: str
    """``accepted``, ``deferred``, ``rejected``, ``dropped`` or ``abandoned``."""
    personality: str
    why: str
    message: str | None = None
    """The inbox id of the stored copy (accepted attempts)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "At": self.at.astimezone(UTC).isoformat(), "Session": self.session, "ClientIP": self.client_ip,
            "Helo": self.helo, "MailFrom": self.mail_from, "Rcpt": self.rcpt, "Stage": self.stage,
            "Code": self.code, "Status": self.status, "Text": self.text, "Outcome": self.outcome,
            "Personality": self.personality, "Why": self.why, "MessageID": self.message,
        }  # fmt: skip
