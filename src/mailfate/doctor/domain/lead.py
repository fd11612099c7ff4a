"""What a ``doctor domain`` report leads with: does the domain exist, and did DNS answer at all?

Without this the first rows of a report for a mistyped name are SPF and DMARC errors whose fixes
publish records under a name that does not exist. The ``domain`` row comes first and says the one
thing that matters — *the domain does not exist* (NXDOMAIN) or *DNS did not answer* (time-out,
SERVFAIL, REFUSED) — and which checks could therefore not run. For a name that does not exist,
the checks of records under it are replaced by one "not checked" row each (an error for the
checks receivers apply to every message, information for the optional ones); a time-out keeps each
check's own "could not finish" finding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mailfate.doctor.domain.context import CheckContext
from mailfate.doctor.domain.report import CheckOutcome
from mailfate.doctor.findings import Finding, Severity

__all__ = ["FAILING_WITHOUT_A_NAME", "UNDER_THE_DOMAIN", "Lead", "lead"]

UNDER_THE_DOMAIN: tuple[str, ...] = ("spf", "dkim", "dmarc", "mx", "mta-sts", "tls-rpt", "bimi", "dnssec")
"""Checks that read records at or under the domain: none can run when the name does not exist."""
FAILING_WITHOUT_A_NAME = frozenset({"spf", "dkim", "dmarc", "mail-from", "mx"})
"""Of those, the ones receivers check on every message: their "not checked" row stays an error, so
nothing downstream (``mailfate report``) mistakes a domain that does not exist for a clean one."""


@dataclass(slots=True)
class Lead:
    status: str
    """``exists``, ``nxdomain`` (the name does not exist) or ``no-answer`` (time-out, SERVFAIL …)."""
    outcome: CheckOutcome
    """The ``domain`` row."""
    not_run: list[str] = field(default_factory=list)
    """Checks that could not run or finish, in the order of ``CHECKS``."""


def _dns_failed(outcome: CheckOutcome) -> bool:
    return any(f.details.get("dns_failed") for f in outcome.findings)


def lead(ctx: CheckContext, outcomes: dict[str, CheckOutcome]) -> Lead:
    """The ``domain`` row; for a name that does not exist, ``outcomes`` of the checks under it are
    replaced by a "not checked" row each (their facts are kept: nothing is published there)."""
    domain = ctx.domain.ascii
    mx, txt = ctx.dns.get(domain, "MX"), ctx.dns.txt(domain)
    out = CheckOutcome()
    if "NXDOMAIN" in (mx.error, txt.error):
        skipped = [c for c in UNDER_THE_DOMAIN if c in outcomes]
        if ctx.mail_from is None and "mail-from" in outcomes:
            skipped.append("mail-from")
        for check in skipped:
            _not_checked(ctx, check, outcomes)
        not_run = [c for c in outcomes if c in skipped or _dns_failed(outcomes[c])]
        out.add(
            "domain",
            Severity.ERROR,
            f"The domain {domain} does not exist (NXDOMAIN): receivers reject mail from a domain that "
            f"does not resolve, and no record under it can be checked. Not checked: {', '.join(not_run)}",
            evidence=f"{domain} MX: NXDOMAIN",
            fix=f"Check the spelling of {domain}. If it is right, register it or add its zone to your DNS "
            "servers, then publish its MX, SPF and DMARC records and run this check again.",
            source="RFC 1035 §4.1.1 (RCODE 3); RFC 8020; RFC 5321 §5.1",
            details={"status": "nxdomain", "not_run": not_run},
        )
        return Lead("nxdomain", out, not_run)
    not_run = [c for c in outcomes if _dns_failed(outcomes[c])]
    if mx.failed and txt.failed:
        timed_out = "timeout" in mx.error.lower()
        why = f"no answer within {ctx.timeout:g} s" if timed_out else mx.error
        out.add(
            "domain",
            Severity.ERROR,
            f"DNS did not answer for {domain} ({why}): nothing about the domain could be looked up, so "
            f"the findings below are incomplete, not a verdict. Could not run: {', '.join(not_run)}",
            evidence=f"{domain} MX: {mx.error}\n{domain} TXT: {txt.error}",
            fix=f"Check that the nameserver answers (dig {domain} SOA), then retry"
            + (" or raise --timeout" if timed_out else "")
            + "; SERVFAIL often means broken DNSSEC or a nameserver that does not serve the zone.",
            source="RFC 1035 §4.1.1",
            details={"status": "no-answer", "not_run": not_run, "error": mx.error},
        )
        return Lead("no-answer", out, not_run)
    out.add(
        "domain",
        Severity.INFO if not_run else Severity.OK,
        f"{domain} exists in DNS"
        + (
            f"; some lookups went unanswered, so these checks did not finish: {', '.join(not_run)}"
            if not_run
            else ""
        ),
        source="RFC 1035",
        details={"status": "exists", "not_run": not_run} if not_run else {},
    )
    return Lead("exists", out, not_run)


def _not_checked(ctx: CheckContext, check: str, outcomes: dict[str, CheckOutcome]) -> None:
    """Replace ``check``'s rows by one "not checked" row; keep the SPF verdicts for a custom MAIL FROM."""
    domain = ctx.domain.ascii
    old = outcomes[check]
    kept = [
        f
        for f in old.findings
        if ctx.mail_from is not None and f.details.get("domain") == ctx.mail_from.ascii
    ]
    failing = check in FAILING_WITHOUT_A_NAME
    row = Finding(
        check,
        Severity.ERROR if failing else Severity.INFO,
        f"Not checked: {domain} does not exist (see the domain row)"
        + ("; receivers find nothing here, so this fails for every message" if failing else ""),
        details={"not_run": True},
    )
    outcomes[check] = CheckOutcome([row, *kept], old.facts)
