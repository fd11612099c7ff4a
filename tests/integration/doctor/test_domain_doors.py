"""Issue 15 against a real Knot server: open doors are found, no proposed record is worse than the
published one, and a name that does not exist (or DNS that does not answer) is the first news."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import dns.resolver
import pytest
from typer.testing import CliRunner

from mailfate.cli.doctor import doctor_app
from mailfate.doctor.domain import check_domain
from mailfate.doctor.domain.dmarc import vet_dmarc
from mailfate.doctor.domain.spf_syntax import vet_spf
from mailfate.doctor.findings import Severity
from tests.support import domain_zones as z
from tests.support.knot import KnotServer

NO_DKIM = ["none"]


@pytest.fixture(scope="module")
def knot(knot_factory: Callable[[dict[str, str]], KnotServer]) -> KnotServer:
    return knot_factory(z.zones(z.make_keys()))


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mailfate.doctor.domain.policy.fetch_https", z.fetcher())


@pytest.fixture
def silent_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def _record(fix: str) -> str:
    """The TXT value of a ``name. TXT "value"`` fix (one string)."""
    return fix.split(' TXT "', 1)[1].split('"', 1)[0]


# --- open doors --------------------------------------------------------------------------------


def test_an_include_of_plus_all_passes_everyone(knot: KnotServer) -> None:
    report = z.run(knot, "openinc.test", ips=["203.0.113.99"], selectors=NO_DKIM)
    f = z.one(report, "spf", Severity.ERROR, "lets every IP address")
    assert "include:_spf.openinc.test" in f.message and "+all in _spf.openinc.test's record" in f.message
    assert f.fix.startswith('openinc.test. TXT "v=spf1 ip4:192.0.2.10 -all"')
    assert report.facts["spf.open"] is True
    # and pyspf agrees: an address nobody listed passes
    assert z.one(report, "spf", Severity.OK, "203.0.113.99 may send")


@pytest.mark.parametrize(
    ("domain", "door", "fixed"),
    [
        ("openv4.test", "ip4:0.0.0.0/0", "v=spf1 ip4:192.0.2.10 -all"),
        ("openv6.test", "ip6:::/0", "v=spf1 ip4:192.0.2.10 ~all"),
    ],
)
def test_a_range_of_the_whole_internet_is_an_open_door(
    knot: KnotServer, domain: str, door: str, fixed: str
) -> None:
    report = z.run(knot, domain, selectors=NO_DKIM)
    f = z.one(report, "spf", Severity.ERROR, "lets every IP address")
    assert door in f.message
    assert _record(f.fix) == fixed
    assert report.facts["spf.open"] is True


def test_an_open_door_behind_a_redirect(knot: KnotServer) -> None:
    report = z.run(knot, "openredirect.test", selectors=NO_DKIM)
    f = z.one(report, "spf", Severity.ERROR, "lets every IP address")
    assert "redirect=_spf.openredirect.test" in f.message and "a/0" in f.message


def test_one_organisations_slash_8_is_not_an_alarm(knot: KnotServer) -> None:
    report = z.run(knot, "wideok.test", selectors=NO_DKIM)
    assert not z.find(report, "spf", Severity.ERROR)
    assert report.facts["spf.open"] is False


def test_an_mx_at_loopback(knot: KnotServer) -> None:
    report = z.run(knot, "mxloop.test", selectors=NO_DKIM)
    f = z.one(report, "mx", Severity.ERROR, "no sender on the Internet can reach")
    assert "127.0.0.1 is loopback" in f.message and f.fix.startswith("mx.mxloop.test. A ")
    assert report.facts["mx.routable"] is False
    assert not z.find(report, "mx", Severity.OK)


def test_a_backup_mx_at_private_addresses(knot: KnotServer) -> None:
    report = z.run(knot, "mxpriv.test", selectors=NO_DKIM)
    f = z.one(report, "mx", Severity.ERROR, "backup.mxpriv.test points at")
    assert "10.1.2.3 is private (RFC 1918)" in f.message and "fd00::25 is unique local" in f.message
    assert f.details["addresses"] == ["10.1.2.3", "fd00::25"]


def test_an_implicit_mx_at_loopback(knot: KnotServer) -> None:
    report = z.run(knot, "amxloop.test", selectors=NO_DKIM)
    assert z.one(report, "mx", Severity.WARNING, "implicit MX")
    assert "127.0.0.1 is loopback" in z.one(report, "mx", Severity.ERROR, "no sender on the Internet").message
    assert report.facts["mx.routable"] is False


def test_the_clean_mx_stays_routable(knot: KnotServer) -> None:
    report = z.clean(knot)
    assert report.facts["mx.routable"] is True


def test_sp_none_under_p_reject_leaves_subdomains_open(knot: KnotServer) -> None:
    report = z.run(knot, "spopen.test", selectors=NO_DKIM)
    f = z.one(report, "dmarc", Severity.WARNING, "sp=none leaves every subdomain open")
    assert _record(f.fix) == "v=DMARC1; p=reject; rua=mailto:d@spopen.test"
    assert report.facts["dmarc.subdomains_open"] is True
    clean = z.clean(knot)
    assert clean.facts["dmarc.subdomains_open"] is False


# --- fixes never worse than the record -------------------------------------------------------


def test_spf_strings_joined_without_a_space_keep_ip_and_all(knot: KnotServer) -> None:
    report = z.run(knot, "gluedspf.test", selectors=NO_DKIM)
    f = z.one(report, "spf", Severity.ERROR, "syntax error")
    assert "joined without a space" in f.message
    assert f.fix == 'gluedspf.test. TXT "v=spf1 ip4:192.0.2.10 -all"'
    assert not z.find(report, "spf", Severity.WARNING, "no all mechanism")


def test_a_plus_all_glued_to_the_previous_term_is_still_seen(knot: KnotServer) -> None:
    report = z.run(knot, "gluedplus.test", selectors=NO_DKIM)
    syntax = z.one(report, "spf", Severity.ERROR, "syntax error")
    plus = z.one(report, "spf", Severity.ERROR, "ends in +all")
    # the repair never restores the +all it found inside the broken term
    assert syntax.fix == plus.fix == 'gluedplus.test. TXT "v=spf1 ip4:192.0.2.10 -all"'


def test_spf_whose_v_spf1_is_glued_to_the_next_string(knot: KnotServer) -> None:
    report = z.run(knot, "gluedhead.test", selectors=NO_DKIM)
    f = z.one(report, "spf", Severity.ERROR, "starts with v=spf1 but no space follows")
    assert f.fix == 'gluedhead.test. TXT "v=spf1 ip4:192.0.2.10 -all"'
    assert not z.find(report, "spf", text="publishes no SPF record")


def test_two_dmarc_records_keep_the_strongest_policy_and_rua(knot: KnotServer) -> None:
    report = z.run(knot, "twodmarc2.test", selectors=NO_DKIM)
    f = z.one(report, "dmarc", Severity.ERROR, "2 DMARC records")
    assert _record(f.fix) == "v=DMARC1; p=reject; rua=mailto:d@twodmarc2.test"
    assert "delete the others" in f.fix


def test_v_dmarc1_not_first_is_not_no_record(knot: KnotServer) -> None:
    report = z.run(knot, "dmarcorder.test", selectors=NO_DKIM)
    f = z.one(report, "dmarc", Severity.ERROR, "holds v=DMARC1 but not first")
    assert _record(f.fix) == "v=DMARC1; p=reject; rua=mailto:d@dmarcorder.test"
    assert not z.find(report, "dmarc", text="No DMARC record")
    assert all("p=none" not in x.fix for x in report.by_check("dmarc"))
    assert report.facts["dmarc.present"] is False  # receivers do ignore it


def test_a_misordered_record_at_the_organizational_domain(knot: KnotServer) -> None:
    report = z.run(knot, "news.dmarcorder.test", selectors=NO_DKIM)
    f = z.one(report, "dmarc", Severity.ERROR, "_dmarc.dmarcorder.test holds v=DMARC1 but not first")
    assert f.fix.startswith('_dmarc.dmarcorder.test. TXT "v=DMARC1; p=reject;')


def test_rua_without_mailto_is_repaired_not_dropped(knot: KnotServer) -> None:
    report = z.run(knot, "ruabare.test", selectors=NO_DKIM)
    f = z.one(report, "dmarc", Severity.ERROR, "is not a mailto: address")
    assert _record(f.fix) == "v=DMARC1; p=reject; rua=mailto:d@ruabare.test"
    assert not z.find(report, "dmarc", text="No rua=")


@pytest.mark.parametrize(
    "domain",
    [
        "openinc.test", "openv4.test", "openv6.test", "gluedspf.test", "gluedhead.test", "twodmarc2.test",
        "dmarcorder.test", "ruabare.test", "spopen.test", "gluedplus.test", "twospf.test", "plusall.test",
        "neutral.test", "badspf.test", "lookups.test", "dmarcnone.test", "dmarcpct.test", "dmarcbad.test",
        "twodmarc.test",
    ],
)  # fmt: skip
def test_every_proposed_record_passes_the_same_checks(knot: KnotServer, domain: str) -> None:
    """Every TXT record a finding proposes, re-checked against what is published: no new problem,
    every valid term and tag kept (but those the fix changes on purpose), no weaker policy."""
    report = z.run(knot, domain, ips=["192.0.2.10"], selectors=NO_DKIM)
    apex = _txt(knot, domain)
    spf = [r for r in apex if r.lower().startswith("v=spf1 ")] or [f"v=spf1 {r[6:]}" for r in apex]
    dmarc = _txt(knot, f"_dmarc.{domain}")
    proposed = 0
    for f in report.findings:
        value = _record(f.fix) if ' TXT "' in f.fix else ""
        if f.check == "spf" and value.startswith("v=spf1") and f.fix.startswith(f"{domain}. "):
            drop = {"all", "redirect", f.details.get("through", "")}
            if "DNS lookups" in f.message:
                drop |= {"include", "a", "mx", "ptr", "exists"}  # flattened into ip4:/ip6:
            assert vet_spf(spf, value, drop=frozenset(drop)) == "", (f.message, value)
            proposed += 1
        if f.check == "dmarc" and value.startswith("v=DMARC1") and f.fix.startswith(f"_dmarc.{domain}. "):
            assert vet_dmarc(dmarc, value, drop=frozenset({"pct", "sp", "aspf"})) == "", (f.message, value)
            proposed += 1
    assert proposed


def _txt(knot: KnotServer, name: str) -> list[str]:
    """The TXT records at ``name`` as published (strings joined), asked directly."""
    resolver = dns.resolver.Resolver(configure=False)
    host, _, port = knot.address.rpartition(":")
    resolver.nameservers, resolver.port = [host], int(port)
    try:
        answer = resolver.resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    return [b"".join(r.strings).decode() for r in answer]


# --- the lead: the domain does not exist, DNS did not answer ----------------------------------


def test_a_domain_that_does_not_exist_leads_the_report(knot: KnotServer) -> None:
    report = z.run(knot, "missing.nxparent.test", ips=["192.0.2.10"])
    first = report.findings[0]
    assert first.check == "domain" and first.severity is Severity.ERROR
    assert "does not exist (NXDOMAIN)" in first.message
    assert report.status == "nxdomain"
    for check in ("spf", "dkim", "dmarc", "mx", "mta-sts", "tls-rpt", "bimi", "dnssec", "mail-from"):
        assert check in report.not_run and check in first.message
        (row,) = report.by_check(check)
        assert row.message.startswith("Not checked: missing.nxparent.test does not exist"), check
    # no SPF/DMARC error with a record to publish under a name that does not exist
    assert not [f for f in report.findings if " TXT " in f.fix or " MX " in f.fix]
    errors = [f.check for f in report.findings if f.severity is Severity.ERROR]
    assert errors == ["domain", "spf", "dkim", "dmarc", "mail-from", "mx"]  # what every receiver fails
    # the checks about the sending IP still ran
    assert "ptr" not in report.not_run and z.find(report, "ptr", Severity.OK)


def test_a_refusing_server_leads_with_dns_did_not_answer(knot: KnotServer) -> None:
    report = z.run(knot, "unserved.example", selectors=["s1"])
    first = report.findings[0]
    assert first.check == "domain" and first.severity is Severity.ERROR
    assert first.message.startswith("DNS did not answer for unserved.example")
    assert report.status == "no-answer"
    assert {"spf", "dkim", "dmarc", "mx"} <= set(report.not_run)


def test_a_silent_server_leads_with_dns_did_not_answer_and_dkim_is_not_no_key(silent_port: int) -> None:
    report = check_domain(
        "example.test",
        nameserver=f"127.0.0.1:{silent_port}",
        timeout=1.0,
        dnsbl_zones=[],
        fetch_policy=z.fetcher(),
    )
    first = report.findings[0]
    assert (
        first.check == "domain"
        and "DNS did not answer for example.test (no answer within 1 s)" in first.message
    )
    dkim = report.by_check("dkim")
    assert dkim and all("did not answer" in f.message for f in dkim), [f.message for f in dkim]
    assert not any("has a key" in f.message or "No DKIM key" in f.message for f in dkim)
    assert "dkim.any_valid" not in report.facts
    assert not z.find(report, "dmarc", text="no usable DKIM key")


def test_cli_says_the_domain_does_not_exist_first(knot: KnotServer) -> None:
    runner = CliRunner()
    args = ["domain", "missing.nxparent.test", "--nameserver", knot.address, "--dnsbl", "dnsbl.test"]
    result = runner.invoke(doctor_app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[1].startswith("the domain does not exist: checks not run or not finished: spf, dkim, dmarc")
    data = runner.invoke(doctor_app, [*args, "--json"]).output
    assert '"status": "nxdomain"' in data and '"not_run": [' in data
