"""SPF, DKIM, DMARC, PTR and Authentication-Results against a real Knot server on loopback."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import dns.resolver
import pytest

from mailfate.errors import ConfigError, InputError
from mailfate.mailauth.dkim import DkimResult, generate_key, sign_dkim, verify_dkim
from mailfate.mailauth.dmarc import DmarcResult, check_dmarc, from_domain
from mailfate.mailauth.dns import DnsStatus, lookup_txt, make_resolver
from mailfate.mailauth.results import authentication_results
from mailfate.mailauth.spf import SpfResult, check_spf, check_spf_async
from mailfate.simulator.personalities.ptr import check_ptr
from tests.support import zones
from tests.support.knot import KnotServer


@pytest.fixture(scope="module")
def keys() -> zones.Keys:
    return zones.make_keys()


@pytest.fixture(scope="module")
def knot(knot_factory: Callable[[dict[str, str]], KnotServer], keys: zones.Keys) -> KnotServer:
    return zones.start(knot_factory, keys)


@pytest.fixture
def resolver(knot: KnotServer) -> dns.resolver.Resolver:
    return make_resolver(knot.address, timeout=2.0)


# --- dns.py ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("127.0.0.1:5353", "127.0.0.1", 5353),
        ("[::1]:53", "::1", 53),
        ("10.0.0.1", "10.0.0.1", 53),
        ("::1", "::1", 53),
    ],
)
def test_make_resolver_parses_addresses(text: str, host: str, port: int) -> None:
    r = make_resolver(text)
    assert [str(ns) for ns in r.nameservers] == [host]
    assert r.port == port


@pytest.mark.parametrize("text", ["dns.example:53", "127.0.0.1:0", "127.0.0.1:99999", "[::1", "1.2.3.4:x"])
def test_make_resolver_rejects_bad_addresses(text: str) -> None:
    with pytest.raises(ConfigError, match="nameserver"):
        make_resolver(text)


def test_lookup_vocabulary(resolver: dns.resolver.Resolver) -> None:
    assert lookup_txt(resolver, "auth.test").records == ("v=spf1 ip4:127.0.0.1 -all",)
    assert lookup_txt(resolver, "nothing.auth.test").status is DnsStatus.NONE  # NXDOMAIN
    assert lookup_txt(resolver, "host.auth.test").status is DnsStatus.NONE  # NODATA
    with zones.silent_resolver() as silent:
        assert lookup_txt(silent, "auth.test").status is DnsStatus.TEMPERROR


def test_multi_string_txt_is_joined(resolver: dns.resolver.Resolver, keys: zones.Keys) -> None:
    assert lookup_txt(resolver, "k2048._domainkey.auth.test").records == (keys.k2048_txt,)


# --- spf.py ---------------------------------------------------------------------------------


def test_spf_results(resolver: dns.resolver.Resolver) -> None:
    ok = check_spf("127.0.0.1", "bounce@auth.test", "mta.auth.test", resolver)
    assert (ok.result, ok.domain, ok.identity, ok.mechanism) == (
        "pass",
        "auth.test",
        "mailfrom",
        "ip4:127.0.0.1",
    )
    assert check_spf("192.0.2.9", "bounce@auth.test", "x", resolver).result == "fail"
    assert check_spf("127.0.0.1", "a@soft.test", "x", resolver).result == "softfail"
    assert check_spf("127.0.0.1", "a@empty.test", "x", resolver).result == "none"


@pytest.mark.parametrize(
    ("sender", "ip", "expected"),
    [
        ("a@mx.mech.test", "127.0.0.1", "pass"),
        ("a@mx.mech.test", "127.0.0.9", "fail"),
        ("a@ptr.mech.test", "127.0.0.1", "pass"),  # 127.0.0.1 → host.auth.test → 127.0.0.1
        ("a@ptr.mech.test", "127.0.0.2", "fail"),  # PTR name without an address
        ("a@incl.mech.test", "127.0.0.1", "pass"),
        ("a@redir.mech.test", "127.0.0.1", "softfail"),
        ("a@two.mech.test", "127.0.0.1", "permerror"),
    ],
)
def test_spf_mechanisms_over_real_dns(
    resolver: dns.resolver.Resolver, sender: str, ip: str, expected: str
) -> None:
    assert check_spf(ip, sender, "x", resolver).result == expected


def test_spf_null_sender_checks_helo(resolver: dns.resolver.Resolver) -> None:
    result = check_spf("127.0.0.1", "", "auth.test", resolver)
    assert (result.result, result.identity, result.domain) == ("pass", "helo", "auth.test")
    assert check_spf("127.0.0.1", "", "", resolver).result == "none"


def test_spf_timeout_is_temperror() -> None:
    with zones.silent_resolver() as silent:
        assert check_spf("127.0.0.1", "a@auth.test", "x", silent, timeout=0.3).result == "temperror"


def test_spf_bad_ip_is_input_error(resolver: dns.resolver.Resolver) -> None:
    with pytest.raises(InputError):
        check_spf("not-an-ip", "a@auth.test", "x", resolver)


def test_spf_concurrent_calls_keep_their_own_resolver(resolver: dns.resolver.Resolver) -> None:
    """Threads checking with a good and a dead resolver at once never see each other's DNS."""
    results: dict[str, list[str]] = {"good": [], "dead": []}
    with zones.silent_resolver(timeout=0.2) as silent:

        def run(kind: str, r: dns.resolver.Resolver) -> None:
            for _ in range(4):
                results[kind].append(check_spf("127.0.0.1", "a@auth.test", "x", r, timeout=0.2).result)

        threads = [
            threading.Thread(target=run, args=("good", resolver)),
            threading.Thread(target=run, args=("dead", silent)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    assert results == {"good": ["pass"] * 4, "dead": ["temperror"] * 4}


def test_spf_async(resolver: dns.resolver.Resolver) -> None:
    result = asyncio.run(check_spf_async("127.0.0.1", "a@auth.test", "x", resolver))
    assert result.passed


# --- dkim.py --------------------------------------------------------------------------------


@pytest.mark.parametrize("selector", ["k1024", "k2048"])
def test_dkim_sign_then_verify(resolver: dns.resolver.Resolver, keys: zones.Keys, selector: str) -> None:
    key = keys.k1024 if selector == "k1024" else keys.k2048
    signed = sign_dkim(zones.message(), "auth.test", selector, key)
    assert signed.startswith(b"DKIM-Signature:")
    [result] = verify_dkim(signed, resolver)
    assert (result.result, result.domain, result.selector) == ("pass", "auth.test", selector)


def test_dkim_tampered_body_fails(resolver: dns.resolver.Resolver, keys: zones.Keys) -> None:
    signed = sign_dkim(zones.message(), "auth.test", "k1024", keys.k1024)
    [result] = verify_dkim(signed.replace(b"Thank you", b"Pay us now"), resolver)
    assert result.result == "fail"
    assert "body hash" in result.reason


def test_dkim_tampered_header_fails(resolver: dns.resolver.Resolver, keys: zones.Keys) -> None:
    signed = sign_dkim(zones.message(), "auth.test", "k1024", keys.k1024)
    [result] = verify_dkim(signed.replace(b"Your receipt", b"Your invoice"), resolver)
    assert result.result == "fail"


def test_dkim_wrong_key_and_missing_key(resolver: dns.resolver.Resolver, keys: zones.Keys) -> None:
    wrong = sign_dkim(zones.message(), "auth.test", "k2048", keys.k1024)  # signed with the other key
    assert [r.result for r in verify_dkim(wrong, resolver)] == ["fail"]
    missing = sign_dkim(zones.message(), "auth.test", "nokey", keys.k1024)
    [result] = verify_dkim(missing, resolver)
    assert (result.result, result.selector) == ("permerror", "nokey")


def test_dkim_unsigned_is_none(resolver: dns.resolver.Resolver) -> None:
    assert [r.result for r in verify_dkim(zones.message(), resolver)] == ["none"]


def test_dkim_two_signatures(resolver: dns.resolver.Resolver, keys: zones.Keys) -> None:
    once = sign_dkim(zones.message(), "auth.test", "k1024", keys.k1024)
    twice = sign_dkim(once, "auth.test", "nokey", keys.k2048)
    assert [(r.selector, r.result) for r in verify_dkim(twice, resolver)] == [
        ("nokey", "permerror"),
        ("k1024", "pass"),
    ]


def test_dkim_dns_timeout_is_temperror(keys: zones.Keys) -> None:
    signed = sign_dkim(zones.message(), "auth.test", "k1024", keys.k1024)
    with zones.silent_resolver() as silent:
        assert [r.result for r in verify_dkim(signed, silent)] == ["temperror"]


def test_sign_dkim_bad_key_is_input_error() -> None:
    with pytest.raises(InputError):
        sign_dkim(zones.message(), "auth.test", "k1", b"not a key")


# --- dmarc.py -------------------------------------------------------------------------------


def _dmarc(
    resolver: dns.resolver.Resolver, keys: zones.Keys, from_addr: str, mail_from: str, *, sign_d: str = ""
) -> DmarcResult:
    msg = zones.message(from_addr)
    if sign_d:
        msg = sign_dkim(msg, sign_d, "k1024", keys.k1024)
    spf = check_spf("127.0.0.1", mail_from, "x", resolver)
    return check_dmarc(from_domain(msg), spf, verify_dkim(msg, resolver), resolver)


def test_dmarc_pass_by_spf_alignment(resolver: dns.resolver.Resolver, keys: zones.Keys) -> None:
    result = _dmarc(resolver, keys, "a@auth.test", "bounce@auth.test")
    assert (result.result, result.policy, result.spf_aligned, result.dkim_aligned) == (
        "pass",
        "reject",
        True,
        False,
    )


def test_dmarc_pass_by_dkim_alignment_only(resolver: dns.resolver.Resolver, keys: zones.Keys) -> None:
    result = _dmarc(resolver, keys, "a@auth.test", "bounce@soft.test", sign_d="auth.test")
    assert (result.result, result.spf_aligned, result.aligned_dkim_domain) == ("pass", False, "auth.test")


def test_dmarc_fail_when_nothing_aligns(resolver: dns.resolver.Resolver, keys: zones.Keys) -> None:
    result = _dmarc(resolver, keys, "a@auth.test", "bounce@soft.test")
    assert (result.result, result.policy) == ("fail", "reject")


def test_dmarc_subdomain_uses_org_record_and_sp(resolver: dns.resolver.Resolver, keys: zones.Keys) -> None:
    result = _dmarc(resolver, keys, "a@mail.auth.test", "bounce@auth.test")
    assert (result.result, result.record_domain, result.policy) == ("pass", "auth.test", "quarantine")


def test_dmarc_strict_alignment(resolver: dns.resolver.Resolver, keys: zones.Keys) -> None:
    sub = _dmarc(resolver, keys, "a@strictalign.test", "x@bounces.strictalign.test")
    assert (sub.result, sub.spf_aligned, sub.reason) == ("fail", False, "SPF not aligned; no passing DKIM")
    exact = _dmarc(resolver, keys, "a@strictalign.test", "x@strictalign.test")
    assert exact.result == "pass"


def test_dmarc_none_and_temperror(resolver: dns.resolver.Resolver, keys: zones.Keys) -> None:
    assert _dmarc(resolver, keys, "a@empty.test", "a@empty.test").result == "none"
    with zones.silent_resolver() as silent:
        assert check_dmarc("auth.test", None, [], silent).result == "temperror"
    assert check_dmarc(None, None, [], resolver).result == "permerror"


# --- results.py -----------------------------------------------------------------------------


def test_authentication_results_header(resolver: dns.resolver.Resolver, keys: zones.Keys) -> None:
    msg = sign_dkim(zones.message(), "auth.test", "k1024", keys.k1024)
    spf = check_spf("127.0.0.1", "bounce@auth.test", "x", resolver)
    dkims = verify_dkim(msg, resolver)
    dmarc = check_dmarc(from_domain(msg), spf, dkims, resolver)
    value = authentication_results("mx.mailfate.test", spf, dkims, dmarc)
    assert value.startswith("mx.mailfate.test; spf=pass")
    assert "smtp.mailfrom=auth.test" in value
    assert "dkim=pass header.d=auth.test header.s=k1024" in value
    assert "dmarc=pass" in value and "header.from=auth.test" in value and "policy.dmarc=reject" in value
    assert authentication_results("mx.t", None, [], None) == "mx.t; none"


# --- PTR --------------------------------------------------------------------------------------


def test_ptr_and_fcrdns(resolver: dns.resolver.Resolver) -> None:
    good = check_ptr("127.0.0.1", resolver)
    assert (good.status, good.names, good.confirmed) == (DnsStatus.OK, ("host.auth.test",), True)
    dangling = check_ptr("127.0.0.2", resolver)
    assert (dangling.status, dangling.confirmed) == (DnsStatus.OK, False)
    assert check_ptr("127.0.0.3", resolver).status is DnsStatus.NONE
    with zones.silent_resolver() as silent:
        assert check_ptr("127.0.0.1", silent).status is DnsStatus.TEMPERROR


def test_generate_key_shape() -> None:
    private, txt = generate_key(1024)
    assert private.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert txt.startswith("v=DKIM1; k=rsa; p=MIGf")  # a 1024-bit SubjectPublicKeyInfo in base64
    with pytest.raises(InputError):
        generate_key(512)


def test_authentication_results_helo_identity_and_errors() -> None:
    spf = SpfResult("temperror", "DNS (timeout)", "mta.auth.test", "helo")
    dkim = DkimResult("permerror", "auth.test", "gone", "no key at gone._domainkey.auth.test")
    value = authentication_results("mx.t", spf, [dkim], None)
    assert value == (
        "mx.t; spf=temperror (DNS timeout) smtp.helo=mta.auth.test; "
        "dkim=permerror (no key at gone._domainkey.auth.test) header.d=auth.test header.s=gone"
    )
