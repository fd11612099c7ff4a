"""Whether a reply came from the built-in simulator, and how every view names it.

An attempt records the transport that made it (``AttemptResult.transport``, the ``transport`` key of
an attempt event). Replies the ``simulator`` transport got were written by ``mailfate simulator``'s
personalities, not by the receiver the address names: every trace, timeline, page and report says
so, in the reader's language, so no one mistakes a simulated answer for the internet's.

A report (a DSN, a complaint, an auto-reply, a delay notice) carries no transport: it came back
from wherever the recipient's mail went. When the attempt before it went to the simulator, the
report is the simulator's too (its late bounces and complaints): :func:`simulated_events`.
"""

from __future__ import annotations

from collections.abc import Iterable

from mailfate.model.fate import REPORT_EVENTS
from mailfate.model.records import Event

__all__ = ["SIMULATED_LABEL", "SIMULATED_TRANSPORTS", "simulated", "simulated_events"]

SIMULATED_TRANSPORTS = frozenset({"simulator"})
"""Transports whose replies come from mailfate's own simulator."""

SIMULATED_LABEL = {"en": "simulated receiver", "ko": "시뮬레이터(가상 수신 서버)"}
"""What a view shows beside a reply from the simulator, per language."""


def simulated(transport: str | None) -> bool:
    """True when an attempt through ``transport`` was answered by the built-in simulator."""
    return (transport or "") in SIMULATED_TRANSPORTS


def simulated_events(events: Iterable[Event]) -> set[int]:
    """The ids of the events the built-in simulator answered: attempts through a simulated
    transport, and reports on a recipient whose latest attempt before them was one (``events`` in
    the order they happened, as a timeline lists them)."""
    found: set[int] = set()
    last_attempt: dict[tuple[str, int | None], bool] = {}
    for event in events:
        who = (event.message_id, event.recipient_id)
        if event.type == "attempt":
            last_attempt[who] = simulated(event.data.get("transport"))
            if last_attempt[who]:
                found.add(event.id)
        elif event.type in REPORT_EVENTS and last_attempt.get(who):
            found.add(event.id)
    return found
