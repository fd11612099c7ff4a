"""``mailfate doctor domain``: is this domain set up to send mail that receivers accept?

:func:`check_domain` runs eleven checks in parallel — ``spf``, ``dkim``, ``dmarc``, ``mail-from``,
``mx``, ``ptr``, ``mta-sts``, ``tls-rpt``, ``bimi``, ``dnsbl``, ``dnssec`` — against one resolver,
all within one overall timeout, and returns a :class:`DomainReport`: findings (each with the
record to publish as its fix) and the facts the receiver checklists
(:mod:`mailfate.doctor.domain.receivers`) are evaluated on. DNS that does not answer becomes a
finding, never an exception; bad input (an unusable domain) becomes an error finding too. The
report leads with the ``domain`` row (:mod:`~mailfate.doctor.domain.lead`): the domain does not
exist, DNS did not answer, or it exists. Every record a finding proposes has passed the same
checks as the original and keeps all its valid terms (``vet_spf``, ``vet_dmarc``).

Modules: ``names`` (IDNA), ``resolve`` (parallel cached DNS), ``spf``/``spf_syntax``, ``dkim``,
``dmarc``, ``infra`` (mx, mail-from, ptr), ``policy`` (mta-sts, tls-rpt, bimi), ``dnsbl``,
``dnssec``, ``lead``, ``receivers``, ``report``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait

import dns.resolver

from mailfate.doctor.domain import dkim, dmarc, dnsbl, dnssec, infra, policy, spf
from mailfate.doctor.domain.context import CheckContext, DnsblZone, PolicyFetcher, PolicyFetchError
from mailfate.doctor.domain.lead import lead
from mailfate.doctor.domain.names import DomainName, normalize_domain, normalize_ip, normalize_selector
from mailfate.doctor.domain.report import CHECKS, FACTS, CheckOutcome, DomainReport
from mailfate.doctor.domain.resolve import DnsClient
from mailfate.doctor.findings import Finding, Severity
from mailfate.errors import InputError
from mailfate.mailauth.dns import make_resolver

__all__ = [
    "CHECKS",
    "DEFAULT_TIMEOUT",
    "FACTS",
    "DnsblZone",
    "DomainReport",
    "PolicyFetchError",
    "PolicyFetcher",
    "check_domain",
]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5.0
GRACE = 0.5
"""Seconds a check may run past the deadline to write up its timeouts before it is abandoned."""

_RUNNERS: dict[str, Callable[[CheckContext], CheckOutcome]] = {
    "spf": spf.check,
    "dkim": dkim.check,
    "dmarc": dmarc.check,
    "mail-from": infra.check_mail_from,
    "mx": infra.check_mx,
    "ptr": infra.check_ptr,
    "mta-sts": policy.check_mta_sts,
    "tls-rpt": policy.check_tls_rpt,
    "bimi": policy.check_bimi,
    "dnsbl": dnsbl.check_dnsbl,
    "dnssec": dnssec.check_dnssec,
}


def _mail_from(text: str | None) -> DomainName | None:
    if text is None or not text.strip():
        return None
    value = text.strip()
    if "@" in value:
        value = value.rpartition("@")[2]
    return normalize_domain(value, what="MAIL FROM domain")


def _zones(zones: Sequence[str | DnsblZone] | None) -> tuple[DnsblZone, ...]:
    if zones is None:
        return dnsbl.load_dnsbl_zones()
    out: list[DnsblZone] = []
    for zone in zones:
        if isinstance(zone, DnsblZone):
            out.append(zone)
            continue
        out.append(DnsblZone(normalize_domain(zone, what="DNSBL zone").ascii))
    return tuple(dict.fromkeys(out))


def check_domain(
    domain: str,
    *,
    ips: Sequence[str] = (),
    selectors: Sequence[str] = (),
    nameserver: str | None = None,
    resolver: dns.resolver.Resolver | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    dnsbl_zones: Sequence[str | DnsblZone] | None = None,
    mail_from: str | None = None,
    dkim_keys: Mapping[str, bytes] | None = None,
    fetch_policy: PolicyFetcher | None = None,
) -> DomainReport:
    """Check ``domain`` for sending; the report's findings are ordered by :data:`CHECKS`.

    ``ips``: the sending IPs (SPF evaluation, PTR, DNSBL). ``selectors``: DKIM selectors (default:
    probe common ones). ``nameserver`` (``"host:port"``) or ``resolver``: where to ask (default:
    the system's). ``timeout``: seconds for everything. ``dnsbl_zones``: lists to query (default:
    ``data/dnsbl.toml``). ``mail_from``: the custom MAIL FROM domain (or an address in it).
    ``dkim_keys``: selector → private key PEM for a real sign + verify. ``fetch_policy``: the
    MTA-STS HTTPS fetch (default: httpx).

    Raises ``InputError`` for a bad IP, selector, MAIL FROM domain, key or timeout and
    ``ConfigError`` for a bad nameserver; an unusable *domain* is an error finding instead.
    """
    started = time.monotonic()
    if not timeout > 0:
        raise InputError(f"--timeout must be a positive number of seconds (got {timeout})")
    addresses = tuple(dict.fromkeys(normalize_ip(ip) for ip in ips))
    wanted = tuple(dict.fromkeys(normalize_selector(s) for s in selectors))
    keys = {normalize_selector(s): pem for s, pem in (dkim_keys or {}).items()}
    for pem in keys.values():
        dkim.load_dkim_key(pem)
    wanted = tuple(dict.fromkeys([*wanted, *keys]))
    envelope = _mail_from(mail_from)
    zones = _zones(dnsbl_zones)
    try:
        name = normalize_domain(domain)
    except InputError as exc:
        return _unusable(domain, exc, started)
    if resolver is None:
        resolver = make_resolver(nameserver, timeout=timeout)
    client = DnsClient(resolver, deadline=started + timeout, timeout=timeout)
    ctx = CheckContext(
        domain=name,
        dns=client,
        ips=addresses,
        selectors=wanted or dkim.COMMON_SELECTORS,
        selectors_guessed=not wanted,
        mail_from=envelope if envelope is not None and envelope.ascii != name.ascii else None,
        dkim_keys=keys,
        dnsbl_zones=zones,
        fetch_policy=fetch_policy,
    )
    outcomes = _run(ctx, started + timeout, timeout)
    first = lead(ctx, outcomes)
    outcomes["domain"] = first.outcome
    report = DomainReport(
        domain=name.ascii, unicode_domain=name.unicode, status=first.status, not_run=first.not_run
    )
    for check in CHECKS:
        report.findings.extend(outcomes[check].findings)
        report.facts.update(outcomes[check].facts)
    alignment = dmarc.alignment(ctx, report.facts)
    report.facts.update(alignment.facts)
    if first.status != "nxdomain":  # nothing to align with: the lead already says why
        report.findings.extend(alignment.findings)
    report.findings.sort(key=lambda f: CHECKS.index(f.check) if f.check in CHECKS else len(CHECKS))
    report.queries = client.queries
    report.elapsed = time.monotonic() - started
    return report


def _unusable(domain: str, exc: InputError, started: float) -> DomainReport:
    """The report for input that cannot be a domain: one finding, nothing queried."""
    finding = Finding(
        "domain",
        Severity.ERROR,
        f"Not a usable domain: {exc}; nothing was checked",
        evidence=domain[:300],
        fix="Give the domain you send mail as, e.g. example.com (Unicode names become punycode).",
        source="RFC 1035 §2.3.4; RFC 5890",
        details={"input": domain[:300]},
    )
    return DomainReport(
        domain=domain,
        unicode_domain=domain,
        findings=[finding],
        elapsed=time.monotonic() - started,
        status="unusable",
        not_run=[c for c in CHECKS if c != "domain"],
    )


def _run(ctx: CheckContext, deadline: float, timeout: float) -> dict[str, CheckOutcome]:
    pool = ThreadPoolExecutor(len(_RUNNERS), thread_name_prefix="mailfate-doctor")
    futures: dict[Future[CheckOutcome], str] = {pool.submit(fn, ctx): check for check, fn in _RUNNERS.items()}
    try:
        done, _pending = wait(futures, timeout=max(0.0, deadline - time.monotonic()) + GRACE)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    outcomes: dict[str, CheckOutcome] = {}
    for future, check in futures.items():
        if future not in done:
            outcomes[check] = CheckOutcome(
                [
                    Finding(
                        check,
                        Severity.ERROR,
                        f"DNS did not answer within {timeout:g} s: the {check} check did not finish",
                        fix="Check that the nameserver answers, then retry or raise --timeout.",
                        details={"dns_failed": True},
                    )
                ]
            )
            continue
        try:
            outcomes[check] = future.result()
        except Exception as exc:  # a check's bug must not hide the other ten (loop boundary)
            log.exception("doctor domain: the %s check failed for %s", check, ctx.domain.ascii)
            outcomes[check] = CheckOutcome(
                [Finding(check, Severity.ERROR, f"the {check} check failed: {type(exc).__name__}: {exc}")]
            )
    ctx.dns.close()
    return outcomes
