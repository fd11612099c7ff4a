"""Whether a reply came from the built-in simulator, and how every view names it.

An attempt records the transport that made it (``AttemptResult.transport``, the ``transport`` key of
an attempt event). Replies the ``simulator`` transport got were written by ``mailfate simulator``'s
personalities, not by the receiver the address names: every trace, timeline, page and report says
so, in the reader's language, so no one mistakes a simulated answer for the internet's.
"""

from __future__ import annotations

__all__ = ["SIMULATED_LABEL", "SIMULATED_TRANSPORTS", "simulated"]

SIMULATED_TRANSPORTS = frozenset({"simulator"})
"""Transports whose replies come from mailfate's own simulator."""

SIMULATED_LABEL = {"en": "simulated receiver", "ko": "시뮬레이터(가상 수신 서버)"}
"""What a view shows beside a reply from the simulator, per language."""


def simulated(transport: str | None) -> bool:
    """True when an attempt through ``transport`` was answered by the built-in simulator."""
    return (transport or "") in SIMULATED_TRANSPORTS
