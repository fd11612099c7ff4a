"""Receiver checklists: every rule has a passing and a failing case; rules DNS cannot see are
``unknown``; the data files are well-formed and cite their sources."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mailfate.doctor.domain.receivers import (
    RECEIVERS,
    evaluate,
    evaluate_receivers,
    load_checklist,
    parse_receivers,
)
from mailfate.doctor.domain.report import DomainReport
from mailfate.errors import InputError
from tests.support import domain_zones as z
from tests.support.knot import KnotServer

GOOD: dict[str, Any] = {
    "spf.valid": True,
    "spf.ips_pass": True,
    "dkim.any_valid": True,
    "dkim.min_rsa_bits": 2048,
    "dmarc.valid": True,
    "dmarc.aligned": True,
    "dmarc.spf_aligned": True,
    "dmarc.dkim_aligned": True,
    "mx.present": True,
    "ptr.all_fcrdns": True,
    "dnsbl.listed": False,
}

# rule id → the facts that make it fail (hand-written; the test below checks every rule is here)
FAILING: dict[str, dict[str, Any]] = {
    "gmail.all.spf-or-dkim": {"spf.ips_pass": False, "dkim.any_valid": False},
    "gmail.all.ptr": {"ptr.all_fcrdns": False},
    "gmail.bulk.spf-and-dkim": {"dkim.any_valid": False},
    "gmail.bulk.dmarc": {"dmarc.valid": False},
    "gmail.bulk.alignment": {"dmarc.aligned": False},
    "gmail.rec.dkim-2048": {"dkim.min_rsa_bits": 1024},
    "yahoo.all.spf-or-dkim": {"spf.ips_pass": False, "dkim.any_valid": False},
    "yahoo.all.ptr": {"ptr.all_fcrdns": False},
    "yahoo.bulk.spf-and-dkim": {"spf.ips_pass": False},
    "yahoo.bulk.dmarc": {"dmarc.valid": False},
    "yahoo.bulk.alignment": {"dmarc.aligned": False},
    "outlook.bulk.spf": {"spf.valid": False},
    "outlook.bulk.dkim": {"dkim.any_valid": False},
    "outlook.bulk.dmarc": {"dmarc.aligned": False},
    "outlook.rec.both-aligned": {"dmarc.spf_aligned": False},
    "outlook.rec.p2-sender": {"mx.present": False},
    "naver.auth": {"spf.ips_pass": False, "dkim.any_valid": False},
    "naver.spf": {"spf.ips_pass": False},
    "naver.dkim": {"dkim.any_valid": False},
    "naver.dmarc": {"dmarc.valid": False},
    "naver.ptr": {"ptr.all_fcrdns": False},
    "daum.spf": {"spf.valid": False},
    "daum.blocklists": {"dnsbl.listed": True},
}

DNS_RULES = [(r, rule.id) for r in RECEIVERS for rule in load_checklist(r).rules if not rule.manual]
MANUAL_RULES = [(r, rule.id) for r in RECEIVERS for rule in load_checklist(r).rules if rule.manual]


def _status(receiver: str, rule_id: str, facts: dict[str, Any]) -> str:
    report = DomainReport("example.test", facts=facts)
    (result,) = [r for r in evaluate(load_checklist(receiver), report) if r.rule.id == rule_id]
    return result.status


def test_every_dns_rule_has_a_failing_case() -> None:
    assert {i for _, i in DNS_RULES} == set(FAILING)


@pytest.mark.parametrize(("receiver", "rule_id"), DNS_RULES)
def test_rule_passes(receiver: str, rule_id: str) -> None:
    assert _status(receiver, rule_id, GOOD) == "pass"


@pytest.mark.parametrize(("receiver", "rule_id"), DNS_RULES)
def test_rule_fails(receiver: str, rule_id: str) -> None:
    assert _status(receiver, rule_id, {**GOOD, **FAILING[rule_id]}) == "fail"


@pytest.mark.parametrize(("receiver", "rule_id"), DNS_RULES)
def test_rule_is_unknown_without_facts(receiver: str, rule_id: str) -> None:
    assert _status(receiver, rule_id, {}) == "unknown"


@pytest.mark.parametrize(("receiver", "rule_id"), MANUAL_RULES)
def test_rules_dns_cannot_see_are_unknown_with_a_hint(receiver: str, rule_id: str) -> None:
    report = DomainReport("example.test", facts=GOOD)
    (result,) = [r for r in evaluate(load_checklist(receiver), report) if r.rule.id == rule_id]
    assert result.status == "unknown"
    assert result.evidence.startswith("not visible in DNS: ")


@pytest.mark.parametrize("receiver", RECEIVERS)
def test_checklist_files_cite_sources(receiver: str) -> None:
    checklist = load_checklist(receiver)
    assert checklist.name
    for rule in checklist.rules:
        assert rule.source.url.startswith("https://")
        assert rule.source.title and rule.source.date and rule.source.status
        assert rule.kind in ("requirement", "recommendation", "observed")
        assert rule.description and rule.checks


def test_parse_receivers() -> None:
    assert parse_receivers(["gmail,naver", "GMAIL", " yahoo "]) == ("gmail", "naver", "yahoo")
    assert parse_receivers(["all"]) == RECEIVERS
    with pytest.raises(InputError, match="choose from"):
        parse_receivers(["hotmail"])


@pytest.fixture(scope="module")
def knot(knot_factory: Callable[[dict[str, str]], KnotServer]) -> KnotServer:
    return knot_factory(z.zones(z.make_keys()))


def test_clean_zone_passes_every_dns_rule_of_every_receiver(knot: KnotServer) -> None:
    report = z.clean(knot)
    for entry in evaluate_receivers(RECEIVERS, report):
        failing = [(r["id"], r["evidence"]) for r in entry["rules"] if r["status"] == "fail"]
        assert failing == []
        statuses = {r["id"]: r["status"] for r in entry["rules"]}
        assert all(statuses[i] == "pass" for _, i in DNS_RULES if i in statuses)


def test_defective_zone_fails_the_matching_rules_with_evidence(knot: KnotServer) -> None:
    report = z.run(knot, "dmarcnone.test", ips=["192.0.2.20"], selectors=["none"])
    (gmail,) = evaluate_receivers(["gmail"], report)
    rules = {r["id"]: r for r in gmail["rules"]}
    assert rules["gmail.bulk.dmarc"]["status"] == "pass"  # p=none is enough for Gmail
    assert rules["gmail.all.ptr"]["status"] == "fail"
    assert "ptr.all_fcrdns=False" in rules["gmail.all.ptr"]["evidence"]
    assert "has no PTR" in rules["gmail.all.ptr"]["evidence"]
    assert rules["gmail.all.spf-or-dkim"]["status"] == "fail"
    assert gmail["summary"]["fail"] >= 2
    assert rules["gmail.all.ptr"]["source"]["url"].startswith("https://support.google.com/")


def test_without_ips_spf_rules_are_unknown(knot: KnotServer) -> None:
    report = z.run(knot, "clean.test", selectors=["s2048"])
    (yahoo,) = evaluate_receivers(["yahoo"], report)
    rules = {r["id"]: r["status"] for r in yahoo["rules"]}
    assert rules["yahoo.all.spf-or-dkim"] == "pass"  # DKIM alone is enough
    assert rules["yahoo.bulk.spf-and-dkim"] == "unknown"
    assert rules["yahoo.all.ptr"] == "unknown"
