"""Hostile input never escapes the parsers: DKIM verification, DMARC records, From domains."""

from __future__ import annotations

import dns.resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailfate.mailauth.dkim import verify_dkim
from mailfate.mailauth.dmarc import from_domain, organizational_domain, parse_dmarc_record
from tests.support import zones


def _offline_resolver() -> dns.resolver.Resolver:
    # Fuzzed signatures may name any d=/s=: point at a loopback port where nothing answers.
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = ["127.0.0.1"]
    r.port = 9  # discard: nothing listens, the query fails fast (refused) or times out
    r.timeout = r.lifetime = 0.05
    return r


_HEADER_NAMES = st.sampled_from(["DKIM-Signature", "From", "To", "Subject", "dkim-signature", "X"])
_TAG_VALUES = st.text(alphabet=st.characters(codec="latin-1"), max_size=60)


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    headers = draw(st.lists(st.tuples(_HEADER_NAMES, _TAG_VALUES), max_size=6))
    sig = draw(
        st.dictionaries(
            st.sampled_from(["v", "a", "b", "bh", "d", "s", "h", "c", "l", "t", "x", "q", "i"]),
            st.text(alphabet="abcdefghij0123456789=+/.-;: \t", max_size=20),
            max_size=10,
        )
    )
    lines = [f"{name}: {value}" for name, value in headers]
    if sig:
        lines.insert(0, "DKIM-Signature: " + "; ".join(f"{k}={v}" for k, v in sig.items()))
    body = draw(st.binary(max_size=80))
    sep = draw(st.sampled_from(["\r\n", "\n"]))
    return sep.join(lines).encode("latin-1") + sep.encode() * 2 + body


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_verify_dkim_never_raises_on_structured_garbage(message: bytes) -> None:
    results = verify_dkim(message, _offline_resolver())
    assert results and all(r.result in {"pass", "fail", "none", "temperror", "permerror"} for r in results)
    assert all(r.result != "pass" for r in results)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_verify_dkim_never_raises_on_bytes(data: bytes) -> None:
    for r in verify_dkim(data, _offline_resolver()):
        assert r.result != "pass"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_parse_dmarc_record_never_raises(text: str) -> None:
    record = parse_dmarc_record(text)
    if record is not None:
        assert record.p in {"none", "quarantine", "reject"}
        assert 0 <= record.pct <= 100


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "v=DMARC1",
                "p=reject",
                "p=bogus",
                "sp=none",
                "pct=50",
                "pct=-1",
                "pct=999999",
                "adkim=s",
                "aspf=x",
                "rua=mailto:a@b.test",
                " ",
                "=",
                "p",
                "ruf=,,",
            ]
        ),
        max_size=8,
    )
)
def test_parse_dmarc_record_tag_soup(tags: list[str]) -> None:
    text = "; ".join(tags)
    record = parse_dmarc_record(text)
    if record is not None:
        assert text.startswith("v=DMARC1")
        assert record.pct <= 100


def test_parse_dmarc_examples() -> None:
    record = parse_dmarc_record(
        "v=DMARC1; p=quarantine; sp=reject; pct=25; adkim=s; rua=mailto:a@x.test,mailto:b@x.test"
    )
    assert record is not None
    assert (record.p, record.sp, record.pct, record.adkim, record.aspf) == (
        "quarantine",
        "reject",
        25,
        "s",
        "r",
    )
    assert record.rua == ("mailto:a@x.test", "mailto:b@x.test")
    assert parse_dmarc_record("v=DMARC1; p=bogus") is None
    assert parse_dmarc_record("v=spf1 -all") is None
    rua_only = parse_dmarc_record("v=DMARC1; rua=mailto:a@x.test")
    assert rua_only is not None and rua_only.p == "none"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_from_domain_never_raises(data: bytes) -> None:
    domain = from_domain(data)
    assert domain is None or (domain and domain == domain.lower())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_organizational_domain_never_raises(name: str) -> None:
    organizational_domain(name)


def test_from_domain_examples() -> None:
    assert from_domain(zones.message("a@Mail.Auth.Test")) == "mail.auth.test"
    assert from_domain(b"From: =?utf-8?q?X?=\r\n <a@x.test>\r\nTo: b@y.test\r\n\r\nbody") == "x.test"
    assert from_domain(b"From: a@x.test\r\nFrom: b@y.test\r\n\r\n") is None  # two From fields
    assert from_domain(b"From: a@x.test, b@y.test\r\n\r\n") is None  # two domains
    assert from_domain(b"To: b@y.test\r\n\r\nFrom: a@x.test") is None  # From only in the body
    assert organizational_domain("a.b.example.co.uk") == "example.co.uk"
    assert organizational_domain("mail.auth.test") == "auth.test"
