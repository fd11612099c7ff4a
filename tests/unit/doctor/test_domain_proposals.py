"""The general step of ``doctor domain`` fixes — propose, re-check, refuse one that is not better —
as properties of SPF and DMARC record text (hypothesis; no DNS).

A proposal is *better* when its own problems are a subset of the original's minus the ones it fixes,
it keeps every valid term or tag of the original (also those written together without a space, or
a ``rua`` without ``mailto:``: what the author plainly meant) and never weakens a policy.
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mailfate.doctor.domain.dmarc import (
    POLICIES,
    _reordered,
    dmarc_problems,
    merge_dmarc,
    misordered_dmarc,
    parse_dmarc_tags,
    vet_dmarc,
)
from mailfate.doctor.domain.infra import unroutable
from mailfate.doctor.domain.spf import _merge
from mailfate.doctor.domain.spf_syntax import (
    meant_record,
    offline_problems,
    open_range,
    parse_spf,
    record_with,
    repair_spf,
    vet_spf,
)

# --- SPF ---------------------------------------------------------------------------------------

_QUALIFIER = st.sampled_from(["", "+", "-", "~", "?"])
_DOMAIN = st.sampled_from(["example.com", "_spf.example.net", "mail.example.org", "x.test"])
_IP4 = st.builds(
    lambda a, n: f"ip4:{ipaddress.IPv4Network((a, n), strict=False).network_address}/{n}",
    st.integers(0, 2**32 - 1),
    st.integers(8, 32),
)
_IP6 = st.builds(
    lambda a, n: f"ip6:{ipaddress.IPv6Network((a, n), strict=False).network_address}/{n}",
    st.integers(0, 2**128 - 1),
    st.integers(19, 128),
)
_MECHANISM = st.one_of(
    _IP4,
    _IP6,
    st.builds(lambda d: f"include:{d}", _DOMAIN),
    st.builds(lambda d: f"a:{d}", _DOMAIN),
    st.just("a"),
    st.just("mx"),
    st.builds(lambda d: f"mx:{d}/24", _DOMAIN),
)
_TERMS = st.lists(st.tuples(_QUALIFIER, _MECHANISM).map("".join), min_size=1, max_size=6, unique=True)
_ALL = st.sampled_from(["", "-all", "~all", "?all", "+all"])


def _record(terms: list[str], final: str) -> str:
    return " ".join(["v=spf1", *terms, *([final] if final else [])])


def _syntax(text: str) -> frozenset[str]:
    return frozenset(c for c in offline_problems(text) if c.startswith("syntax:"))


@settings(max_examples=300, deadline=None)
@given(_TERMS, _ALL)
def test_a_valid_record_needs_no_repair(terms: list[str], final: str) -> None:
    text = _record(terms, final)
    assert parse_spf(text).valid
    assert repair_spf(text) == text


@settings(max_examples=300, deadline=None)
@given(_TERMS, _ALL, st.data())
def test_strings_joined_without_a_space_are_repaired_keeping_every_term(
    terms: list[str], final: str, data: st.DataObject
) -> None:
    """``"v=spf1 ip4:192.0.2.10" "-all"`` reads ``ip4:192.0.2.10-all``: the repair keeps both."""
    tokens = [*terms, *([final] if final else [])]
    cuts = data.draw(st.sets(st.integers(1, len(tokens)), max_size=3))
    strings: list[str] = []
    current = "v=spf1"
    for index, token in enumerate(tokens, start=1):
        current += " " + token if current == "v=spf1" or index - 1 not in cuts else token
        if index in cuts:
            strings.append(current)
            current = ""
    strings.append(current)
    published = "".join(strings)
    assume(not parse_spf(published).valid)  # a valid record is no repair case (long records split mid-term)
    encoded = tuple(s.encode() for s in strings if s)
    repaired = repair_spf(published, encoded)
    assert [t.raw for t in parse_spf(repaired).terms] == tokens
    assert vet_spf([meant_record(published, encoded)], repaired, fixing=_syntax(published)) == ""


@settings(max_examples=300, deadline=None)
@given(_TERMS, _ALL, st.integers(0, 5))
def test_glued_tokens_without_the_strings_are_split_back(terms: list[str], final: str, at: int) -> None:
    tokens = [*terms, *([final] if final else [])]
    if len(tokens) < 2:
        return
    at = at % (len(tokens) - 1)
    glued = [*tokens[:at], tokens[at] + tokens[at + 1], *tokens[at + 2 :]]
    published = " ".join(["v=spf1", *glued])
    assume(not parse_spf(published).valid)
    repaired = repair_spf(published)
    assert vet_spf([published], repaired, fixing=_syntax(published)) == "", (published, repaired)


@settings(max_examples=200, deadline=None)
@given(
    _TERMS, _ALL, st.sampled_from(["ip4:192.0.2.300", "foo:bar", "include:", "ip4:1.2.3.4/33", "a:single"])
)
def test_a_broken_term_is_dropped_and_nothing_else(terms: list[str], final: str, broken: str) -> None:
    published = _record([*terms, broken], final)
    repaired = repair_spf(published)
    assert vet_spf([published], repaired, fixing=_syntax(published)) == ""
    assert [t.raw for t in parse_spf(repaired).terms] == [*terms, *([final] if final else [])]


@settings(max_examples=200, deadline=None)
@given(_TERMS, _ALL, st.data())
def test_a_proposal_that_loses_a_term_is_refused(terms: list[str], final: str, data: st.DataObject) -> None:
    published = _record(terms, final)
    lost = data.draw(st.sampled_from(terms))
    proposal = _record([t for t in terms if t != lost], final)
    assert vet_spf([published], proposal).startswith("it loses")


def test_the_worst_fix_found_is_refused() -> None:
    """Issue 15: strings joined without a space got the fix TXT "v=spf1" (sending IP and -all gone)."""
    assert vet_spf(["v=spf1 ip4:192.0.2.10-all"], "v=spf1") == "it loses ip4:192.0.2.10"
    assert repair_spf("v=spf1 ip4:192.0.2.10-all") == "v=spf1 ip4:192.0.2.10 -all"
    strings = (b"v=spf1", b"ip4:192.0.2.10 -all")
    assert repair_spf("v=spf1ip4:192.0.2.10 -all", strings) == "v=spf1 ip4:192.0.2.10 -all"
    assert (
        vet_dmarc(["v=DMARC1; p=none", "v=DMARC1; p=reject; rua=mailto:d@x.test"], "v=DMARC1; p=none") != ""
    )
    assert (
        vet_dmarc(["v=DMARC1; p=reject; rua=d@x.test"], "v=DMARC1; p=reject")
        == "it loses rua=mailto:d@x.test"
    )


@settings(max_examples=200, deadline=None)
@given(_TERMS, st.sampled_from(["+all", "?all", ""]))
def test_all_fixes_keep_every_other_term(terms: list[str], final: str) -> None:
    published = _record(terms, final)
    code = {"+all": "all:+", "?all": "all:?", "": "all:none"}[final]
    better = "-all" if final == "+all" else "~all"
    proposal = record_with(published, [], all_term=better)
    assert vet_spf([published], proposal, fixing=frozenset({code}), drop=frozenset({"all"})) == ""
    assert code not in offline_problems(proposal)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_TERMS, _ALL), min_size=2, max_size=3))
def test_merged_records_keep_every_term_and_the_strictest_all(records: list[tuple[list[str], str]]) -> None:
    texts = [_record(terms, final) for terms, final in records]
    merged = _merge(texts)
    assert vet_spf(texts, merged, drop=frozenset({"all"})) == ""
    strength = {"-": 3, "~": 2, "?": 1}
    wanted = max((strength.get(f[0], 0) for _, f in records if f), default=0)
    final = parse_spf(merged).all_term
    assert final is not None and strength[final.qualifier] >= wanted and final.qualifier != "+"


@pytest.mark.parametrize(
    ("term", "wide"),
    [
        ("ip4:0.0.0.0/0", 0),
        ("ip4:0.0.0.0/1", 1),
        ("ip4:17.0.0.0/8", None),
        ("ip4:192.0.2.0/24", None),
        ("ip6:::/0", 0),
        ("ip6:2000::/3", 3),
        ("ip6:2001:db8::/32", None),
        ("a/0", 0),
        ("mx//0", 0),
        ("a:x.test/24", None),
    ],
)
def test_open_ranges(term: str, wide: int | None) -> None:
    (parsed,) = parse_spf(f"v=spf1 {term}").terms
    assert open_range(parsed) == wide
    assert (f"open:{term}" in offline_problems(f"v=spf1 {term} -all")) is (wide is not None)
    assert f"open:-{term}" not in offline_problems(f"v=spf1 -{term} -all")  # a fail is no door


# --- DMARC -------------------------------------------------------------------------------------

_POLICY = st.sampled_from(POLICIES)
_ADDRESS = st.sampled_from(["d@example.com", "agg@reports.example.net", "x@y.test"])


@st.composite
def _dmarc_tags(draw: st.DrawFn) -> dict[str, str]:
    tags = {"p": draw(_POLICY)}
    if draw(st.booleans()):
        tags["sp"] = draw(_POLICY)
    if draw(st.booleans()):
        tags["pct"] = str(draw(st.integers(0, 100)))
    if draw(st.booleans()):
        addresses = draw(st.lists(_ADDRESS, min_size=1, max_size=2, unique=True))
        tags["rua"] = ",".join(f"mailto:{a}" for a in addresses)
    for name in ("adkim", "aspf"):
        if draw(st.booleans()):
            tags[name] = draw(st.sampled_from(["r", "s"]))
    return tags


def _dmarc(tags: dict[str, str]) -> str:
    return "; ".join(["v=DMARC1", *(f"{k}={v}" for k, v in tags.items())])


def _rank(policy: str | None) -> int:
    return {"none": 0, "quarantine": 1, "reject": 2}.get(policy or "", -1)


@settings(max_examples=300, deadline=None)
@given(_dmarc_tags())
def test_a_valid_dmarc_record_rebuilt_is_the_same_record(tags: dict[str, str]) -> None:
    text = _dmarc(tags)
    assert parse_dmarc_tags(text).tags == tags
    assert vet_dmarc([text], parse_dmarc_tags(text).rebuilt()) == ""


@settings(max_examples=300, deadline=None)
@given(_dmarc_tags(), _ADDRESS)
def test_a_rua_without_mailto_is_repaired_not_dropped(tags: dict[str, str], bare: str) -> None:
    text = _dmarc({**tags, "rua": bare})
    parsed = parse_dmarc_tags(text)
    fixing = frozenset(c for c in dmarc_problems(text) if c.startswith("tag:"))
    proposal = parsed.rebuilt()
    assert f"rua=mailto:{bare}" in proposal
    assert vet_dmarc([text], proposal, fixing=fixing) == ""
    assert vet_dmarc(
        [text], parse_dmarc_tags(_dmarc({k: v for k, v in tags.items() if k != "rua"})).rebuilt()
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(_dmarc_tags(), min_size=2, max_size=3))
def test_several_dmarc_records_merge_to_the_strongest_with_every_rua(records: list[dict[str, str]]) -> None:
    texts = [_dmarc(tags) for tags in records]
    merged = merge_dmarc(texts)
    parsed = parse_dmarc_tags(merged)
    assert _rank(parsed.policy) == max(_rank(t["p"]) for t in records)
    for tags in records:
        for uri in tags.get("rua", "").split(","):
            assert not uri or uri in parsed.report_uris("rua")
    assert vet_dmarc(texts, merged, drop=frozenset({"pct", "adkim", "aspf"})) == ""


@settings(max_examples=300, deadline=None)
@given(_dmarc_tags(), st.integers(1, 6))
def test_v_dmarc1_not_first_keeps_its_policy(tags: dict[str, str], at: int) -> None:
    parts = [f"{k}={v}" for k, v in tags.items()]
    at = at % len(parts) + 1
    text = "; ".join([*parts[:at], "v=DMARC1", *parts[at:]])
    assert misordered_dmarc([text]) == [text]
    meant = _reordered(text)
    assert parse_dmarc_tags(parse_dmarc_tags(meant).rebuilt()).tags == {k: v for k, v in tags.items()}


@settings(max_examples=200, deadline=None)
@given(_dmarc_tags(), _POLICY)
def test_a_weaker_policy_is_refused(tags: dict[str, str], weaker: str) -> None:
    if _rank(weaker) >= _rank(tags["p"]):
        return
    text = _dmarc(tags)
    assert vet_dmarc([text], parse_dmarc_tags(text).rebuilt(p=weaker)) != ""
    assert vet_dmarc([text], parse_dmarc_tags(text).rebuilt(p=weaker), fixing=frozenset({"p:none"})) != ""


def test_sp_none_under_an_enforced_p_is_a_problem_code() -> None:
    assert "sp:open" in dmarc_problems("v=DMARC1; p=reject; sp=none")
    assert "sp:open" not in dmarc_problems("v=DMARC1; p=none; sp=none")
    assert "sp:open" not in dmarc_problems("v=DMARC1; p=reject; sp=quarantine")


def test_a_new_record_needs_only_to_be_usable() -> None:
    assert vet_dmarc([], "v=DMARC1; p=none; rua=mailto:d@example.com") == ""
    assert vet_dmarc([], "v=DMARC1; p=maybe") != ""
    assert vet_spf([], "v=spf1 mx -all") == ""


# --- MX addresses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.25", "private"),
        ("172.20.1.1", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("169.254.1.1", "link-local"),
        ("fd00::25", "unique local"),
        ("0.0.0.0", "'this network'"),
        ("::ffff:10.0.0.1", "private"),
        ("8.8.8.8", ""),
        ("2a00:1450::1", ""),
        ("192.0.2.25", ""),  # documentation ranges stand in for public addresses
        ("2001:db8::25", ""),
    ],
)
def test_unroutable_mx_addresses(address: str, kind: str) -> None:
    why = unroutable(address)
    assert (kind in why) if kind else why == ""
