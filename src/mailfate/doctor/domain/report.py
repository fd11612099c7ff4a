"""What ``check_domain`` returns: the findings, the facts the receiver checklists read, and helpers
every check uses to word its findings the same way (records in zone-file form, DNS trouble).

Facts are plain values keyed by ``<check>.<name>`` (``spf.ips_pass``, ``dmarc.policy`` …). A fact
is absent when its check could not decide (no ``--ip`` given, DNS did not answer): the checklists
then say *unknown* rather than guess. :data:`FACTS` lists every fact a check may set; the
receiver rule files may only name these.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from mailfate.doctor.domain.resolve import Answer
from mailfate.doctor.findings import Finding, Severity
from mailfate.mailauth.dns import DnsStatus

__all__ = [
    "CHECKS",
    "FACTS",
    "CheckOutcome",
    "DomainReport",
    "dns_problem",
    "quote_txt",
    "txt_fix",
]

CHECKS: tuple[str, ...] = (
    "domain",
    "spf",
    "dkim",
    "dmarc",
    "mail-from",
    "mx",
    "ptr",
    "mta-sts",
    "tls-rpt",
    "bimi",
    "dnsbl",
    "dnssec",
)

FACTS: dict[str, str] = {
    "spf.present": "the domain publishes at least one v=spf1 TXT record",
    "spf.single": "exactly one SPF record",
    "spf.valid": "one SPF record, valid syntax, at most 10 DNS lookups and 2 void lookups, no loop",
    "spf.lookups": "DNS lookups the record needs (include, a, mx, ptr, exists, redirect; nested)",
    "spf.void_lookups": "lookups that found nothing (NXDOMAIN or no records)",
    "spf.all": "the final all mechanism with its qualifier (-all, ~all, ?all, +all) or ''",
    "spf.open": "a pass reaches (nearly) every IP address: +all, also through an include, or a huge range",
    "spf.ips_pass": "SPF check_host() gives pass for every --ip (MAIL FROM domain)",
    "dkim.selectors": "number of selectors with a key record found",
    "dkim.valid": "every selector checked has a usable, unrevoked key",
    "dkim.any_valid": "at least one selector has a usable key (signatures by d=<domain> can pass)",
    "dkim.min_rsa_bits": "the shortest RSA key among the selectors (0 when none is RSA)",
    "dkim.test_sign": "a test signature made with --dkim-key verified against DNS",
    "dmarc.record": "the DMARC record that applies (raw text)",
    "dmarc.record_domain": "where that record was found (the domain or its organizational domain)",
    "dmarc.aspf": "the aspf= alignment mode (r or s)",
    "dmarc.adkim": "the adkim= alignment mode (r or s)",
    "dmarc.present": "a v=DMARC1 record applies (at the domain or its organizational domain)",
    "dmarc.valid": "exactly one record with v=DMARC1 first and a valid p=",
    "dmarc.policy": "the policy that applies to the domain: none, quarantine or reject",
    "dmarc.pct": "the pct= value (100 when absent)",
    "dmarc.rua": "aggregate reports (rua=) are requested and deliverable",
    "dmarc.enforced": "policy quarantine or reject with pct=100",
    "dmarc.subdomains_open": "the organizational domain enforces p= but sets sp=none: subdomains are open",
    "dmarc.spf_aligned": "the MAIL FROM domain aligns with the From domain under aspf",
    "dmarc.dkim_aligned": "a usable DKIM key for d=<domain> exists (aligned in both modes)",
    "dmarc.aligned": "DMARC can pass: aligned SPF that passes for every --ip, or aligned DKIM",
    "mail_from.domain": "the MAIL FROM (Return-Path) domain used for SPF",
    "mail_from.custom": "the MAIL FROM domain differs from the domain",
    "mail_from.resolves": "the MAIL FROM domain has MX or A/AAAA records",
    "mail_from.spf": "the MAIL FROM domain has exactly one SPF record",
    "mx.present": "the domain has MX records (other than a null MX)",
    "mx.null": "the domain publishes a null MX (RFC 7505): it receives no mail",
    "mx.resolves": "every MX target has an address",
    "mx.routable": "no MX target points at a loopback, private or reserved address",
    "ptr.all_present": "every --ip has a PTR record",
    "ptr.all_fcrdns": "every --ip has forward-confirmed reverse DNS",
    "mta_sts.present": "a v=STSv1 record is published at _mta-sts",
    "mta_sts.valid": "the record and the fetched policy are valid",
    "mta_sts.mode": "the policy mode: enforce, testing or none",
    "tls_rpt.present": "a v=TLSRPTv1 record is published at _smtp._tls",
    "tls_rpt.valid": "the TLS-RPT record is valid",
    "bimi.present": "a v=BIMI1 record is published at default._bimi",
    "bimi.valid": "the BIMI record is valid and DMARC is at enforcement",
    "dnsbl.listed": "some --ip is listed on some DNSBL",
    "dnsbl.listings": "number of (ip, list) listings",
    "dnssec.signed": "the domain publishes DNSKEY records",
    "dnssec.validated": "the resolver set the AD (authenticated data) flag",
}


@dataclass(slots=True)
class CheckOutcome:
    """What one check found and the facts it established."""

    findings: list[Finding] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def add(
        self,
        check: str,
        severity: Severity,
        message: str,
        *,
        evidence: str = "",
        fix: str = "",
        source: str = "",
        details: dict[str, Any] | None = None,
    ) -> Finding:
        finding = Finding(check, severity, message, evidence, fix, source, details or {})
        self.findings.append(finding)
        return finding

    def extend(self, other: CheckOutcome) -> None:
        self.findings.extend(other.findings)
        self.facts.update(other.facts)


@dataclass(slots=True)
class DomainReport:
    """The result of :func:`mailfate.doctor.domain.check_domain`."""

    domain: str
    """The domain as checked: lowercase A-labels (punycode), no final dot; the input when unusable."""
    unicode_domain: str = ""
    findings: list[Finding] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    elapsed: float = 0.0
    """Wall time in seconds."""
    queries: int = 0
    """DNS queries sent."""
    status: str = "exists"
    """``exists``, ``nxdomain``, ``no-answer`` (DNS did not answer for the domain) or ``unusable``."""
    not_run: list[str] = field(default_factory=list)
    """Checks that could not run or finish (the domain does not exist, DNS did not answer)."""

    @property
    def has_errors(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)

    def by_check(self, check: str) -> list[Finding]:
        return [f for f in self.findings if f.check == check]

    def to_json(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "status": self.status,
            "not_run": list(self.not_run),
            "findings": [f.to_json() for f in self.findings],
        }


def quote_txt(value: str) -> str:
    """``value`` as zone-file TXT strings: quoted, escaped, cut into pieces of at most 255 bytes."""
    data = value.encode("utf-8")
    chunks = [data[i : i + 255] for i in range(0, len(data), 255)] or [b""]
    out = []
    for chunk in chunks:
        text = chunk.decode("utf-8", "replace").replace("\\", "\\\\").replace('"', '\\"')
        out.append(f'"{text}"')
    return " ".join(out)


def txt_fix(name: str, value: str) -> str:
    """The record to publish: ``name. TXT "value"`` (split into ≤255-byte strings when long)."""
    return f"{name.rstrip('.')}. TXT {quote_txt(value)}"


class Vet(Protocol):
    """Why ``proposal`` is not better than ``originals`` (``""`` when it is): ``vet_spf``, ``vet_dmarc``."""

    def __call__(
        self, originals: list[str], proposal: str, *, fixing: frozenset[str], drop: frozenset[str]
    ) -> str: ...


def vetted_fix(
    vet: Vet,
    name: str,
    originals: list[str],
    proposal: str,
    *,
    fixing: frozenset[str] = frozenset(),
    drop: frozenset[str] = frozenset(),
    fallback: str,
) -> str:
    """The record to publish at ``name`` — only when ``vet`` finds it better than the originals (no
    problem they lacked, nothing valid lost); otherwise ``fallback``, advice in words (a worse
    record is never shown)."""
    reason = vet(originals, proposal, fixing=fixing, drop=drop)
    if reason:
        logging.getLogger("mailfate.doctor.domain").info(
            "doctor domain: not proposing %r for %s: %s", proposal, name, reason
        )
        return fallback
    return txt_fix(name, proposal)


def dns_problem(
    check: str,
    answer: Answer,
    timeout: float,
    *,
    severity: Severity = Severity.ERROR,
    what: str = "",
) -> Finding:
    """The finding for a lookup that did not give an answer (timeout, SERVFAIL, unusable name)."""
    name, rtype, status, error = answer.name, answer.rtype, answer.status, answer.error
    subject = what or f"the {check} check"
    if status is DnsStatus.PERMERROR:
        message = f"{name} is not a usable DNS name ({error}): {subject} could not run"
        fix = "Use a domain whose labels are at most 63 characters and 253 in total."
    elif "timeout" in error.lower() or "did not answer" in error.lower():
        message = f"DNS did not answer within {timeout:g} s for {name} {rtype}: {subject} could not finish"
        fix = f"Check that the nameserver answers (dig {name} {rtype}), then retry or raise --timeout."
    else:
        message = f"DNS lookup of {name} {rtype} failed ({error}): {subject} could not finish"
        fix = f"Check the domain's nameservers (dig {name} {rtype}); SERVFAIL often means broken DNSSEC."
    details = {"name": name, "type": rtype, "error": error, "dns_failed": True}
    return Finding(check, severity, message, fix=fix, details=details)
