from __future__ import annotations

import pytest

from mailfate.bounce.reasons import Kind, Reason, is_hard, kind_of


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
