"""``mailfate doctor headers``: read the copy a recipient received and say where the time went, how
authentication came out and why, and what the spam filters thought."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import authres
from publicsuffixlist import PublicSuffixList

from mailfate.doctor.findings import Finding, Severity
from mailfate.doctor.received import Hop, analyze_chain, header_text, parse_message
from mailfate.doctor.spamheaders import SpamVerdict, parse_spam_headers

__all__ = ["ArcSet", "AuthResult", "HeaderReport", "SpamVerdict", "analyze_headers"]

_MAX_AUTH_HEADERS = 50
_METHOD_RE = re.compile(r"([A-Za-z][\w-]*)\s*=\s*([A-Za-z][\w-]*)")
_PROP_RE = re.compile(r"([A-Za-z][\w-]*\.[A-Za-z][\w.-]*)\s*=\s*(\"[^\"]*\"|[^\s;()]+)")
_TAG_RE = re.compile(r"([A-Za-z][\w-]*)\s*=\s*([^;]*)")
_IP_IN_TEXT = re.compile(r"\b((?:\d{1,3}\.){3}\d{1,3}|[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{0,4}){2,7})\b")
_CHECKS = {"spf", "dkim", "dmarc", "arc"}
_PSL: PublicSuffixList | None = None


def _org_domain(domain: str) -> str:
    global _PSL  # noqa: PLW0603 - the list is parsed once, on first use
    if _PSL is None:
        _PSL = PublicSuffixList()
    domain = domain.lower().strip(". ")
    return str(_PSL.privatesuffix(domain) or domain) if domain else ""


@dataclass(frozen=True, slots=True)
class AuthResult:
    """One method's result in an Authentication-Results (or ARC-Authentication-Results, Received-SPF)."""

    header: str
    authserv_id: str
    method: str
    result: str
    properties: dict[str, str]
    comment: str = ""
    instance: int | None = None
    explanation: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "header": self.header,
            "authserv_id": self.authserv_id,
            "instance": self.instance,
            "method": self.method,
            "result": self.result,
            "properties": self.properties,
            "comment": self.comment,
            "explanation": self.explanation,
        }


@dataclass(frozen=True, slots=True)
class ArcSet:
    """One ARC instance: who sealed it and the chain validation it states (cv=)."""

    instance: int
    cv: str
    domain: str
    selector: str

    def to_json(self) -> dict[str, Any]:
        return {"instance": self.instance, "cv": self.cv, "domain": self.domain, "selector": self.selector}


@dataclass(frozen=True, slots=True)
class HeaderReport:
    hops: list[Hop]
    total_delay: timedelta | None
    slowest_hop: int | None
    authentication: list[AuthResult]
    arc: list[ArcSet]
    spam: list[SpamVerdict]
    findings: list[Finding]
    summary: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "hops": [h.to_json() for h in self.hops],
            "total_delay_seconds": self.total_delay.total_seconds() if self.total_delay is not None else None,
            "slowest_hop": self.slowest_hop,
            "authentication": [a.to_json() for a in self.authentication],
            "arc": [a.to_json() for a in self.arc],
            "spam": [s.to_json() for s in self.spam],
            "findings": [f.to_json() for f in self.findings],
        }


# -- Authentication-Results ---------------------------------------------------------------------
def _comments(text: str) -> list[tuple[str, str]]:
    """(method, comment) for each result of a tolerant scan, in order."""
    out: list[tuple[str, str]] = []
    for chunk in _split_semis(text)[1:]:
        m = _METHOD_RE.match(chunk.strip())
        if m:
            found = re.search(r"\(([^()]*(?:\([^()]*\)[^()]*)*)\)", chunk)
            out.append((m.group(1).lower(), found.group(1).strip() if found else ""))
    return out


def _split_semis(text: str) -> list[str]:
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")" and depth:
            depth -= 1
        elif ch == ";" and depth == 0 and not quoted:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _tolerant(text: str) -> tuple[str, list[tuple[str, str, dict[str, str]]]]:
    chunks = _split_semis(text)
    authserv = chunks[0].strip().split()[0] if chunks[0].strip() else ""
    results = []
    for chunk in chunks[1:]:
        m = _METHOD_RE.match(chunk.strip())
        if not m:
            continue
        bare = re.sub(r"\([^()]*\)", " ", chunk)
        props = {k.lower(): v.strip('"') for k, v in _PROP_RE.findall(bare)}
        results.append((m.group(1).lower(), m.group(2).lower(), props))
    return authserv, results


def _parse_ar(header: str, text: str, instance: int | None) -> list[AuthResult]:
    """authres where it can; the tolerant scan where it cannot (it is stricter than real servers)."""
    comments = _comments(text)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = authres.AuthenticationResultsHeader.parse_value(text)
        authserv = str(parsed.authserv_id or "")
        results = [
            (
                str(r.method).lower(),
                str(r.result).lower(),
                {f"{p.type}.{p.name}".lower(): str(p.value) for p in r.properties},
            )
            for r in parsed.results
        ]
    except Exception:  # authres raises bare and varied errors on real-world headers
        authserv, results = _tolerant(text)
    out = []
    for n, (method, result, props) in enumerate(results):
        comment = comments[n][1] if n < len(comments) and comments[n][0] == method else ""
        out.append(AuthResult(header, authserv, method, result, props, comment, instance))
    return out


def _domain_of(value: str) -> str:
    return value.rsplit("@", 1)[-1].strip("<>. ").lower()


_SPF_TEXT = {
    "pass": "SPF pass: {ip} is permitted by {where}.",
    "fail": "SPF fail: {ip} is not listed in {where} (-all) — add ip4:/ip6:{ip}, or the include: of the "
    "service that sent it, to the record.",
    "softfail": "SPF softfail: {ip} is not listed in {where} (~all) — add ip4:/ip6:{ip}, or the include: of "
    "the service that sent it, to the record.",
    "neutral": "SPF neutral: {where} makes no statement about {ip} (?all) — list your senders and end the "
    "record with -all or ~all.",
    "none": 'SPF none: there is no SPF record for {domain} — publish "v=spf1 <your senders> -all".',
    "temperror": "SPF temperror: the receiver's DNS lookup failed; a retry usually passes — check that your "
    "DNS servers answer.",
    "permerror": "SPF permerror: {where} is broken (syntax, two records, more than 10 DNS lookups) — fix "
    "the record.",
}
_DKIM_TEXT = {
    "pass": "DKIM pass: {sig} verified.",
    "fail": "DKIM fail: {sig} did not verify: the message changed after signing (a footer, a list) or the "
    "key in DNS is not the signing key — publish the signing key at {key} and sign last.",
    "neutral": "DKIM neutral: {sig} could not be checked (malformed signature) — check the signer.",
    "permerror": "DKIM permerror: {sig} could not be checked (no usable key) — publish the key at {key}.",
    "temperror": "DKIM temperror: the key of {sig} could not be fetched (DNS failure at the receiver).",
    "none": "DKIM none: the message is not signed — sign it with a key for your From domain.",
    "policy": "DKIM policy: {sig} verified but the receiver does not accept it (e.g. a 512-bit key or l=) "
    "— sign with a 2048-bit key and no l= tag.",
}
_ARC_TEXT = {
    "pass": "ARC pass: an intermediary (forwarder, list) vouched for the authentication results it saw.",
    "fail": "ARC fail: the ARC chain is broken: a forwarder's seal or message signature did not verify.",
    "none": "ARC none: no forwarder added an ARC set.",
}


def _explain(r: AuthResult, ip: str, peers: list[AuthResult]) -> str:
    res, p = r.result, r.properties
    if r.method == "spf" and res in _SPF_TEXT:
        said = re.search(r"domain of (?:transitioning )?(\S+)", r.comment)
        domain = _domain_of(
            p.get("smtp.mailfrom", "")
            or p.get("envelope-from", "")
            or (said.group(1) if said else "")
            or p.get("smtp.helo", "")
        )
        ip = _first_ip(r.comment) or p.get("client-ip", "") or ip or "the sending IP"
        where = f"the SPF record of {domain}" if domain else "the sender's SPF record"
        return _SPF_TEXT[res].format(ip=ip, where=where, domain=domain or "the MAIL FROM domain")
    if r.method == "dkim" and res in _DKIM_TEXT:
        d = p.get("header.d", "") or p.get("header.i", "").lstrip("@")
        s = p.get("header.s", "")
        sig = f"the signature of d={d or '?'}" + (f" (selector {s})" if s else "")
        return _DKIM_TEXT[res].format(sig=sig, key=f"{s or '<selector>'}._domainkey.{d or '<domain>'}")
    if r.method == "dmarc":
        frm = p.get("header.from", "")
        policy = p.get("policy.dmarc", "") or p.get("policy.published-domain-policy", "")
        m = re.search(r"\bp=(\w+)", r.comment)
        policy = policy or (m.group(1).lower() if m else "")
        if res == "pass":
            return f"DMARC pass: the From domain {frm or '?'} is aligned with a passing SPF or DKIM result."
        if res == "fail":
            return (
                f"DMARC fail for {frm or 'the From domain'}"
                + (f" (policy {policy})" if policy else "")
                + ": "
                + _alignment(frm, peers)
            )
        if res == "none":
            return (
                f"DMARC none: {frm or 'the From domain'} publishes no DMARC record — publish "
                f'_dmarc.{frm or "<domain>"} TXT "v=DMARC1; p=none; rua=mailto:<your address>".'
            )
        return f"DMARC {res}: the receiver could not evaluate DMARC for {frm or 'the From domain'}."
    if r.method == "arc":
        return _ARC_TEXT.get(res, f"ARC {res}.")
    return f"{r.method.upper()} {res}" + (f" ({r.comment})" if r.comment else "") + "."


def _first_ip(text: str) -> str:
    m = _IP_IN_TEXT.search(text)
    return m.group(1) if m else ""


def _alignment(frm: str, peers: list[AuthResult]) -> str:
    org = _org_domain(frm)
    parts = []
    for r in peers:
        if r.method == "spf":
            dom = _domain_of(r.properties.get("smtp.mailfrom", ""))
            if dom:
                aligned = _org_domain(dom) == org
                parts.append(
                    f"SPF {r.result} for {dom} ({'aligned' if aligned else 'not aligned'} with {frm})"
                )
        elif r.method == "dkim":
            dom = r.properties.get("header.d", "") or _domain_of(r.properties.get("header.i", ""))
            if dom:
                aligned = _org_domain(dom) == org
                parts.append(f"DKIM {r.result} for d={dom} ({'aligned' if aligned else 'not aligned'})")
    if not parts:
        return (
            "neither SPF nor DKIM passed for a domain aligned with it — sign with DKIM d="
            + (frm or "<From domain>")
            + "."
        )
    return (
        "; ".join(parts)
        + f" — sign with DKIM d={org or frm} or send with a MAIL FROM domain under {org or frm}."
    )


# -- the report ---------------------------------------------------------------------------------
def _decode(value: Any) -> str:
    text = header_text(value)
    if "=?" not in text:
        return text
    try:
        return str(make_header(decode_header(text)))
    except (HeaderParseError, ValueError, LookupError, UnicodeError, TypeError):
        return text


def _auth_findings(results: list[AuthResult], spam: list[SpamVerdict], arc: list[ArcSet]) -> list[Finding]:
    findings: list[Finding] = []
    top = [r for r in results if r.header == "Authentication-Results"]
    if top:
        first = top[0].authserv_id
        top = [r for r in top if r.authserv_id == first]
    else:
        top = [r for r in results if r.header == "Received-SPF"][:1]
        findings.append(
            Finding(
                "dmarc",
                Severity.INFO,
                "No Authentication-Results header: the receiver recorded no SPF/DKIM/DMARC verdict here "
                "(or it was removed). Use `mailfate doctor domain` to check the records themselves.",
                source="RFC 8601",
            )
        )
    dkim_passed = any(r.method == "dkim" and r.result == "pass" for r in top)
    for r in top:
        if r.method not in _CHECKS:
            continue
        if r.result == "pass":
            sev = Severity.OK
        elif r.result in {"fail", "permerror"} and not (r.method == "dkim" and dkim_passed):
            sev = Severity.ERROR
        elif r.method == "arc" and r.result == "none":
            sev = Severity.INFO
        else:
            sev = Severity.WARNING
        message, _, fix = r.explanation.partition(" — ")
        message = message if message.endswith((".", ")")) else message + "."
        fix = fix[:1].upper() + fix[1:] if sev != Severity.OK else ""
        findings.append(
            Finding(
                r.method,
                sev,
                message,
                evidence=f"{r.header}: {r.authserv_id}; {r.method}={r.result}"
                + "".join(f" {k}={v}" for k, v in r.properties.items())
                + (f" ({r.comment})" if r.comment else ""),
                fix=fix,
                source={"spf": "RFC 7208", "dkim": "RFC 6376", "dmarc": "RFC 7489", "arc": "RFC 8617"}[
                    r.method
                ],
            )
        )
    if arc:
        newest = max(arc, key=lambda a: a.instance)
        bad = newest.cv.lower() == "fail" or (newest.instance == 1 and newest.cv.lower() not in {"none", ""})
        findings.append(
            Finding(
                "arc",
                Severity.WARNING if bad else Severity.INFO,
                f"{len(arc)} ARC set(s); the newest (i={newest.instance}, sealed by {newest.domain or '?'}) "
                f"states cv={newest.cv or '?'}" + (" — the chain is broken." if bad else "."),
                source="RFC 8617 §5.1",
            )
        )
    for v in spam:
        if v.verdict in {"spam", "bulk"}:
            findings.append(
                Finding(
                    "spam",
                    Severity.ERROR if v.verdict == "spam" else Severity.WARNING,
                    v.explanation,
                    evidence=v.evidence,
                    fix="Look at the rules hit and the authentication results above; fix failing "
                    "SPF/DKIM/DMARC first, then content and list hygiene.",
                )
            )
        else:
            findings.append(Finding("spam", Severity.OK, v.explanation, evidence=v.evidence))
    return findings


def _authentication_results(msg: Message) -> list[AuthResult]:
    """Every method result in Authentication-Results and ARC-Authentication-Results (``i=`` kept)."""
    results: list[AuthResult] = []
    for name in ("Authentication-Results", "ARC-Authentication-Results"):
        for value in (msg.get_all(name) or [])[:_MAX_AUTH_HEADERS]:
            text = header_text(value)
            instance = None
            m = re.match(r"\s*i\s*=\s*(\d+)\s*;", text)
            if m:
                instance, text = int(m.group(1)), text[m.end() :]
            results += _parse_ar(name, text, instance)
    return results


def _received_spf(msg: Message) -> list[AuthResult]:
    """Each Received-SPF header as an ``spf`` result."""
    results: list[AuthResult] = []
    for value in (msg.get_all("Received-SPF") or [])[:_MAX_AUTH_HEADERS]:
        text = header_text(value)
        m = re.match(r"\s*([A-Za-z]+)\s*(?:\(([^)]*)\))?", text)
        props = {k.lower(): v.strip().strip('"') for k, v in _TAG_RE.findall(text[m.end() if m else 0 :])}
        results.append(
            AuthResult(
                "Received-SPF",
                "",
                "spf",
                (m.group(1) if m else "").lower(),
                props,
                (m.group(2) or "") if m else "",
            )
        )
    return results


def _explained(results: list[AuthResult], ip: str) -> list[AuthResult]:
    """``results`` with their explanations, each read beside the others of the same header."""
    return [
        AuthResult(
            r.header,
            r.authserv_id,
            r.method,
            r.result,
            r.properties,
            r.comment,
            r.instance,
            _explain(
                r,
                ip,
                [
                    q
                    for q in results
                    if q.header == r.header and q.authserv_id == r.authserv_id and q.instance == r.instance
                ],
            ),
        )
        for r in results
    ]


def _arc_sets(msg: Message) -> list[ArcSet]:
    arc = []
    for value in (msg.get_all("ARC-Seal") or [])[:_MAX_AUTH_HEADERS]:
        tags = {k.lower(): v.strip() for k, v in _TAG_RE.findall(header_text(value))}
        inst = tags.get("i", "")
        arc.append(
            ArcSet(
                int(inst) if inst.isdigit() else 0, tags.get("cv", ""), tags.get("d", ""), tags.get("s", "")
            )
        )
    return arc


def analyze_headers(raw: bytes, *, now: datetime | None = None) -> HeaderReport:
    """Analyse a received message's headers; never raises on malformed input."""
    msg = parse_message(raw)
    findings: list[Finding] = []
    if not msg.keys():
        findings.append(
            Finding(
                "received",
                Severity.ERROR,
                "No mail headers found: this does not look like an .eml message.",
                fix='Save the message with its full source ("Show original" → "Download original").',
                source="RFC 5322 §2.2",
            )
        )
    chain = analyze_chain(msg, now=now)
    ip = next((h.from_ip for h in reversed(chain.hops) if h.from_ip and not h.internal), "")
    results = _explained(_authentication_results(msg) + _received_spf(msg), ip)
    arc = _arc_sets(msg)
    spam = parse_spam_headers(msg)
    findings += chain.findings + _auth_findings(results, spam, arc)
    summary = {
        k: _decode(msg.get(k, "")) for k in ("From", "To", "Subject", "Date", "Message-ID") if msg.get(k)
    }
    return HeaderReport(
        chain.hops,
        chain.total,
        chain.slowest,
        results,
        sorted(arc, key=lambda a: a.instance),
        spam,
        findings,
        summary,
    )
