"""The ``domain`` row and the DKIM row on DNS that fails in part, with a scripted DNS client (no
network): the report leads with the news that matters, and a time-out is never "no key"."""

from __future__ import annotations

from typing import Any, cast

from mailfate.doctor.domain import dkim
from mailfate.doctor.domain.context import CheckContext
from mailfate.doctor.domain.lead import UNDER_THE_DOMAIN, lead
from mailfate.doctor.domain.names import normalize_domain
from mailfate.doctor.domain.report import CheckOutcome, dns_problem
from mailfate.doctor.domain.resolve import Answer, DnsClient
from mailfate.doctor.findings import Finding, Severity
from mailfate.mailauth.dns import DnsStatus

TIMEOUT = "timeout: DNS did not answer within 2 s"


class ScriptedDns:
    """Answers from a script: ``(name, type)`` → status and error; anything else is NXDOMAIN."""

    timeout = 2.0

    def __init__(self, script: dict[tuple[str, str], tuple[DnsStatus, str]]) -> None:
        self.script = script

    def get(self, name: str, rtype: str) -> Answer:
        status, error = self.script.get((name, rtype), (DnsStatus.NONE, "NXDOMAIN"))
        return Answer(name, rtype, status, error=error)

    def txt(self, name: str) -> Answer:
        return self.get(name, "TXT")

    def prefetch(self, pairs: Any) -> None:
        list(pairs)

    def remaining(self) -> float:
        return 1.0


def _ctx(script: dict[tuple[str, str], tuple[DnsStatus, str]], **kwargs: Any) -> CheckContext:
    return CheckContext(
        domain=normalize_domain("example.test"), dns=cast(DnsClient, ScriptedDns(script)), **kwargs
    )


def _outcomes(ctx: CheckContext) -> dict[str, CheckOutcome]:
    """What the checks would have said: an SPF and DMARC error each, and the IP checks' rows."""
    out = {
        c: CheckOutcome([Finding(c, Severity.ERROR, f"{c} is missing")], {f"{c}.x": 1})
        for c in UNDER_THE_DOMAIN
    }
    out["mail-from"] = CheckOutcome([Finding("mail-from", Severity.INFO, "assumed")])
    out["ptr"] = CheckOutcome([Finding("ptr", Severity.OK, "192.0.2.10 → mail")])
    out["dnsbl"] = CheckOutcome([Finding("dnsbl", Severity.OK, "not listed")])
    return out


def test_nxdomain_leads_and_the_checks_under_the_name_are_not_run() -> None:
    ctx = _ctx({})
    outcomes = _outcomes(ctx)
    first = lead(ctx, outcomes)
    assert first.status == "nxdomain"
    (row,) = first.outcome.findings
    assert row.check == "domain" and row.severity is Severity.ERROR
    assert row.message.startswith("The domain example.test does not exist (NXDOMAIN)")
    assert first.not_run == [*UNDER_THE_DOMAIN, "mail-from"]
    for check in (*UNDER_THE_DOMAIN, "mail-from"):
        (only,) = outcomes[check].findings
        assert only.message.startswith("Not checked: example.test does not exist")
        # receivers fail these on every message: still errors, so no one reads the domain as clean
        failing = check in ("spf", "dkim", "dmarc", "mail-from", "mx")
        assert only.severity is (Severity.ERROR if failing else Severity.INFO), check
    assert outcomes["spf"].facts == {"spf.x": 1}  # facts stay: nothing is published there
    assert outcomes["ptr"].findings[0].severity is Severity.OK  # about the IP: still checked


def test_nxdomain_keeps_a_custom_mail_from_row() -> None:
    ctx = _ctx({}, mail_from=normalize_domain("bounce.other.test"))
    outcomes = _outcomes(ctx)
    kept = Finding("spf", Severity.OK, "192.0.2.10 may send", details={"domain": "bounce.other.test"})
    outcomes["spf"].findings.append(kept)
    outcomes["mail-from"] = CheckOutcome([Finding("mail-from", Severity.OK, "bounce.other.test resolves")])
    first = lead(ctx, outcomes)
    assert "mail-from" not in first.not_run
    assert outcomes["spf"].findings[1] is kept
    assert outcomes["mail-from"].findings[0].severity is Severity.OK


def test_servfail_leads_with_dns_did_not_answer() -> None:
    script = {
        ("example.test", "MX"): (DnsStatus.TEMPERROR, "no server answered (SERVFAIL)"),
        ("example.test", "TXT"): (DnsStatus.TEMPERROR, "no server answered (SERVFAIL)"),
    }
    ctx = _ctx(script)
    outcomes = _outcomes(ctx)
    failed = Answer("example.test", "TXT", DnsStatus.TEMPERROR, error="no server answered (SERVFAIL)")
    outcomes["spf"] = CheckOutcome([dns_problem("spf", failed, 2.0)])
    first = lead(ctx, outcomes)
    assert first.status == "no-answer" and first.not_run == ["spf"]
    (row,) = first.outcome.findings
    assert row.message.startswith("DNS did not answer for example.test (no server answered (SERVFAIL))")
    assert "--timeout" not in row.fix and "SERVFAIL" in row.fix
    assert outcomes["spf"].findings[0].details["dns_failed"] is True  # each check keeps its own row


def test_a_domain_that_answers_is_ok_and_names_checks_that_did_not_finish() -> None:
    ctx = _ctx({("example.test", "MX"): (DnsStatus.OK, ""), ("example.test", "TXT"): (DnsStatus.OK, "")})
    outcomes = _outcomes(ctx)
    assert lead(ctx, outcomes).outcome.findings[0].severity is Severity.OK
    failed = Answer("x.dnsbl.test", "A", DnsStatus.TEMPERROR, error=TIMEOUT)
    outcomes["dnsbl"] = CheckOutcome([dns_problem("dnsbl", failed, 2.0, severity=Severity.WARNING)])
    first = lead(ctx, outcomes)
    assert first.status == "exists" and first.not_run == ["dnsbl"]
    assert first.outcome.findings[0].severity is Severity.INFO


# --- dkim: a time-out is not "no key" ----------------------------------------------------------


def _dkim(script: dict[tuple[str, str], tuple[DnsStatus, str]], **kwargs: Any) -> CheckOutcome:
    kwargs.setdefault("selectors", dkim.COMMON_SELECTORS)
    kwargs.setdefault("selectors_guessed", True)
    return dkim.check(_ctx(script, **kwargs))


def _timeouts(*selectors: str) -> dict[tuple[str, str], tuple[DnsStatus, str]]:
    return {(f"{s}._domainkey.example.test", "TXT"): (DnsStatus.TEMPERROR, TIMEOUT) for s in selectors}


def test_probed_selectors_that_all_time_out_are_not_no_key() -> None:
    out = _dkim(_timeouts(*dkim.COMMON_SELECTORS))
    (row,) = out.findings
    assert row.severity is Severity.ERROR and "DNS did not answer" in row.message
    assert "not the same as having no key" in row.message
    assert "dkim.any_valid" not in out.facts and "dkim.valid" not in out.facts


def test_some_probed_selectors_time_out() -> None:
    out = _dkim(_timeouts("google", "s1"))
    (row,) = out.findings
    assert row.severity is Severity.WARNING
    assert "2 of 9 common selectors unanswered: google, s1" in row.message
    assert "has a key" not in row.message and "dkim.any_valid" not in out.facts


def test_a_named_selector_that_times_out_is_not_no_key() -> None:
    out = _dkim(_timeouts("s1"), selectors=("s1",), selectors_guessed=False)
    (row,) = out.findings
    assert (
        row.severity is Severity.ERROR and "did not answer" in row.message and "selector 's1'" in row.message
    )
    assert "No DKIM key" not in row.message
    assert "dkim.any_valid" not in out.facts  # DMARC then does not claim "no usable DKIM key"


def test_no_key_is_still_no_key() -> None:
    out = _dkim({}, selectors=("s1",), selectors_guessed=False)
    assert "No DKIM key for selector 's1'" in out.findings[0].message
    assert out.facts["dkim.any_valid"] is False
