"""Hard and soft bounces: the one definition every count uses.

The tiles and the chart of the dashboard, the receivers page, the rollups, ``/metrics``, the alerts'
rates and ``/v1/stats`` all count with this module, so they cannot disagree.

- A **hard bounce** is a refusal for good that retrying cannot fix: a bounce — a 5xx answer to a
  delivery attempt, or an asynchronous bounce (a DSN to the VERP address, an SES Bounce) — that the
  classifier marked hard. The mark is the event's ``hardbounce`` flag, which the classifier sets
  from the bounce reason (``mailfate.bounce.is_hard``, Sisimai's rule): ``userunknown``,
  ``hostunknown``, ``hasmoved``, and ``notaccept`` unless the reply is 4xx or says temporary. The
  reply's code class alone does not make a bounce hard: ``554 5.7.1 Relay access denied``
  (``norelaying``) is a 5xx and a soft bounce.
- A **soft bounce** is every other failure for good: a bounce not marked hard (``norelaying``,
  ``mailboxfull``, ``blocked``, ``spamdetected`` …), or an **expiry**: mailfate gave up at the
  message's deadline or maximum age after deferrals (SES's "transient" bounce, sent when it stops
  retrying).
- **Neither**: a deferral (a 4xx that is retried: the recipient is still open and may yet be
  delivered), a delay notice, a delivery, a complaint, an auto-reply, a recipient suppressed or
  rejected before any attempt.

An event without the ``hardbounce`` flag (mailfate writes none: attempts and reports always carry
it) is not counted hard: hard is only claimed on the classifier's word.

Two views count with this definition:

- **events** (what happened in a window: the rollups, hence the dashboard, the alerts and the
  rates in ``/metrics``): :func:`bounce_class` of each event; the rollup kinds ``bounced_hard``,
  ``bounced_soft`` and ``expired`` (:data:`KIND_CLASS`);
- **recipients** (where each one is now: ``/v1/stats``, ``mailfate_bounced_recipients``): a
  recipient whose fate is ``bounced`` is a hard bounce if the bounce that ended it is marked hard
  (the store writes that mark with the fate: ``recipients.hard_bounce``), else a soft one; a
  recipient whose fate is ``expired`` is a soft bounce (:func:`fate_class`).

The bounce rate is hard bounces / sent, where *sent* is what receivers answered for good:
delivered plus hard and soft bounces — expiries and deferrals excluded (SES's and the mailbox
providers' rate; see ``mailfate.tracking.rates``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from mailfate.model.fate import EventType, Fate

__all__ = [
    "ANSWERED_KINDS",
    "HARD_FLAG",
    "KIND_CLASS",
    "BounceClass",
    "BounceCounts",
    "bounce_class",
    "bounce_kind",
    "fate_class",
    "is_bounce",
]

HARD_FLAG = "hardbounce"
"""The key of an event's data that carries the classifier's hard mark."""


class BounceClass(StrEnum):
    HARD = "hard"
    """Refused for good for a reason retrying cannot fix (the address or domain is dead)."""
    SOFT = "soft"
    """Failed for good for any other reason, or given up on after deferrals (expired)."""


def is_bounce(event_type: str, outcome: str | None) -> bool:
    """A bounce event: an attempt refused for good, or an asynchronous bounce report."""
    return event_type == EventType.BOUNCED or (event_type == EventType.ATTEMPT and outcome == "bounced")


def bounce_class(event_type: str, outcome: str | None, data: Mapping[str, Any]) -> BounceClass | None:
    """The class of one event (``outcome``: an attempt's outcome): hard or soft bounce, or None
    when the event is neither (a delivery, a deferral, a complaint …)."""
    if is_bounce(event_type, outcome):
        return BounceClass.HARD if data.get(HARD_FLAG) is True else BounceClass.SOFT
    if event_type == EventType.EXPIRED:
        return BounceClass.SOFT
    return None


def bounce_kind(hard: bool) -> str:
    """The rollup kind of a bounce event: ``bounced_hard`` or ``bounced_soft``."""
    return "bounced_hard" if hard else "bounced_soft"


KIND_CLASS: Mapping[str, BounceClass] = {
    "bounced_hard": BounceClass.HARD,
    "bounced_soft": BounceClass.SOFT,
    "expired": BounceClass.SOFT,
}
"""The rollup kinds that count as a bounce, and as which."""

ANSWERED_KINDS = ("delivered", "bounced_hard", "bounced_soft")
"""Rollup kinds of what receivers answered for good: the *sent* of the bounce rate."""


def fate_class(fate: str, hard: bool) -> BounceClass | None:
    """The class of a recipient by its fate (``hard``: the bounce that ended it is marked hard)."""
    if fate == Fate.BOUNCED:
        return BounceClass.HARD if hard else BounceClass.SOFT
    if fate == Fate.EXPIRED:
        return BounceClass.SOFT
    return None


@dataclass(frozen=True, slots=True)
class BounceCounts:
    hard: int = 0
    soft: int = 0
    expired: int = 0
    """Of the soft bounces, how many are expiries."""

    @classmethod
    def of_kinds(cls, counts: Mapping[str, int]) -> BounceCounts:
        """From counts per rollup kind."""
        hard = soft = 0
        for kind, n in counts.items():
            found = KIND_CLASS.get(kind)
            if found is BounceClass.HARD:
                hard += n
            elif found is BounceClass.SOFT:
                soft += n
        return cls(hard, soft, counts.get("expired", 0))

    def __add__(self, other: BounceCounts) -> BounceCounts:
        return BounceCounts(self.hard + other.hard, self.soft + other.soft, self.expired + other.expired)

    def to_json(self) -> dict[str, int]:
        return {"hard": self.hard, "soft": self.soft, "expired": self.expired}
