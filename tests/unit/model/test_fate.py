"""Fates are a fold over events: the order of a recipient's life, and a message's summary."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mailfate.model import FINAL_FATES, OPEN_FATES, EventType, Fate, fate_of, fold_step, message_fate

Q = (EventType.QUEUED, "")


def attempt(outcome: str) -> tuple[str, str]:
    return (EventType.ATTEMPT, outcome)


def test_greylisted_then_delivered() -> None:
    assert fate_of([Q, attempt("deferred")]) == Fate.DEFERRED
    assert fate_of([Q, attempt("deferred"), attempt("delivered")]) == Fate.DELIVERED


def test_a_late_dsn_turns_delivered_into_bounced() -> None:
    assert fate_of([Q, attempt("delivered"), (EventType.BOUNCED, "")]) == Fate.BOUNCED


def test_complaint_and_autoreply_follow_the_delivery() -> None:
    delivered = [Q, attempt("delivered")]
    assert fate_of([*delivered, (EventType.AUTOREPLIED, "")]) == Fate.AUTOREPLIED
    assert fate_of([*delivered, (EventType.AUTOREPLIED, ""), (EventType.COMPLAINED, "")]) == Fate.COMPLAINED
    assert fate_of([*delivered, (EventType.COMPLAINED, ""), (EventType.AUTOREPLIED, "")]) == Fate.COMPLAINED
    # a bounce outranks both: the address is dead whatever an autoresponder said
    assert fate_of([*delivered, (EventType.COMPLAINED, ""), (EventType.BOUNCED, "")]) == Fate.BOUNCED
    assert fate_of([*delivered, (EventType.BOUNCED, ""), (EventType.AUTOREPLIED, "")]) == Fate.BOUNCED


def test_a_report_stored_before_its_attempt_still_decides() -> None:
    """The DSN came back 50 ms after the 250, while the attempt waited in a worker's batch."""
    assert fate_of([Q, (EventType.BOUNCED, ""), attempt("delivered")]) == Fate.BOUNCED
    assert fate_of([Q, (EventType.COMPLAINED, ""), attempt("delivered")]) == Fate.COMPLAINED
    assert (
        fate_of([Q, attempt("deferred"), (EventType.AUTOREPLIED, ""), attempt("delivered")])
        == Fate.AUTOREPLIED
    )


def test_an_attempt_whose_lease_was_lost_decides_nothing() -> None:
    lost = fold_step(EventType.ATTEMPT, {"outcome": "delivered", "lease_lost": True})
    assert fate_of([Q, attempt("deferred"), lost]) == Fate.DEFERRED
    assert fold_step(EventType.ATTEMPT, {"outcome": "delivered"}) == attempt("delivered")
    assert fold_step(EventType.BOUNCED, {"outcome": "delivered"}) == (EventType.BOUNCED, "")
    expired = fold_step(EventType.EXPIRED, {"why": "deadline", "lease_lost": True})
    assert fate_of([Q, attempt("deferred"), expired]) == Fate.DEFERRED


def test_expiry_applies_only_while_open() -> None:
    assert fate_of([Q, attempt("deferred"), (EventType.EXPIRED, "")]) == Fate.EXPIRED
    assert fate_of([Q, attempt("delivered"), (EventType.EXPIRED, "")]) == Fate.DELIVERED


def test_suppressed_and_rejected_are_not_undone_by_a_stray_dsn() -> None:
    assert fate_of([(EventType.SUPPRESSED, ""), (EventType.BOUNCED, "")]) == Fate.SUPPRESSED
    assert fate_of([Q, (EventType.REJECTED, ""), (EventType.BOUNCED, "")]) == Fate.REJECTED


def test_information_events_do_not_move_the_fate() -> None:
    for kind in (EventType.DELAYED, EventType.SUPPRESSION_ADDED):
        assert fate_of([Q, attempt("deferred"), (kind, "")]) == Fate.DEFERRED


def test_message_fate_open_before_failed_before_delivered() -> None:
    assert message_fate([Fate.DELIVERED, Fate.DELIVERED]) == Fate.DELIVERED
    assert message_fate([Fate.DELIVERED, Fate.BOUNCED]) == Fate.BOUNCED
    assert message_fate([Fate.BOUNCED, Fate.DEFERRED]) == Fate.DEFERRED
    assert message_fate([]) == Fate.QUEUED


_EVENTS = st.lists(
    st.tuples(st.sampled_from(list(EventType)), st.sampled_from(["", "delivered", "deferred", "bounced"]))
)


@given(_EVENTS)
def test_any_sequence_ends_in_a_fate_and_final_failures_stick(events: list[tuple[str, str]]) -> None:
    fate = fate_of(events)
    assert fate in OPEN_FATES | FINAL_FATES
    if fate in (Fate.SUPPRESSED, Fate.REJECTED):
        later = [*events, (EventType.BOUNCED, ""), (EventType.COMPLAINED, ""), (EventType.EXPIRED, "")]
        assert fate_of(later) == fate


_REPORTS = st.lists(
    st.sampled_from(
        [
            EventType.BOUNCED,
            EventType.COMPLAINED,
            EventType.AUTOREPLIED,
            EventType.DELAYED,
            EventType.SUPPRESSION_ADDED,
        ]
    ),
    max_size=4,
)


@given(
    deferrals=st.integers(0, 4),
    last=st.sampled_from(["delivered", "deferred", "bounced"]),
    reports=_REPORTS,
    data=st.data(),
)
def test_the_fold_follows_cause_not_arrival(
    deferrals: int, last: str, reports: list[EventType], data: st.DataObject
) -> None:
    """A recipient's attempts are written in order, but each report about its delivery may be
    stored anywhere after the message was queued (in another process, before the worker's batch of
    results): every such interleaving folds to the fate of the causal order."""
    attempts = [attempt("deferred")] * deferrals + [attempt(last)]
    reports = reports if last == "delivered" else []  # reports only come after a 250
    causal = [Q, *attempts, *((kind, "") for kind in reports)]
    arrived: list[tuple[str, str]] = [Q, *attempts]
    for kind in reports:
        arrived.insert(data.draw(st.integers(1, len(arrived)), label="position"), (kind, ""))
    assert fate_of(arrived) == fate_of(causal)
