"""Zones with planted defects (real Knot): each defect is reported by the right check, with the right
severity and the record to publish as the fix."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mailfate.doctor.findings import Severity
from tests.support import domain_zones as z
from tests.support.knot import KnotServer

NO_DKIM = ["none"]  # a selector that exists nowhere: DKIM findings stay out of the way


@pytest.fixture(scope="module")
def knot(knot_factory: Callable[[dict[str, str]], KnotServer]) -> KnotServer:
    return knot_factory(z.zones(z.make_keys()))


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(url: str, timeout: float) -> str:
        raise AssertionError(f"a test tried to fetch {url}")

    monkeypatch.setattr("mailfate.doctor.domain.policy.fetch_https", refuse)


# --- spf -------------------------------------------------------------------------------------


def test_missing_spf(knot: KnotServer) -> None:
    report = z.run(knot, "nospf.test", ips=["192.0.2.10"], selectors=NO_DKIM)
    f = z.one(report, "spf", Severity.ERROR, "publishes no SPF record")
    assert f.fix == 'nospf.test. TXT "v=spf1 ip4:192.0.2.10 -all"'
    assert report.facts["spf.present"] is False and report.facts["spf.ips_pass"] is False


def test_missing_spf_without_ips_suggests_mx(knot: KnotServer) -> None:
    report = z.run(knot, "nospf.test", selectors=NO_DKIM)
    assert z.one(report, "spf", Severity.ERROR, "no SPF").fix == 'nospf.test. TXT "v=spf1 mx -all"'
    assert "spf.ips_pass" not in report.facts


def test_two_spf_records(knot: KnotServer) -> None:
    report = z.run(knot, "twospf.test", ips=["192.0.2.10"], selectors=NO_DKIM)
    f = z.one(report, "spf", Severity.ERROR, "2 SPF records")
    assert f.fix.startswith('twospf.test. TXT "v=spf1 ip4:192.0.2.10 include:clean.test -all"')
    assert "v=spf1 ip4:192.0.2.10 -all" in f.evidence and "include:clean.test ~all" in f.evidence
    assert report.facts["spf.single"] is False


def test_spf_over_ten_lookups_gets_a_flattened_record(knot: KnotServer) -> None:
    report = z.run(knot, "lookups.test", ips=["198.51.100.3", "198.51.100.10"], selectors=NO_DKIM)
    f = z.one(report, "spf", Severity.ERROR, "needs 11 DNS lookups")
    assert f.source == "RFC 7208 §4.6.4"
    assert f.fix.startswith('lookups.test. TXT "v=spf1 ip4:198.51.100.0 ip4:198.51.100.1')
    assert "ip4:198.51.100.10 -all" in f.fix
    assert report.facts["spf.lookups"] == 11 and report.facts["spf.valid"] is False
    # pyspf agrees where evaluation reaches the 11th lookup; an IP matched earlier still passes
    assert z.one(report, "spf", Severity.ERROR, "gave permerror").details["ips"] == ["198.51.100.10"]
    assert z.one(report, "spf", Severity.OK, "198.51.100.3 may send")


def test_spf_include_loop(knot: KnotServer) -> None:
    report = z.run(knot, "loop.test", ips=["192.0.2.10"], selectors=NO_DKIM)
    f = z.one(report, "spf", Severity.ERROR, "include loop")
    assert "loop.test → a.loop.test → loop.test" in f.message
    assert "include:" in f.fix


def test_plus_all(knot: KnotServer) -> None:
    report = z.run(knot, "plusall.test", selectors=NO_DKIM)
    f = z.one(report, "spf", Severity.ERROR, "+all")
    assert f.fix == 'plusall.test. TXT "v=spf1 ip4:192.0.2.10 -all"'
    assert report.facts["spf.all"] == "+all"


def test_neutral_all(knot: KnotServer) -> None:
    report = z.run(knot, "neutral.test", selectors=NO_DKIM)
    f = z.one(report, "spf", Severity.WARNING, "?all")
    assert f.fix == 'neutral.test. TXT "v=spf1 ip4:192.0.2.10 ~all"'


def test_spf_syntax_errors(knot: KnotServer) -> None:
    report = z.run(knot, "badspf.test", selectors=NO_DKIM)
    messages = [f.message for f in z.find(report, "spf", Severity.ERROR, "syntax")]
    assert any("192.0.2.300" in m for m in messages)
    assert any("unknown mechanism 'foo'" in m for m in messages)


def test_void_lookups_over_two(knot: KnotServer) -> None:
    report = z.run(knot, "void.test", ips=["192.0.2.10"], selectors=NO_DKIM)
    f = z.one(report, "spf", Severity.ERROR, "3 void lookups")
    assert "a:n1.void.test" in f.fix and "mx:n3.void.test" in f.fix


def test_ip_not_authorized(knot: KnotServer) -> None:
    report = z.clean(knot, ips=["192.0.2.10", "192.0.2.200"])
    f = z.one(report, "spf", Severity.ERROR, "192.0.2.200 is not authorized")
    assert f.fix == 'bounce.clean.test. TXT "v=spf1 ip4:192.0.2.0/25 ip6:2001:db8::/64 ip4:192.0.2.200 -all"'
    assert f.details["result"] == "fail"
    assert report.facts["spf.ips_pass"] is False


# --- dkim ------------------------------------------------------------------------------------


def test_dkim_1024_bit_key_is_a_warning(knot: KnotServer) -> None:
    report = z.run(knot, "weak.test", selectors=["k1024"])
    f = z.one(report, "dkim", Severity.WARNING, "1024 bits")
    assert f.fix.startswith('rsa2048._domainkey.weak.test. TXT "v=DKIM1; k=rsa; p=')
    assert report.facts["dkim.min_rsa_bits"] == 1024


def test_missing_selector(knot: KnotServer) -> None:
    report = z.run(knot, "clean.test", selectors=["s2048", "nosuch"])
    f = z.one(report, "dkim", Severity.ERROR, "'nosuch'")
    assert f.fix.startswith("nosuch._domainkey.clean.test. TXT")
    assert report.facts["dkim.valid"] is False and report.facts["dkim.any_valid"] is True


def test_revoked_and_unparsable_and_testing_keys(knot: KnotServer) -> None:
    report = z.run(knot, "weak.test", selectors=["old", "junk", "test"])
    assert z.one(report, "dkim", Severity.ERROR, "revoked")
    assert z.one(report, "dkim", Severity.ERROR, "'junk' is unusable")
    testing = z.one(report, "dkim", Severity.WARNING, "t=y")
    assert "t=y" not in testing.fix and testing.fix.startswith("test._domainkey.weak.test. TXT")
    assert z.one(report, "dkim", Severity.OK, "'test'")


def test_a_key_for_another_service_is_unusable_and_the_other_selectors_still_report(knot: KnotServer) -> None:
    report = z.run(knot, "weak.test", selectors=["tls", "test"])
    f = z.one(report, "dkim", Severity.ERROR, "'tls' is unusable")
    assert "s=tls" in f.message
    assert z.one(report, "dkim", Severity.OK, "'test'")  # the check went on


# --- dmarc -----------------------------------------------------------------------------------


def test_dmarc_missing(knot: KnotServer) -> None:
    report = z.run(knot, "nodmarc.test", selectors=NO_DKIM)
    f = z.one(report, "dmarc", Severity.ERROR, "No DMARC record")
    assert f.fix.startswith(
        '_dmarc.nodmarc.test. TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@nodmarc.test"'
    )
    assert report.facts["dmarc.present"] is False


def test_dmarc_p_none(knot: KnotServer) -> None:
    report = z.run(knot, "dmarcnone.test", selectors=NO_DKIM)
    f = z.one(report, "dmarc", Severity.WARNING, "p=none")
    assert f.fix == '_dmarc.dmarcnone.test. TXT "v=DMARC1; p=quarantine; rua=mailto:d@dmarcnone.test"'
    assert report.facts["dmarc.enforced"] is False


def test_dmarc_pct_under_100(knot: KnotServer) -> None:
    report = z.run(knot, "dmarcpct.test", selectors=NO_DKIM)
    f = z.one(report, "dmarc", Severity.WARNING, "pct=25")
    assert f.fix == '_dmarc.dmarcpct.test. TXT "v=DMARC1; p=quarantine; rua=mailto:d@dmarcpct.test"'


def test_dmarc_malformed_tags(knot: KnotServer) -> None:
    report = z.run(knot, "dmarcbad.test", selectors=NO_DKIM)
    errors = z.find(report, "dmarc", Severity.ERROR, "DMARC record at")
    assert {e.message.split(": ", 1)[1].split(" ")[0] for e in errors} == {
        "pct='abc'",
        "adkim='x'",
        "malformed",
    }
    assert all(
        e.fix == '_dmarc.dmarcbad.test. TXT "v=DMARC1; p=reject; rua=mailto:d@dmarcbad.test"' for e in errors
    )
    assert report.facts["dmarc.valid"] is True  # receivers still apply p=reject


def test_two_dmarc_records(knot: KnotServer) -> None:
    report = z.run(knot, "twodmarc.test", selectors=NO_DKIM)
    assert z.one(report, "dmarc", Severity.ERROR, "2 DMARC records")
    assert report.facts["dmarc.valid"] is False


def test_external_rua_without_authorization(knot: KnotServer) -> None:
    report = z.run(knot, "extrua.test", selectors=NO_DKIM)
    f = z.one(report, "dmarc", Severity.ERROR, "not authorized")
    assert f.fix.startswith('extrua.test._report._dmarc.reports.test. TXT "v=DMARC1"')
    assert report.facts["dmarc.rua"] is False


def test_external_rua_with_authorization(knot: KnotServer) -> None:
    report = z.run(knot, "authrua.test", selectors=NO_DKIM)
    assert z.one(report, "dmarc", Severity.OK, "has authorized reports")
    assert report.facts["dmarc.rua"] is True


def test_strict_spf_alignment_with_subdomain_mail_from(knot: KnotServer) -> None:
    report = z.run(knot, "strictspf.test", selectors=NO_DKIM, mail_from="bounce.strictspf.test")
    f = z.one(report, "dmarc", Severity.WARNING, "does not align")
    assert f.fix.startswith('_dmarc.strictspf.test. TXT "v=DMARC1; p=reject; rua=mailto:d@strictspf.test"')
    assert report.facts["dmarc.spf_aligned"] is False


def test_dmarc_cannot_pass(knot: KnotServer) -> None:
    report = z.run(knot, "strictspf.test", selectors=NO_DKIM, mail_from="bounce.strictspf.test")
    assert z.one(report, "dmarc", Severity.ERROR, "DMARC cannot pass")
    assert report.facts["dmarc.aligned"] is False


def test_mail_from_in_another_organization_does_not_align(knot: KnotServer) -> None:
    report = z.clean(knot, mail_from="bounce.strictspf.test")
    f = z.one(report, "dmarc", Severity.WARNING, "does not align")
    assert "bounce.clean.test" in f.fix


# --- mail-from, mx, ptr ----------------------------------------------------------------------


def test_mail_from_without_mx_or_spf(knot: KnotServer) -> None:
    report = z.clean(knot, mail_from="nowhere.clean.test")
    f = z.one(report, "mail-from", Severity.ERROR, "neither MX nor A")
    assert f.fix == "nowhere.clean.test. MX 10 mx.clean.test."
    spf = z.one(report, "mail-from", Severity.ERROR, "no SPF record")
    assert spf.fix.startswith(
        'nowhere.clean.test. TXT "v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 ip6:2001:db8::10 -all"'
    )


def test_missing_mx(knot: KnotServer) -> None:
    report = z.run(knot, "nomx.test", selectors=NO_DKIM)
    f = z.one(report, "mx", Severity.ERROR, "no MX and no address")
    assert f.fix.startswith("nomx.test. MX 10 mx.nomx.test.")


def test_missing_mx_with_address_is_an_implicit_mx(knot: KnotServer) -> None:
    report = z.run(knot, "amx.test", selectors=NO_DKIM)
    assert z.one(report, "mx", Severity.WARNING, "implicit MX").fix.startswith("amx.test. MX 10")


def test_null_mx(knot: KnotServer) -> None:
    report = z.run(knot, "nullmx.test", selectors=NO_DKIM)
    f = z.one(report, "mx", Severity.ERROR, "null MX")
    assert f.source.startswith("RFC 7505")
    assert "nullmx.test MX 0 ." in f.evidence
    assert report.facts["mx.null"] is True


def test_null_mx_with_a_custom_mail_from_is_a_warning(knot: KnotServer) -> None:
    report = z.run(knot, "nullmx.test", selectors=NO_DKIM, mail_from="bounce.clean.test")
    assert z.one(report, "mx", Severity.WARNING, "null MX")


def test_mx_target_without_address(knot: KnotServer) -> None:
    report = z.run(knot, "badmx.test", selectors=NO_DKIM)
    f = z.one(report, "mx", Severity.ERROR, "nowhere.badmx.test has no A or AAAA")
    assert f.fix.startswith("nowhere.badmx.test. A ")


def test_mx_target_that_is_an_alias(knot: KnotServer) -> None:
    report = z.run(knot, "aliasmx.test", selectors=NO_DKIM)
    f = z.one(report, "mx", Severity.WARNING, "is an alias (CNAME to real.aliasmx.test)")
    assert f.fix == "aliasmx.test. MX 10 real.aliasmx.test."
    assert f.source.startswith("RFC 2181")


def test_dmarc_published_at_the_domain_instead_of_dmarc(knot: KnotServer) -> None:
    report = z.run(knot, "apexdmarc.test", selectors=NO_DKIM)
    f = z.one(report, "dmarc", Severity.ERROR, "belongs at _dmarc.apexdmarc.test")
    assert f.fix.startswith('_dmarc.apexdmarc.test. TXT "v=DMARC1; p=reject"')
    assert 'apexdmarc.test TXT "v=DMARC1; p=reject"' in f.evidence


def test_missing_ptr(knot: KnotServer) -> None:
    report = z.clean(knot, ips=["192.0.2.10", "192.0.2.20"])
    f = z.one(report, "ptr", Severity.ERROR, "192.0.2.20 has no PTR")
    assert f.fix.startswith("20.2.0.192.in-addr.arpa. PTR mail.clean.test.")
    assert report.facts["ptr.all_present"] is False


def test_ptr_not_forward_confirmed(knot: KnotServer) -> None:
    report = z.clean(knot, ips=["192.0.2.21"])
    f = z.one(report, "ptr", Severity.ERROR, "does not resolve back")
    assert f.fix == "liar.clean.test. A 192.0.2.21"
    assert report.facts["ptr.all_present"] is True and report.facts["ptr.all_fcrdns"] is False


def test_generic_ptr_name(knot: KnotServer) -> None:
    report = z.clean(knot, ips=["192.0.2.44"])
    f = z.one(report, "ptr", Severity.WARNING, "generic")
    assert f.fix.startswith("44.2.0.192.in-addr.arpa. PTR mail.clean.test.")
    assert report.facts["ptr.all_fcrdns"] is True


# --- mta-sts, tls-rpt, bimi ------------------------------------------------------------------


def test_mta_sts_bad_record(knot: KnotServer) -> None:
    report = z.run(knot, "stsbad.test", selectors=NO_DKIM)
    f = z.one(report, "mta-sts", Severity.ERROR, "Bad MTA-STS record")
    assert f.fix.startswith('_mta-sts.stsbad.test. TXT "v=STSv1; id=')


def test_mta_sts_policy_not_fetchable(knot: KnotServer) -> None:
    report = z.run(knot, "stsfetch.test", selectors=NO_DKIM)
    assert "mta-sts.stsfetch.test" in z.one(report, "mta-sts", Severity.ERROR, "cannot be fetched").fix


def test_mta_sts_policy_missing_an_mx(knot: KnotServer) -> None:
    url = "https://mta-sts.stsfetch.test/.well-known/mta-sts.txt"
    policy = "version: STSv1\nmode: enforce\nmx: other.stsfetch.test\nmax_age: 86400\n"
    report = z.run(knot, "stsfetch.test", selectors=NO_DKIM, fetch_policy=z.fetcher({url: policy}))
    f = z.one(report, "mta-sts", Severity.ERROR, "does not cover")
    assert f.fix == "Add to the policy: mx: mx.stsfetch.test"


def test_mta_sts_invalid_policy(knot: KnotServer) -> None:
    url = "https://mta-sts.stsfetch.test/.well-known/mta-sts.txt"
    report = z.run(
        knot, "stsfetch.test", selectors=NO_DKIM, fetch_policy=z.fetcher({url: "mode: sometimes\n"})
    )
    assert z.one(report, "mta-sts", Severity.ERROR, "policy is invalid")


def test_tls_rpt_missing_rua(knot: KnotServer) -> None:
    report = z.run(knot, "tlsbad.test", selectors=NO_DKIM)
    f = z.one(report, "tls-rpt", Severity.ERROR, "no rua=")
    assert f.fix == '_smtp._tls.tlsbad.test. TXT "v=TLSRPTv1; rua=mailto:tls-reports@tlsbad.test"'


def test_bimi_without_dmarc_enforcement(knot: KnotServer) -> None:
    report = z.run(knot, "dmarcnone.test", selectors=NO_DKIM)
    f = z.one(report, "bimi", Severity.ERROR, "not at enforcement")
    assert f.fix == '_dmarc.dmarcnone.test. TXT "v=DMARC1; p=quarantine; rua=mailto:d@dmarcnone.test"'
    assert report.facts["bimi.valid"] is False


def test_optional_policies_absent_are_information(knot: KnotServer) -> None:
    report = z.run(knot, "nodmarc.test", selectors=NO_DKIM)
    for check in ("mta-sts", "tls-rpt", "bimi"):
        f = z.one(report, check, Severity.INFO, "No ")
        assert " TXT " in f.fix


# --- dnsbl, dnssec ---------------------------------------------------------------------------


def test_dnsbl_listing(knot: KnotServer) -> None:
    report = z.clean(knot, ips=["192.0.2.10", "192.0.2.66"])
    f = z.one(report, "dnsbl", Severity.ERROR, "192.0.2.66 is listed")
    assert "127.0.0.2" in f.message and "Listed for testing" in f.message
    assert "66.2.0.192.dnsbl.test A 127.0.0.2" in f.evidence
    assert f.fix
    assert z.one(report, "dnsbl", Severity.OK, "192.0.2.10 is not listed")
    assert report.facts["dnsbl.listed"] is True and report.facts["dnsbl.listings"] == 1


def test_dnsbl_list_that_does_not_answer(knot: KnotServer) -> None:
    report = z.clean(knot, ips=["192.0.2.10"], dnsbl_zones=["dnsbl.test", "unserved.example"])
    assert z.one(report, "dnsbl", Severity.WARNING, "unserved.example")
    assert "dnsbl.listed" not in report.facts


def test_dnssec_is_information(knot: KnotServer) -> None:
    report = z.clean(knot)
    f = z.one(report, "dnssec", Severity.INFO, "not DNSSEC-signed")
    assert "DS record" in f.fix
