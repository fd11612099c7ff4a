"""``check_domain`` on the clean zone (real Knot, real keys): no error, every fact, the real DKIM sign +
verify with ``--dkim-key``, IDN spellings, multi-string TXT, the JSON shape."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mailfate.doctor.domain import CHECKS, FACTS
from mailfate.doctor.findings import Severity
from mailfate.errors import ConfigError, InputError
from tests.support import domain_zones as z
from tests.support.knot import KnotServer


@pytest.fixture(scope="module")
def knot(knot_factory: Callable[[dict[str, str]], KnotServer]) -> KnotServer:
    return knot_factory(z.zones(z.make_keys()))


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(url: str, timeout: float) -> str:
        raise AssertionError(f"a test tried to fetch {url}")

    monkeypatch.setattr("mailfate.doctor.domain.policy.fetch_https", refuse)


def test_clean_zone_reports_no_error_and_no_warning(knot: KnotServer) -> None:
    report = z.clean(knot)
    bad = [(f.check, f.severity.value, f.message) for f in report.findings if f.severity.rank < 2]
    assert bad == []
    assert not report.has_errors
    assert {f.check for f in report.findings} == set(CHECKS)
    assert all(f.check in CHECKS for f in report.findings)
    assert [f.check for f in report.findings] == sorted(
        (f.check for f in report.findings), key=CHECKS.index
    )  # ordered by check
    assert report.elapsed < 2.0


def test_clean_zone_facts(knot: KnotServer) -> None:
    facts = z.clean(knot).facts
    assert set(facts) <= set(FACTS)
    assert facts["spf.ips_pass"] is True and facts["spf.valid"] is True and facts["spf.all"] == "-all"
    assert facts["dkim.any_valid"] is True and facts["dkim.min_rsa_bits"] == 2048
    assert (facts["dmarc.policy"], facts["dmarc.enforced"], facts["dmarc.aligned"]) == ("reject", True, True)
    assert facts["mail_from.domain"] == "bounce.clean.test" and facts["mail_from.spf"] is True
    assert facts["ptr.all_fcrdns"] is True and facts["dnsbl.listed"] is False
    assert facts["mta_sts.mode"] == "enforce" and facts["tls_rpt.valid"] and facts["bimi.valid"]
    assert facts["dnssec.signed"] is False


def test_clean_zone_findings_carry_the_raw_records(knot: KnotServer) -> None:
    report = z.clean(knot)
    (spf_ok,) = z.find(report, "spf", Severity.OK, "one valid SPF record")
    assert spf_ok.evidence == 'clean.test TXT "v=spf1 ip4:192.0.2.0/25 ip6:2001:db8::/64 -all"'
    ipv6 = z.one(report, "spf", Severity.OK, "2001:db8::10")
    assert "ip6:2001:db8::/64" in ipv6.message
    ptr6 = z.one(report, "ptr", Severity.OK, "2001:db8::10")
    assert "mail6.clean.test" in ptr6.message


def test_two_thousand_bit_key_split_over_txt_strings_is_joined(knot: KnotServer) -> None:
    keys = z.make_keys()
    assert len(keys.rsa2048_txt) > 255  # it needs several strings in the zone
    report = z.clean(knot)
    s2048 = z.one(report, "dkim", Severity.OK, "'s2048'")
    assert s2048.details["bits"] == 2048
    assert s2048.evidence.count('" "') >= 1  # evidence shows the strings as published


def test_long_spf_record_split_into_strings_is_parsed(knot: KnotServer) -> None:
    report = z.run(knot, "longspf.test", ips=["192.0.2.39"], selectors=["none"])
    assert report.facts["spf.valid"] is True and report.facts["spf.ips_pass"] is True
    assert not z.find(report, "spf", Severity.ERROR)


@pytest.mark.parametrize(
    "spelling", ["bücher.test", "BÜCHER.test.", "xn--bcher-kva.test", "XN--BCHER-KVA.TEST"]
)
def test_idn_unicode_and_punycode_are_the_same_domain(knot: KnotServer, spelling: str) -> None:
    report = z.run(knot, spelling, ips=["192.0.2.10"], selectors=["none"])
    assert report.domain == "xn--bcher-kva.test"
    assert report.unicode_domain == "bücher.test"
    assert report.facts["spf.ips_pass"] is True
    assert report.facts["dmarc.policy"] == "reject"


def test_dkim_key_signs_and_verifies_against_dns(knot: KnotServer) -> None:
    keys = z.make_keys()
    report = z.clean(knot, dkim_keys={"s2048": keys.rsa2048_pem})
    ok = z.one(report, "dkim", Severity.OK, "test message signed")
    assert "signed and verified" in ok.message
    assert report.facts["dkim.test_sign"] is True


def test_dkim_key_that_does_not_match_dns_is_an_error_with_the_right_record(knot: KnotServer) -> None:
    keys = z.make_keys()
    report = z.clean(knot, dkim_keys={"s2048": keys.other2048_pem})
    bad = z.one(report, "dkim", Severity.ERROR, "does not match")
    assert bad.fix.startswith('s2048._domainkey.clean.test. TXT "v=DKIM1; k=rsa; p=')
    assert report.facts["dkim.test_sign"] is False and report.has_errors


def test_ed25519_key_signs_and_verifies_against_dns(knot: KnotServer) -> None:
    report = z.clean(knot, dkim_keys={"ed": z.make_keys().ed_pem})
    ok = z.one(report, "dkim", Severity.OK, "test message signed")
    assert "signed and verified" in ok.message  # dkimpy with PyNaCl, RFC 8463
    assert report.facts["dkim.test_sign"] is True


def test_missing_selector_fix_is_the_exact_record_when_the_key_is_given(knot: KnotServer) -> None:
    keys = z.make_keys()
    report = z.clean(knot, selectors=["s2048", "fresh"], dkim_keys={"fresh": keys.other2048_pem})
    missing = z.one(report, "dkim", Severity.ERROR, "'fresh'")
    assert missing.fix.startswith('fresh._domainkey.clean.test. TXT "v=DKIM1; k=rsa; p=MII')
    assert "<" not in missing.fix  # no placeholder: the public half of the given key


def test_guessed_selectors_find_common_names(knot: KnotServer) -> None:
    report = z.run(knot, "clean.test")
    info = z.one(report, "dkim", Severity.INFO, "common selectors")
    assert info.message.endswith(": google")
    assert z.one(report, "dkim", Severity.OK, "'google'")
    assert report.facts["dkim.selectors"] == 1 and report.facts["dkim.any_valid"] is True


def test_no_selector_and_no_common_one_leaves_dkim_unknown(knot: KnotServer) -> None:
    report = z.run(knot, "edonly.test")
    assert z.one(report, "dkim", Severity.WARNING, "DKIM was not checked")
    assert "dkim.any_valid" not in report.facts


def test_only_ed25519_keys_warns_to_add_rsa(knot: KnotServer) -> None:
    report = z.run(knot, "edonly.test", selectors=["ed"])
    warning = z.one(report, "dkim", Severity.WARNING, "Only ed25519")
    assert warning.fix.startswith("rsa._domainkey.edonly.test. TXT")


def test_json_shape(knot: KnotServer) -> None:
    data = z.clean(knot).to_json()
    assert set(data) == {"domain", "status", "not_run", "findings"}  # extended, never narrowed
    assert data["status"] == "exists" and data["not_run"] == []
    assert data["domain"] == "clean.test"
    for finding in data["findings"]:
        assert {"check", "severity", "message", "evidence", "fix"} <= set(finding)
        assert finding["severity"] in {"error", "warning", "info", "ok"}


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"ips": ["not-an-ip"]}, InputError),
        ({"selectors": ["bad selector"]}, InputError),
        ({"mail_from": "bad domain!"}, InputError),
        ({"timeout": 0}, InputError),
        ({"dkim_keys": {"s1": b"not a key"}}, InputError),
        ({"nameserver": "dns.example:53"}, ConfigError),
    ],
)
def test_bad_options_raise_clear_errors(kwargs: dict[str, object], error: type[Exception]) -> None:
    from mailfate.doctor.domain import check_domain

    with pytest.raises(error):
        check_domain("clean.test", **kwargs)  # type: ignore[arg-type]


def test_mail_from_may_be_an_address(knot: KnotServer) -> None:
    report = z.clean(knot, mail_from="bounces+123@bounce.clean.test")
    assert report.facts["mail_from.domain"] == "bounce.clean.test"
