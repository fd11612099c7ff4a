"""The ``spf`` check: one record, valid syntax, ≤ 10 DNS lookups, ≤ 2 void lookups, no loops,
a sensible ``all``, and pyspf's verdict for every sending IP.

The lookup count walks ``include:`` and ``redirect=`` through DNS (the worst case a receiver may
evaluate, RFC 7208 §4.6.4); a domain already on the path is a loop. The per-IP verdict is
``check_host()`` from pyspf (through :mod:`mailfate.mailauth.spf`) for the MAIL FROM domain.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field
from typing import NamedTuple

import spf as pyspf

from mailfate.doctor.domain.context import CheckContext
from mailfate.doctor.domain.report import CheckOutcome, dns_problem, vetted_fix
from mailfate.doctor.domain.resolve import Answer, DnsClient
from mailfate.doctor.domain.spf_syntax import (
    LOOKUP_MECHANISMS,
    SpfRecord,
    SpfTerm,
    meant_record,
    offline_problems,
    open_range,
    parse_spf,
    record_with,
    repair_spf,
    spf_records,
    vet_spf,
)
from mailfate.doctor.findings import Severity
from mailfate.mailauth.dns import DnsStatus
from mailfate.mailauth.spf import SpfAnswer, SpfDns, check_spf, spf_answer

__all__ = ["SpfWalk", "analyze_spf", "check", "client_spf_dns", "ip_mechanism", "walk_spf"]

log = logging.getLogger(__name__)

MAX_LOOKUPS = 10
MAX_VOID = 2
MAX_MX = 10
MAX_DEPTH = 15
RFC = "RFC 7208"


def ip_mechanism(ip: str) -> str:
    return f"ip{ipaddress.ip_address(ip).version}:{ip}"


@dataclass(slots=True)
class SpfWalk:
    """What evaluating every reachable term would cost, and what it found on the way."""

    lookups: int = 0
    voids: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Errors in records reached through include/redirect (each a permerror)."""
    loops: list[str] = field(default_factory=list)
    temporary: list[str] = field(default_factory=list)
    mx_over: list[str] = field(default_factory=list)
    authorized: list[str] = field(default_factory=list)
    """ip4:/ip6: terms (incl. resolved a/mx) that give pass: a flattened record's content."""
    flattenable: bool = True
    tree: list[str] = field(default_factory=list)
    open_doors: list[tuple[str, str]] = field(default_factory=list)
    """``(top-level term, what it reaches)`` for every pass that reaches (nearly) every IP address
    below the top level: an included ``+all``, ``ip4:0.0.0.0/0``, ``a/0``."""


def walk_spf(dns: DnsClient, domain: str, record: SpfRecord) -> SpfWalk:
    walk = SpfWalk()
    _visit(dns, walk, domain, record, _At((domain,), authorizing=True, via=""))
    return walk


def _records_of(dns: DnsClient, domain: str, walk: SpfWalk, how: str) -> SpfRecord | None:
    answer = dns.txt(domain)
    if answer.failed:
        walk.temporary.append(f"{how}{domain}: {answer.error}")
        return None
    found = spf_records(answer.records)
    if not found:
        walk.voids.append(f"{how}{domain} (no SPF record)")
        walk.problems.append(f"{how}{domain} has no SPF record: receivers return permerror")
        return None
    if len(found) > 1:
        walk.problems.append(f"{how}{domain} has {len(found)} SPF records: receivers return permerror")
        return None
    parsed = parse_spf(found[0])
    for problem in parsed.problems:
        walk.problems.append(f"{how}{domain}: {problem}")
    return parsed if parsed.valid else None


def _addresses(dns: DnsClient, host: str, walk: SpfWalk, term: str) -> list[str]:
    found: list[str] = []
    failed = False
    for rtype in ("A", "AAAA"):
        answer = dns.get(host, rtype)
        failed = failed or answer.failed
        found.extend(answer.records if answer.ok else ())
    if failed and not found:
        walk.temporary.append(f"{term}: {host} did not resolve")
    return found


def _cidr_terms(addresses: list[str], cidr4: int | None, cidr6: int | None) -> list[str]:
    out = []
    for address in addresses:
        version = ipaddress.ip_address(address).version
        length = cidr4 if version == 4 else cidr6
        out.append(f"ip{version}:{address}" + (f"/{length}" if length is not None else ""))
    return out


class _At(NamedTuple):
    """Where the walk is: the domains from the top down to this one, whether a pass here gives
    ``pass`` (no ``-``/``~``/``?`` on the way), and the top-level term that led here."""

    path: tuple[str, ...]
    authorizing: bool
    via: str


def _visit(dns: DnsClient, walk: SpfWalk, domain: str, record: SpfRecord, at: _At) -> None:
    path, authorizing, via = at
    depth = len(path) - 1
    indent = "  " * depth
    walk.tree.append(f"{indent}{domain}: {record.raw}")
    if depth > MAX_DEPTH:
        walk.problems.append(f"{domain}: includes nested more than {MAX_DEPTH} deep")
        return
    for term in record.evaluated:
        passing = authorizing and term.qualifier == "+"
        door = via or term.raw
        if passing and (open_range(term) is not None or (term.name == "all" and depth > 0)):
            walk.open_doors.append((door, f"{term.raw} in {domain}'s record" if depth else term.raw))
        if _without_lookup(term, walk, passing=passing, top=depth == 0):
            continue
        walk.lookups += 1
        if term.has_macro or term.name in ("ptr", "exists"):
            walk.flattenable = walk.flattenable and not passing
            continue
        target = (term.value or domain).rstrip(".").lower()
        if term.name == "include":
            _follow(dns, walk, target, "include:", at._replace(authorizing=passing, via=door))
        elif term.name == "a":
            addresses = _addresses(dns, target, walk, term.raw)
            if not addresses:
                walk.voids.append(f"{term.raw} ({target} has no address)")
            elif passing:
                walk.authorized.extend(_cidr_terms(addresses, term.cidr4, term.cidr6))
        elif term.name == "mx":
            _visit_mx(dns, target, term, walk, passing=passing)
    redirect = record.modifier("redirect")
    if redirect is not None and record.all_term is None:
        walk.lookups += 1
        if redirect.has_macro:
            walk.flattenable = False
        else:
            target = redirect.value.rstrip(".").lower()
            _follow(dns, walk, target, "redirect=", at._replace(via=via or redirect.raw))


def _without_lookup(term: SpfTerm, walk: SpfWalk, *, passing: bool, top: bool) -> bool:
    """Take an ip4:, ip6: or all term, which costs no DNS lookup; ``False`` for any other term."""
    if term.name in ("ip4", "ip6"):
        if passing:
            cidr = term.cidr4 if term.name == "ip4" else term.cidr6
            walk.authorized.append(f"{term.name}:{term.value}" + (f"/{cidr}" if cidr is not None else ""))
        return True
    if term.name == "all":
        if passing and top:
            walk.flattenable = False
        return True
    return False


def _follow(dns: DnsClient, walk: SpfWalk, target: str, how: str, at: _At) -> None:
    """Walk into the record an include: or redirect= names, unless it is already on the path (a loop)."""
    if target in at.path:
        walk.loops.append(" → ".join([*at.path, target]))
        return
    found = _records_of(dns, target, walk, how)
    if found is not None:
        _visit(dns, walk, target, found, at._replace(path=(*at.path, target)))


def _visit_mx(dns: DnsClient, target: str, term: SpfTerm, walk: SpfWalk, *, passing: bool) -> None:
    """An mx mechanism: the addresses of its hosts, of which at most 10 may be looked up."""
    answer = dns.get(target, "MX")
    if answer.failed:
        walk.temporary.append(f"{term.raw}: {answer.error}")
        return
    hosts = [r.split(" ", 1)[1] for r in answer.records if r.split(" ", 1)[1] != "."]
    if not hosts:
        walk.voids.append(f"{term.raw} ({target} has no MX)")
    if len(hosts) > MAX_MX:
        walk.mx_over.append(f"{term.raw}: {target} has {len(hosts)} MX hosts (limit {MAX_MX})")
    for host in hosts[:MAX_MX]:
        addresses = _addresses(dns, host, walk, term.raw)
        if passing:
            walk.authorized.extend(_cidr_terms(addresses, term.cidr4, term.cidr6))


def _unspaced(out: CheckOutcome, check: str, domain: str, answer: Answer, missing: Severity) -> bool:
    """A TXT record that starts ``v=spf1`` with no space after it (often strings joined without a
    space): receivers do not see an SPF record. ``True`` when one was reported."""
    found = [(r, answer.strings[i] if answer.strings else ()) for i, r in enumerate(answer.records)]
    found = [(r, strings) for r, strings in found if r[:6].lower() == "v=spf1"]
    if not found:
        return False
    text, strings = found[0]
    meant = f"v=spf1 {text[6:]}"
    out.add(
        check,
        missing,
        f"{domain}'s TXT record {text[:60]!r} starts with v=spf1 but no space follows: receivers do not "
        "see an SPF record (SPF none)"
        + (" — its TXT strings are joined without a space (RFC 7208 §3.3)" if len(strings) > 1 else ""),
        evidence=answer.presentation(),
        fix=vetted_fix(
            vet_spf,
            domain,
            [meant_record(meant, strings)],
            repair_spf(text, strings),
            fixing=frozenset(c for c in offline_problems(meant) if c.startswith("syntax:")),
            fallback=f"Put a space after v=spf1 in {domain}'s TXT record.",
        ),
        source=f"{RFC} §4.5, §3.3",
        details={"domain": domain},
    )
    return True


def analyze_spf(ctx: CheckContext, domain: str, check: str, *, missing: Severity) -> CheckOutcome:
    """Findings about ``domain``'s SPF record under ``check`` (``spf`` or ``mail-from``)."""
    out = CheckOutcome()
    answer = ctx.dns.txt(domain)
    ips = [ip_mechanism(ip) for ip in ctx.ips]
    if answer.failed:
        out.findings.append(dns_problem(check, answer, ctx.timeout))
        return out
    records = spf_records(answer.records)
    evidence = answer.presentation()
    out.facts.update({"present": bool(records), "single": len(records) == 1})
    if not records:
        out.facts["valid"] = False
        if _unspaced(out, check, domain, answer, missing):
            return out
        out.add(
            check,
            missing,
            f"{domain} publishes no SPF record: receivers get SPF none and cannot tell your servers from "
            "forgers",
            evidence=evidence,
            fix=vetted_fix(
                vet_spf,
                domain,
                [],
                record_with(None, ips or ["mx"]),
                fallback=f"Publish one TXT record at {domain} listing your sending servers: v=spf1 … -all",
            ),
            source=f"{RFC} §4.5",
            details={"domain": domain},
        )
        return out
    if len(records) > 1:
        out.facts["valid"] = False
        out.add(
            check,
            Severity.ERROR,
            f"{domain} publishes {len(records)} SPF records: receivers return permerror (SPF fails for "
            "every message); merge them into one",
            evidence=evidence,
            fix=vetted_fix(
                vet_spf,
                domain,
                records,
                _merge(records),
                drop=frozenset({"all", "redirect"}),
                fallback="Merge the records into one by hand: every mechanism once, one all at the end.",
            )
            + "  (and delete the other v=spf1 records)",
            source=f"{RFC} §4.5",
            details={"domain": domain, "records": records},
        )
        return out
    record = parse_spf(records[0])
    strings = answer.strings[answer.records.index(records[0])] if answer.strings else ()
    seen = _Seen(out, check, domain, record, evidence, strings)
    _syntax_findings(seen)
    walk = walk_spf(ctx.dns, domain, record)
    _open_findings(out, check, domain, record, walk)
    out.facts.update({"lookups": walk.lookups, "void_lookups": len(walk.voids)})
    walk_ok = _walk_findings(out, check, walk)
    limits_ok = _limit_findings(out, check, domain, record, walk)
    _all_findings(seen)
    valid = record.valid and walk_ok and limits_ok
    out.facts["valid"] = valid
    if valid:
        out.add(
            check,
            Severity.OK,
            f"{domain} has one valid SPF record ({walk.lookups} of {MAX_LOOKUPS} DNS lookups, "
            f"{len(walk.voids)} void)",
            evidence=evidence,
            source=RFC,
        )
    return out


class _Seen(NamedTuple):
    """One published SPF record, as the record's findings read it: where they go, the check's name,
    the domain, the record parsed, its DNS evidence and its TXT strings as published."""

    out: CheckOutcome
    check: str
    domain: str
    record: SpfRecord
    evidence: str
    strings: tuple[bytes, ...]


def _syntax_findings(seen: _Seen) -> None:
    out, check, domain, record, evidence, strings = seen
    repaired = repair_spf(record.raw, strings)
    final = parse_spf(repaired).all_term
    if final is not None and final.qualifier == "+":  # never restore an open door
        repaired = record_with(repaired, [], all_term="-all")
    fix = vetted_fix(
        vet_spf,
        domain,
        [meant_record(record.raw, strings)],
        repaired,
        fixing=frozenset({*(f"syntax:{p}" for p in record.problems), "all:+"}),
        drop=frozenset({"all"} if final is not None and final.qualifier == "+" else ()),
        fallback=f"Correct the terms named above in {domain}'s SPF record, keeping all the others.",
    )
    glued = meant_record(record.raw, strings) != record.raw
    for problem in record.problems:
        out.add(
            check,
            Severity.ERROR,
            f"SPF syntax error in {domain}: {problem}; receivers return permerror"
            + ("  (the record's TXT strings are joined without a space, RFC 7208 §3.3)" if glued else ""),
            evidence=evidence,
            fix=fix,
            source=f"{RFC} §12",
        )
    for note in record.notes:
        out.add(check, Severity.WARNING, f"{domain}: {note}", evidence=evidence, source=f"{RFC} §5")


def _open_findings(out: CheckOutcome, check: str, domain: str, record: SpfRecord, walk: SpfWalk) -> None:
    """Passes that reach (nearly) every IP address: an included +all, ip4:0.0.0.0/0, a/0 …"""
    top = record.all_term is not None and record.all_term.qualifier == "+"
    out.facts["open"] = top or bool(walk.open_doors)
    for door, reached in dict.fromkeys(walk.open_doors):
        through = f"through {door} ({reached})" if door != reached else f"through {door}"
        out.add(
            check,
            Severity.ERROR,
            f"{domain}'s SPF record lets every IP address on the Internet pass {through}: anyone can "
            "send as this domain and pass SPF",
            evidence="\n".join(walk.tree),
            fix=vetted_fix(
                vet_spf,
                domain,
                [record.raw],
                " ".join(t for t in record.raw.split(" ") if t and t != door),
                fixing=frozenset(c for c in offline_problems(record.raw) if c.startswith("open:")),
                drop=frozenset({door.lower()}),
                fallback=f"Remove {door} from {domain}'s SPF record.",
            )
            + (
                f"  (or have the owner of {door.split(':', 1)[-1]} end its record in -all)"
                if door != reached
                else ""
            ),
            source=f"{RFC} §5.1, §5.6",
            details={"through": door, "reached": reached},
        )


def _walk_findings(out: CheckOutcome, check: str, walk: SpfWalk) -> bool:
    """What the walk met on the way; ``False`` when a loop, a broken record or too many MX hosts
    makes receivers return permerror."""
    tree = "\n".join(walk.tree)
    for loop in walk.loops:
        out.add(
            check,
            Severity.ERROR,
            f"SPF include loop: {loop}; receivers stop with permerror",
            evidence=tree,
            fix=f"Remove the include: or redirect= that points back ({loop.rsplit(' → ', 1)[-1]}).",
            source=f"{RFC} §5.2",
        )
    for problem in walk.problems:
        out.add(check, Severity.ERROR, f"SPF: {problem}", evidence=tree, source=f"{RFC} §5.2")
    for problem in walk.mx_over:
        out.add(check, Severity.ERROR, f"SPF: {problem}: permerror", evidence=tree, source=f"{RFC} §4.6.4")
    for problem in walk.temporary:
        out.add(
            check,
            Severity.WARNING,
            f"SPF lookup could not be completed: {problem}; the lookup count may be low",
            evidence=tree,
            source=f"{RFC} §4.6.4",
        )
    return not (walk.loops or walk.problems or walk.mx_over)


def _limit_findings(out: CheckOutcome, check: str, domain: str, record: SpfRecord, walk: SpfWalk) -> bool:
    """The DNS lookup and void lookup limits; ``False`` when the record goes over one."""
    tree = "\n".join(walk.tree)
    within = True
    if walk.lookups > MAX_LOOKUPS:
        within = False
        flat = record_with(None, list(dict.fromkeys(walk.authorized)), all_term=_all_text(record))
        advice = (
            "Remove includes of services you no longer use, replace a/mx with ip4:/ip6:, or move a "
            "provider to its own subdomain (MAIL FROM) so the record needs at most 10 lookups."
        )
        flat_fix = vetted_fix(
            vet_spf,
            domain,
            [record.raw],
            flat,
            fixing=frozenset({"all:+", "all:?", "all:none"}),
            drop=LOOKUP_MECHANISMS | {"all", "redirect"},
            fallback=advice,
        )
        fix = (
            flat_fix + "  (flattened: update it when your providers change their ranges)"
            if walk.flattenable and walk.authorized and flat_fix != advice
            else "Remove includes of services you no longer use, replace a/mx with ip4:/ip6:, or move a "
            "provider to its own subdomain (MAIL FROM) so the record needs at most 10 lookups."
        )
        out.add(
            check,
            Severity.ERROR,
            f"{domain}'s SPF record needs {walk.lookups} DNS lookups (include, a, mx, ptr, exists, "
            f"redirect, nested): more than {MAX_LOOKUPS}, receivers return permerror",
            evidence=tree,
            fix=fix,
            source=f"{RFC} §4.6.4",
            details={"lookups": walk.lookups},
        )
    if len(walk.voids) > MAX_VOID:
        within = False
        out.add(
            check,
            Severity.ERROR,
            f"{domain}'s SPF record makes {len(walk.voids)} void lookups (more than {MAX_VOID}): receivers "
            f"return permerror — {'; '.join(walk.voids)}",
            evidence=tree,
            fix="Remove the mechanisms that point at names without records: "
            + ", ".join(v.split(" (", 1)[0] for v in walk.voids),
            source=f"{RFC} §4.6.4",
        )
    return within


def _all_text(record: SpfRecord) -> str:
    term = record.all_term
    if term is None or term.qualifier in {"+", "?"}:
        return "-all"
    return f"{term.qualifier}all"


def _all_findings(seen: _Seen) -> None:
    """The final ``all``. A record with broken terms is judged — and fixed — as repaired, so an
    ``all`` inside a broken term (``ip4:192.0.2.10+all``) is still seen, and no fix keeps the breakage."""
    out, check, domain, record, evidence, strings = seen
    out.facts["all"] = f"{record.all_term.qualifier}all" if record.all_term is not None else ""
    base = repair_spf(record.raw, strings) if record.problems else record.raw
    shown = parse_spf(base)
    meant = [meant_record(record.raw, strings)]
    term = shown.all_term
    if term is None and shown.modifier("redirect") is not None:
        return
    qualifier = term.qualifier if term is not None else ""
    if qualifier not in _WEAK_ALL:
        return
    severity, problem, replacement, advice, section = _WEAK_ALL[qualifier]
    raw = term.raw if term is not None else ""
    out.add(
        check,
        severity,
        f"{domain}'s SPF record {problem.format(raw=raw)}",
        evidence=evidence,
        fix=vetted_fix(
            vet_spf,
            domain,
            meant,
            record_with(base, [], all_term=replacement),
            fixing=frozenset({f"all:{qualifier or 'none'}"}),
            drop=frozenset({"all"}) if term is not None else frozenset(),
            fallback=f"End {domain}'s SPF record in {advice.format(raw=raw)}.",
        ),
        source=f"{RFC} {section}",
    )


# A weak final ``all`` (qualifier; "" = none) → severity, what is wrong, the all to propose, the
# advice when no safe record can be proposed, the RFC section.
_WEAK_ALL: dict[str, tuple[Severity, str, str, str, str]] = {
    "+": (
        Severity.ERROR,
        "ends in {raw}: every IP address on the Internet passes SPF for this domain",
        "-all",
        "-all instead of {raw}",
        "§5.1",
    ),
    "?": (
        Severity.WARNING,
        "ends in ?all (neutral): mail from unlisted servers is not marked; use ~all, or -all once every "
        "sender is listed",
        "~all",
        "~all instead of ?all",
        "§8.2",
    ),
    "": (
        Severity.WARNING,
        "has no all mechanism: unlisted servers get neutral",
        "~all",
        "~all (or -all once every sender is listed)",
        "§4.7",
    ),
}


_ALL_STRENGTH = {"-": 3, "~": 2, "?": 1}


def _merge(records: list[str]) -> str:
    """One record from several: every term once, ``redirect=`` as an include, and the strictest
    ``all`` among them (never ``+all``)."""
    terms: list[str] = []
    final = ""
    for record in records:
        for token in record.split()[1:]:
            bare = token.lstrip("+-~?").lower()
            if bare == "all":
                qualifier = token[0] if token[0] in "+-~?" else "+"
                if _ALL_STRENGTH.get(qualifier, 0) > _ALL_STRENGTH.get(final[:1], 0):
                    final = f"{qualifier}all"
            elif bare.startswith("redirect="):
                terms.append(f"include:{token.split('=', 1)[1]}")
            elif token not in terms:
                terms.append(token)
    return " ".join(["v=spf1", *terms, final or "~all"])


def client_spf_dns(client: DnsClient) -> SpfDns:
    """pyspf's DNS driver on the shared :class:`DnsClient` (cache, deadline)."""

    def query(name: str, rtype: str, timeout: float) -> SpfAnswer:
        answer = client.get(name, rtype)
        if answer.status is DnsStatus.TEMPERROR:
            raise pyspf.TempError(f"DNS {answer.error}")
        return spf_answer(name, rtype, answer.rdatas)

    return query


def _evaluate(ctx: CheckContext, out: CheckOutcome) -> None:
    envelope = ctx.envelope_domain
    answer = ctx.dns.txt(envelope)
    records = spf_records(answer.records)
    if answer.failed:
        return  # reported by the record analysis; the verdict is unknown
    if len(records) != 1:
        if ctx.ips:
            out.facts["ips_pass"] = False
        return
    dns_fn = client_spf_dns(ctx.dns)
    passed = True
    broken: dict[tuple[str, str], list[str]] = {}
    refused: list[tuple[str, str, str]] = []
    for ip in ctx.ips:
        remaining = max(0.1, ctx.dns.remaining())
        result = check_spf(ip, f"postmaster@{envelope}", envelope, None, timeout=remaining, dns_fn=dns_fn)
        details = {"ip": ip, "result": result.result, "domain": envelope}
        if result.result == "pass":
            out.add(
                "spf",
                Severity.OK,
                f"{ip} may send for {envelope}: SPF pass"
                + (f" ({result.mechanism})" if result.mechanism else ""),
                evidence=answer.presentation(),
                source=f"{RFC} §4",
                details=details,
            )
            continue
        passed = False
        if result.result in ("temperror", "permerror"):
            broken.setdefault((result.result, result.explanation), []).append(ip)
            continue
        refused.append((ip, result.result, result.mechanism))
    fix = vetted_fix(
        vet_spf,
        envelope,
        [records[0]],
        record_with(records[0], [ip_mechanism(ip) for ip, _, _ in refused]),
        fallback=f"Add {' '.join(ip_mechanism(ip) for ip, _, _ in refused)} to {envelope}'s SPF record.",
    )
    for ip, verdict, mechanism in refused:
        out.add(
            "spf",
            Severity.ERROR,
            f"{ip} is not authorized to send for {envelope}: SPF {verdict}"
            + (f" (matched {mechanism})" if mechanism else ""),
            evidence=answer.presentation(),
            fix=fix,
            source=f"{RFC} §2.6",
            details={"ip": ip, "result": verdict, "domain": envelope},
        )
    for (verdict, explanation), ips in broken.items():
        listed = ", ".join(ips)
        if verdict == "temperror":
            out.add(
                "spf",
                Severity.ERROR,
                f"SPF for {listed} gave temperror: DNS did not answer within {ctx.timeout:g} s "
                f"({explanation})",
                fix="Retry, or raise --timeout; check the nameservers of every include:.",
                source=f"{RFC} §2.6.6",
                details={"ips": ips, "result": verdict, "domain": envelope},
            )
        else:
            out.add(
                "spf",
                Severity.ERROR,
                f"SPF for {listed} gave permerror ({explanation}): receivers treat {envelope}'s record as "
                "broken and SPF fails for every message",
                evidence=answer.presentation(),
                fix="Fix the SPF record errors reported above.",
                source=f"{RFC} §2.6.7",
                details={"ips": ips, "result": verdict, "domain": envelope},
            )
    if ctx.ips:
        out.facts["ips_pass"] = passed


def check(ctx: CheckContext) -> CheckOutcome:
    """The ``spf`` check of :func:`mailfate.doctor.domain.check_domain`."""
    domain = ctx.domain.ascii
    custom = ctx.mail_from is not None and ctx.mail_from.ascii != domain
    analysis = analyze_spf(ctx, domain, "spf", missing=Severity.WARNING if custom else Severity.ERROR)
    out = CheckOutcome(analysis.findings, {f"spf.{k}": v for k, v in analysis.facts.items()})
    evaluation = CheckOutcome()
    _evaluate(ctx, evaluation)
    out.findings.extend(evaluation.findings)
    out.facts.update({f"spf.{k}": v for k, v in evaluation.facts.items()})
    if not ctx.ips:
        out.add(
            "spf",
            Severity.INFO,
            "No --ip given: SPF was not evaluated for your sending servers",
            fix=f"mailfate doctor domain {domain} --ip <each sending IP>",
        )
    return out
