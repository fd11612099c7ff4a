"""The reason vocabulary: Sisimai's names, the hard/soft rule, and every reason's kind."""

from __future__ import annotations

import pytest

from mailfate.model.reasons import (
    ALWAYS_HARD,
    BOUNCE_REASONS,
    NOT_BOUNCES,
    RETRYABLE_REASONS,
    Kind,
    Reason,
    is_hard,
    kind_of,
)


@pytest.mark.parametrize("reason", [Reason.USERUNKNOWN, Reason.HOSTUNKNOWN, Reason.HASMOVED])
def test_hard_reasons_are_hard_whatever_the_status_class(reason: Reason) -> None:
    assert is_hard(reason, "4.1.1", "450")


def test_notaccept_is_hard_unless_temporary() -> None:
    assert is_hard(Reason.NOTACCEPT, "5.1.10", "556")
    assert not is_hard(Reason.NOTACCEPT, "4.3.2", "")
    assert not is_hard(Reason.NOTACCEPT, "", "421")
    assert not is_hard(Reason.NOTACCEPT, "5.0.0", "550", "Temporary failure, try again later")


@pytest.mark.parametrize(
    "reason",
    [
        r
        for r in Reason
        if r not in (Reason.USERUNKNOWN, Reason.HOSTUNKNOWN, Reason.HASMOVED, Reason.NOTACCEPT)
    ],
)
def test_every_other_reason_is_soft(reason: Reason) -> None:
    assert not is_hard(reason, "5.0.0", "550")


def test_kinds() -> None:
    assert kind_of(Reason.FEEDBACK, False) is Kind.COMPLAINT
    assert kind_of(Reason.VACATION, False) is Kind.AUTOREPLY
    assert kind_of(Reason.DELIVERED, False) is Kind.DELIVERED
    assert kind_of(Reason.USERUNKNOWN, True) is Kind.HARD
    assert kind_of(Reason.MAILBOXFULL, False) is Kind.SOFT
    assert kind_of(Reason.ONHOLD, False) is Kind.UNDETERMINED


def test_the_tables_partition_the_reasons() -> None:
    """Every reason is a bounce or not, never both; the hard and retryable tables name bounces."""
    assert set(Reason) == BOUNCE_REASONS | NOT_BOUNCES
    assert not BOUNCE_REASONS & NOT_BOUNCES
    assert {Reason.DELIVERED, Reason.FEEDBACK, Reason.VACATION} == NOT_BOUNCES
    assert ALWAYS_HARD <= BOUNCE_REASONS
    assert RETRYABLE_REASONS <= BOUNCE_REASONS


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_has_a_kind(reason: Reason) -> None:
    """A bounce is hard (only an address that does not exist), soft or undetermined; a report that
    is not a bounce has its own kind, whatever the status class says."""
    for status, code in (("5.0.0", "550"), ("4.0.0", "450")):
        hard = is_hard(reason, status, code)
        kind = kind_of(reason, hard)
        if reason in NOT_BOUNCES:
            assert not hard
            assert kind in (Kind.DELIVERED, Kind.COMPLAINT, Kind.AUTOREPLY)
        elif hard:
            assert reason in ALWAYS_HARD | {Reason.NOTACCEPT}
            assert kind is Kind.HARD
        else:
            expected = Kind.UNDETERMINED if reason in (Reason.UNDEFINED, Reason.ONHOLD) else Kind.SOFT
            assert kind is expected


def test_every_kind_but_delayed_comes_from_a_reason() -> None:
    """DELAYED comes from a DSN's action, not from a reason; every other kind is reachable."""
    reached = {kind_of(r, is_hard(r, "5.0.0", "550")) for r in Reason}
    assert reached == set(Kind) - {Kind.DELAYED}


def test_values_are_the_lowercase_wire_names() -> None:
    for reason in Reason:
        assert reason.value == reason.name.lower()
    for kind in Kind:
        assert kind.value == kind.name.lower()
