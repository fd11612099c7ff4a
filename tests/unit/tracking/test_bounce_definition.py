"""The one definition of hard and soft (``mailfate.model.bounces``) and the readers built on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mailfate.bounce import classify_reply
from mailfate.model import EventType, Fate
from mailfate.model.bounces import (
    ANSWERED_KINDS,
    KIND_CLASS,
    BounceClass,
    BounceCounts,
    bounce_class,
    fate_class,
)
from mailfate.tracking.overview import SERIES, domain_health, overview
from mailfate.tracking.rates import Rates

HARD, SOFT = BounceClass.HARD, BounceClass.SOFT


@pytest.mark.parametrize(
    ("code", "status", "text", "reason", "expected"),
    [
        (550, "5.1.1", "User unknown", "userunknown", HARD),
        (550, "5.1.2", "Host or domain name not found", "hostunknown", HARD),
        (554, "5.7.1", "Relay access denied", "norelaying", SOFT),  # a 5xx, and soft
        (552, "5.2.2", "Mailbox full", "mailboxfull", SOFT),
        (554, "5.7.1", "Message rejected as spam", "spamdetected", SOFT),
    ],
)
def test_a_refusal_is_hard_by_its_reason_not_by_its_code_class(
    code: int, status: str, text: str, reason: str, expected: BounceClass
) -> None:
    """The event's mark comes from the classifier's reason rule; the definition reads the mark."""
    verdict = classify_reply(code, status, text)
    assert verdict.reason == reason
    data = {"hardbounce": verdict.hardbounce}
    assert bounce_class(EventType.ATTEMPT, "bounced", data) is expected
    assert bounce_class(EventType.BOUNCED, None, data) is expected  # the same as a DSN after a 250


def test_an_expiry_is_soft_and_the_rest_is_no_bounce() -> None:
    assert bounce_class(EventType.EXPIRED, None, {"last_reason": "greylisting"}) is SOFT
    assert (
        bounce_class(EventType.ATTEMPT, "bounced", {}) is SOFT
    )  # no mark: hard only on the classifier's word
    assert bounce_class(EventType.BOUNCED, None, {}) is SOFT
    for kind, outcome in [
        (EventType.ATTEMPT, "delivered"),
        (EventType.ATTEMPT, "deferred"),  # retried: may still arrive
        (EventType.DELAYED, None),
        (EventType.COMPLAINED, None),
        (EventType.AUTOREPLIED, None),
        (EventType.SUPPRESSED, None),
        (EventType.REJECTED, None),
        (EventType.QUEUED, None),
    ]:
        assert bounce_class(kind, outcome, {"hardbounce": True}) is None, kind


def test_fates_and_rollup_kinds_follow_the_same_rule() -> None:
    assert fate_class(Fate.BOUNCED, True) is HARD
    assert fate_class(Fate.BOUNCED, False) is SOFT
    assert fate_class(Fate.EXPIRED, False) is SOFT
    for fate in set(Fate) - {Fate.BOUNCED, Fate.EXPIRED}:
        assert fate_class(fate, True) is None, fate
    assert KIND_CLASS == {"bounced_hard": HARD, "bounced_soft": SOFT, "expired": SOFT}
    counts = {"bounced_hard": 2, "bounced_soft": 1, "expired": 3, "deferred": 9, "delivered": 5}
    assert BounceCounts.of_kinds(counts) == BounceCounts(hard=2, soft=4, expired=3)
    assert BounceCounts(1, 2, 1) + BounceCounts(0, 1, 0) == BounceCounts(1, 3, 1)
    assert set(ANSWERED_KINDS) == {"delivered", "bounced_hard", "bounced_soft"}


def test_rates_count_hard_over_what_was_answered() -> None:
    r = Rates.of({"delivered": 6, "bounced_hard": 1, "bounced_soft": 1, "expired": 2, "deferred": 7})
    assert (r.sent, r.hard, r.soft) == (8, 1, 3)
    assert r.bounce_rate == 1 / 8


def test_tiles_chart_and_receivers_read_the_same_rollups_alike() -> None:
    """The chart once drew every bounce under "Hard bounced", the receivers table counted a
    norelaying as hard: each now adds up to the tiles."""
    now = datetime(2026, 12, 6, 12, 30, tzinfo=UTC)
    hour = now.replace(minute=0)
    rows = [
        (hour, "delivered", -1, 5),
        (hour, "deferred", -1, 4),
        (hour, "bounced_soft", -1, 4),  # e.g. 554 5.7.1 relay access denied, four times
        (hour - timedelta(hours=1), "bounced_hard", -1, 1),
        (hour, "expired", -1, 2),
    ]
    ov = overview(rows, now - timedelta(hours=24), now)
    assert ov.bounces == BounceCounts(hard=1, soft=6, expired=2)
    assert tuple(ov.hourly[-1][1]) == SERIES
    assert sum(c["hard"] for _, c in ov.hourly) == ov.bounces.hard
    assert sum(c["soft"] for _, c in ov.hourly) == ov.bounces.soft
    domains = domain_health([
        ("naver.test", "bounced_soft", "norelaying", -1, 4),
        ("naver.test", "bounced_hard", "userunknown", -1, 1),
        ("naver.test", "expired", "greylisting", -1, 2),
        ("naver.test", "deferred", "greylisting", -1, 4),
    ])  # fmt: skip
    [naver] = domains
    assert (naver.hard, naver.soft, naver.expired, naver.attempts) == (1, 6, 2, 9)
    assert naver.to_json()["bounces"] == {"hard": 1, "soft": 6, "expired": 2}
