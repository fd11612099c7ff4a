"""The ``dnssec`` check, as information: does the domain publish DNSKEY records, and did the resolver
validate the answer (the AD flag)? Neither is required to send mail; DNSSEC protects the SPF, DKIM
and DMARC records from forgery and is what DANE for SMTP (RFC 7672) builds on."""

from __future__ import annotations

from mailfate.doctor.domain.context import CheckContext
from mailfate.doctor.domain.report import CheckOutcome, dns_problem
from mailfate.doctor.findings import Severity

__all__ = ["check_dnssec"]


def check_dnssec(ctx: CheckContext) -> CheckOutcome:
    """The ``dnssec`` check."""
    out = CheckOutcome()
    domain = ctx.domain.ascii
    answer = ctx.dns.get(domain, "DNSKEY")
    if answer.failed:
        out.findings.append(dns_problem("dnssec", answer, ctx.timeout, severity=Severity.INFO))
        return out
    signed = bool(answer.records)
    out.facts["dnssec.signed"] = signed
    out.facts["dnssec.validated"] = answer.authenticated
    if not signed:
        out.add(
            "dnssec",
            Severity.INFO,
            f"{domain} is not DNSSEC-signed (no DNSKEY): its mail records could be forged in transit by a "
            "poisoned resolver; optional",
            fix="Enable DNSSEC signing at your DNS host, then publish the DS record at your registrar.",
            source="RFC 4033; RFC 7672",
        )
        return out
    keys = len(answer.records)
    if answer.authenticated:
        out.add(
            "dnssec",
            Severity.OK,
            f"{domain} is DNSSEC-signed ({keys} DNSKEY) and the resolver validated it (AD flag)",
            evidence=answer.presentation()[:400],
            source="RFC 4035 §3.2.3",
        )
    else:
        out.add(
            "dnssec",
            Severity.INFO,
            f"{domain} publishes {keys} DNSKEY record(s); the resolver did not set the AD flag (it does not "
            "validate, or the chain of trust (DS at the parent) is missing)",
            evidence=answer.presentation()[:400],
            fix="Check that the registrar publishes the DS record (dig DS " + domain + ").",
            source="RFC 4035 §3.2.3",
        )
    return out
