"""The dnssec check against a zone Knot signs itself: DNSKEY found, reported as information; the
AD flag is the resolver's to set (an authoritative server never does)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from mailfate.doctor.domain import check_domain
from mailfate.doctor.findings import Severity
from tests.support.debian import not_installed
from tests.support.knot import KnotServer, knot_available, zone_text


@pytest.fixture(scope="module")
def signed() -> Iterator[KnotServer]:
    if not knot_available():
        pytest.skip(not_installed("Knot DNS", "knot"))
    zones = {
        "signed.test": zone_text("signed.test", '@ IN TXT "v=spf1 -all"\n'),
        "plain.test": zone_text("plain.test", '@ IN TXT "v=spf1 -all"\n'),
    }
    with KnotServer(zones, signed=("signed.test",)) as server:
        resolver = server.resolver()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # signing happens as the zone loads
            try:
                resolver.resolve("signed.test", "DNSKEY")
                break
            except Exception:
                time.sleep(0.05)
        yield server


def dnssec(server: KnotServer, domain: str) -> tuple[list[tuple[Severity, str]], dict[str, object]]:
    report = check_domain(domain, nameserver=server.address, timeout=3, dnsbl_zones=[], selectors=["s1"])
    return [(f.severity, f.message) for f in report.by_check("dnssec")], report.facts


def test_a_signed_zone_is_seen_as_signed(signed: KnotServer) -> None:
    findings, facts = dnssec(signed, "signed.test")
    assert facts["dnssec.signed"] is True and facts["dnssec.validated"] is False
    [(severity, message)] = findings
    assert severity is Severity.INFO and "DNSKEY" in message and "AD flag" in message


def test_an_unsigned_zone_is_information_not_an_error(signed: KnotServer) -> None:
    findings, facts = dnssec(signed, "plain.test")
    assert facts["dnssec.signed"] is False
    assert [s for s, _ in findings] == [Severity.INFO]
    assert "not DNSSEC-signed" in findings[0][1]
