"""DNS that never answers, absurd domain names (hypothesis), and the record parsers on their own."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailfate.doctor.domain import CHECKS, check_domain
from mailfate.doctor.domain.dmarc import parse_dmarc_tags
from mailfate.doctor.domain.dnsbl import dnsbl_name, load_dnsbl_zones
from mailfate.doctor.domain.names import normalize_domain
from mailfate.doctor.domain.policy import parse_sts_policy
from mailfate.doctor.domain.report import quote_txt, txt_fix
from mailfate.doctor.domain.spf_syntax import parse_spf, record_with
from mailfate.doctor.findings import Severity
from mailfate.errors import InputError
from tests.support import domain_zones as z
from tests.support.knot import KnotServer


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A bound UDP socket that never replies: every query to it times out."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def knot(knot_factory: Callable[[dict[str, str]], KnotServer]) -> KnotServer:
    return knot_factory(z.zones(z.make_keys()))


def test_dns_timeout_is_a_finding_within_timeout_plus_one_second(silent_port: int) -> None:
    started = time.monotonic()
    report = check_domain(
        "example.test",
        ips=["192.0.2.10", "192.0.2.11"],
        selectors=["s1"],
        mail_from="bounce.example.test",
        nameserver=f"127.0.0.1:{silent_port}",
        timeout=1.0,
        dnsbl_zones=["dnsbl.test"],
        fetch_policy=z.fetcher(),
    )
    took = time.monotonic() - started
    assert took < 2.0, took
    assert {f.check for f in report.findings} == set(CHECKS)
    spf = z.one(report, "spf", Severity.ERROR, "DNS did not answer within 1 s")
    assert "example.test TXT" in spf.message and "--timeout" in spf.fix
    assert z.find(report, "dkim", Severity.ERROR, "did not answer")
    assert z.find(report, "mx", Severity.ERROR, "did not answer")
    assert report.has_errors
    assert "spf.valid" not in report.facts  # unknown, not "false"


def test_many_ips_and_lists_against_a_silent_server_still_finish(silent_port: int) -> None:
    started = time.monotonic()
    check_domain(
        "example.test",
        ips=[f"192.0.2.{n}" for n in range(10)],
        nameserver=f"127.0.0.1:{silent_port}",
        timeout=0.5,
        dnsbl_zones=[f"l{n}.test" for n in range(5)],
        fetch_policy=z.fetcher(),
    )
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("a" * 300, "300 characters long"),
        (".".join(["abcdefgh"] * 34), "253"),
        ("x" * 64 + ".test", "not a valid"),
        ("xn--zz.test", "not a valid"),
        ("foo bar.test", "not a valid"),
        ("user@example.test", "is an address"),
        ("192.0.2.1", "IP address"),
        ("localhost", "single label"),
        ("under_score.test", "not a valid"),
    ],
)
def test_absurd_domains_are_one_clear_error_finding(text: str, why: str) -> None:
    report = check_domain(text, nameserver="127.0.0.1:9", timeout=0.5, dnsbl_zones=[])
    (finding,) = report.findings
    assert finding.severity is Severity.ERROR and finding.check in CHECKS
    assert why in finding.message
    assert report.has_errors and report.queries == 0


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_normalize_domain_never_raises_anything_but_input_error(text: str) -> None:
    try:
        name = normalize_domain(text)
    except InputError:
        return
    assert len(name.ascii) <= 253 and name.ascii == name.ascii.lower() and "." in name.ascii


_LABEL = st.from_regex(r"[a-z0-9ü한_-]{0,70}", fullmatch=True)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=300), st.lists(_LABEL, min_size=1, max_size=6).map(".".join)))
def test_check_domain_never_crashes_on_any_string(knot: KnotServer, text: str) -> None:
    report = check_domain(
        text, nameserver=knot.address, timeout=1.0, dnsbl_zones=[], fetch_policy=z.fetcher()
    )
    assert report.findings
    assert all(f.check in CHECKS for f in report.findings)


# --- parsers --------------------------------------------------------------------------------


def test_spf_parser_terms_and_problems() -> None:
    record = parse_spf("v=spf1 +ip4:192.0.2.0/24 ip6:2001:db8::/32 a:mail.example.com/24//64 mx ~all")
    assert record.valid
    assert [t.name for t in record.terms] == ["ip4", "ip6", "a", "mx", "all"]
    assert (record.terms[2].value, record.terms[2].cidr4, record.terms[2].cidr6) == (
        "mail.example.com",
        24,
        64,
    )
    bad = parse_spf("v=spf1 ip4:192.0.2.0/33 include: a:single exists:%{q} redirect=x.test redirect=y.test")
    assert len(bad.problems) == 5
    macro = parse_spf("v=spf1 exists:%{i}._spf.%{d} -all")
    assert macro.valid and macro.terms[0].has_macro
    notes = parse_spf("v=spf1 -all ip4:192.0.2.1 ptr redirect=x.test")
    assert len(notes.notes) == 3


def test_record_with_inserts_before_all_and_replaces_it() -> None:
    assert record_with("v=spf1 mx -all", ["ip4:192.0.2.1"]) == "v=spf1 mx ip4:192.0.2.1 -all"
    assert record_with("v=spf1 mx +all", [], all_term="-all") == "v=spf1 mx -all"
    assert record_with("v=spf1 mx", [], all_term="~all") == "v=spf1 mx ~all"
    assert record_with(None, ["ip4:192.0.2.1"]) == "v=spf1 ip4:192.0.2.1 -all"


def test_dmarc_tag_parser() -> None:
    tags = parse_dmarc_tags("v=DMARC1; p=quarantine; pct=50; rua=mailto:a@x.test,mailto:b@y.test!10m; fo=1:d")
    assert not tags.problems and tags.valid and tags.pct == 50
    assert tags.report_uris("rua") == ["mailto:a@x.test", "mailto:b@y.test!10m"]
    bad = parse_dmarc_tags("v=DMARC1; p=maybe; rua=http://x; ri=soon; zz=1; p=none")
    kinds = sorted(s.value for s, _ in bad.problems)
    assert kinds == ["error", "error", "error", "error", "warning"]
    assert not parse_dmarc_tags("v=dmarc1; p=reject").valid
    assert parse_dmarc_tags("v=DMARC1; rua=mailto:a@x.test").policy == "none"  # RFC 7489 §6.6.3


def test_sts_policy_parser() -> None:
    fields, problems = parse_sts_policy(
        "version: STSv1\r\nmode: enforce\r\nmx: *.x.test\r\nmax_age: 604800\r\n"
    )
    assert not problems and fields["mx"] == ["*.x.test"]
    _fields, problems = parse_sts_policy("version: STSv2\nmode: enforce\n")
    assert len(problems) == 3


def test_dnsbl_names_and_default_list() -> None:
    assert dnsbl_name("192.0.2.66", "dnsbl.test") == "66.2.0.192.dnsbl.test"
    assert dnsbl_name("2001:db8::1", "l.test").startswith(
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
    )
    zones = load_dnsbl_zones()
    assert len(zones) == 5 and all(z.zone and z.url for z in zones)


def test_txt_fix_splits_long_values_into_255_byte_strings() -> None:
    value = "v=DKIM1; k=rsa; p=" + "A" * 400
    fix = txt_fix("s._domainkey.example.test", value)
    assert fix.startswith('s._domainkey.example.test. TXT "v=DKIM1')
    assert quote_txt(value).count('" "') == 1
    assert quote_txt('say "hi"') == '"say \\"hi\\""'
