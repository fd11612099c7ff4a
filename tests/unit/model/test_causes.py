"""The cause vocabulary: every reason implies a cause, and only a dead address's causes are hard."""

from __future__ import annotations

import re

import pytest

from mailfate.model.causes import (
    ADDRESS_DEAD_CAUSES,
    NEVER_HARD_CAUSES,
    REASON_CAUSE,
    STRONG_EVIDENCE,
    Cause,
    Evidence,
    cause_of_reason,
    strong_enough,
)
from mailfate.model.reasons import ALWAYS_HARD, NOT_BOUNCES, Reason


def test_every_reason_implies_a_cause() -> None:
    assert set(REASON_CAUSE) == set(Reason)
    for reason in Reason:
        assert cause_of_reason(reason) is REASON_CAUSE[reason]


@pytest.mark.parametrize("reason", sorted(ALWAYS_HARD | {Reason.NOTACCEPT}))
def test_a_reason_that_can_be_hard_implies_a_dead_address(reason: Reason) -> None:
    assert cause_of_reason(reason) in ADDRESS_DEAD_CAUSES


def test_the_dead_address_causes_are_exactly_those_of_the_hard_reasons() -> None:
    assert {cause_of_reason(r) for r in ALWAYS_HARD | {Reason.NOTACCEPT}} == ADDRESS_DEAD_CAUSES
    assert not ADDRESS_DEAD_CAUSES & NEVER_HARD_CAUSES
    assert set(Cause) - ADDRESS_DEAD_CAUSES - NEVER_HARD_CAUSES == {Cause.UNKNOWN, Cause.RETRY_FORBIDDEN}


def test_reports_that_are_not_bounces_have_their_own_causes() -> None:
    assert {cause_of_reason(r) for r in NOT_BOUNCES} == {Cause.DELIVERED, Cause.COMPLAINT, Cause.AUTO_REPLY}


def test_values_are_kebab_case_wire_names() -> None:
    for cause in Cause:
        assert re.fullmatch(r"[a-z]+(?:-[a-z]+)*", cause.value), cause
        assert cause.value == cause.name.lower().replace("_", "-")
    for evidence in Evidence:
        assert evidence.value == evidence.name.lower().replace("_", "-")


def test_evidence_is_strongest_first_and_only_the_strong_suppress() -> None:
    members = list(Evidence)
    assert set(members[:4]) == STRONG_EVIDENCE
    assert members[-1] is Evidence.NONE
    assert all(strong_enough(e) for e in STRONG_EVIDENCE)
    assert not strong_enough(Evidence.CODE_CLASS) and not strong_enough(Evidence.NONE)
    assert strong_enough("")  # a result stored before evidence was recorded counts as it did then
