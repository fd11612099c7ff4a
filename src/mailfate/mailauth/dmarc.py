"""DMARC (RFC 7489): find the policy of the RFC5322.From domain and evaluate identifier alignment.

Our own code on dnspython and ``publicsuffixlist`` (a current Public Suffix List): the record is
looked up at ``_dmarc.<from-domain>``, then at ``_dmarc.<organizational domain>``. DMARC passes
when SPF passed for a domain aligned with From, or a DKIM signature passed with an aligned
``d=`` (relaxed: same organizational domain, strict: equal). ``pct`` is reported, not sampled.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

import dns.resolver
from publicsuffixlist import PublicSuffixList

from mailfate.mailauth.dkim import DkimResult
from mailfate.mailauth.dns import DnsStatus, lookup_txt, make_resolver
from mailfate.mailauth.spf import SpfResult
from mailfate.mailauth.threads import in_thread

__all__ = [
    "DmarcRecord",
    "DmarcResult",
    "aligned",
    "check_dmarc",
    "check_dmarc_async",
    "from_domain",
    "organizational_domain",
    "parse_dmarc_record",
]

DmarcVerdict = Literal["pass", "fail", "none", "temperror", "permerror"]
Policy = Literal["none", "quarantine", "reject"]
_POLICIES = ("none", "quarantine", "reject")
_TAG = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class DmarcRecord:
    """A parsed ``v=DMARC1`` record."""

    p: Policy
    sp: Policy | None = None
    pct: int = 100
    adkim: Literal["r", "s"] = "r"
    aspf: Literal["r", "s"] = "r"
    rua: tuple[str, ...] = ()
    ruf: tuple[str, ...] = ()
    raw: str = ""


@dataclass(frozen=True, slots=True)
class DmarcResult:
    """The DMARC verdict for one message."""

    result: DmarcVerdict
    from_domain: str
    policy: Policy | None = None
    """The policy that applies to this From domain (``sp`` for a subdomain), ``None`` without a record."""
    record_domain: str = ""
    """Where the record was found (the From domain or its organizational domain)."""
    record: DmarcRecord | None = None
    spf_aligned: bool = False
    dkim_aligned: bool = False
    aligned_dkim_domain: str = ""
    reason: str = ""

    @property
    def passed(self) -> bool:
        return self.result == "pass"


def parse_dmarc_record(text: str) -> DmarcRecord | None:
    """The record, or ``None`` when ``text`` is not a usable DMARC record. Never raises."""
    parts = [part for part in text.split(";")]
    if not parts or parts[0].strip().replace(" ", "") != "v=DMARC1":
        return None
    tags: dict[str, str] = {}
    for part in parts[1:]:
        if not part.strip():
            continue
        match = _TAG.match(part)
        if match is None:
            continue  # unknown syntax is ignored, as for unknown tags (RFC 7489 §6.3)
        tags.setdefault(match.group(1).lower(), match.group(2))
    p = tags.get("p", "").lower()
    rua = _uris(tags.get("rua", ""))
    if p not in _POLICIES:
        if not rua:
            return None
        p = "none"  # RFC 7489 §6.6.3: a record with rua but a bad/absent p is treated as p=none
    sp_text = tags.get("sp", "").lower()
    sp = sp_text if sp_text in _POLICIES else None
    pct_text = tags.get("pct", "100")
    pct = min(100, int(pct_text)) if pct_text.isdigit() and len(pct_text) <= 3 else 100
    adkim: Literal["r", "s"] = "s" if tags.get("adkim", "r").lower() == "s" else "r"
    aspf: Literal["r", "s"] = "s" if tags.get("aspf", "r").lower() == "s" else "r"
    return DmarcRecord(
        p=p,  # type: ignore[arg-type]
        sp=sp,  # type: ignore[arg-type]
        pct=pct,
        adkim=adkim,
        aspf=aspf,
        rua=rua,
        ruf=_uris(tags.get("ruf", "")),
        raw=text,
    )


def _uris(text: str) -> tuple[str, ...]:
    return tuple(uri.strip() for uri in text.split(",") if uri.strip())


@cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList()


def organizational_domain(domain: str) -> str:
    """The registrable domain (``mail.example.co.uk`` → ``example.co.uk``); ``domain`` if it has none."""
    name = domain.strip().rstrip(".").lower()
    if not name:
        return ""
    try:
        org = _psl().privatesuffix(name)
    except (ValueError, UnicodeError):
        org = None
    return org or name


def aligned(identifier: str, from_dom: str, mode: Literal["r", "s"]) -> bool:
    """Whether ``identifier`` (SPF or DKIM domain) aligns with the From domain in ``mode``."""
    a, b = identifier.strip().rstrip(".").lower(), from_dom.strip().rstrip(".").lower()
    if not a or not b:
        return False
    if mode == "s":
        return a == b
    return organizational_domain(a) == organizational_domain(b)


def from_domain(message: bytes) -> str | None:
    """The domain of the RFC5322.From address; ``None`` when absent or unusable. Never raises."""
    head = message.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    text = head.decode("utf-8", "replace").replace("\r\n", "\n")
    values: list[list[str]] = []
    collecting = False
    for line in text.split("\n"):
        if line[:1] in (" ", "\t"):
            if collecting:
                values[-1].append(line)
            continue
        name, sep, value = line.partition(":")
        collecting = bool(sep) and name.strip().lower() == "from"
        if collecting:
            values.append([value])
    if len(values) != 1:
        return None  # no From, or several (RFC 7489 §6.6.1: reject or ignore; we do not guess)
    try:
        addresses = email.utils.getaddresses([" ".join(values[0])])
    except Exception:  # the stdlib parser on hostile input
        return None
    domains = {addr.rpartition("@")[2].strip().rstrip(".").lower() for _, addr in addresses if "@" in addr}
    if len(domains) != 1:
        return None
    domain = domains.pop()
    return domain if domain and re.fullmatch(r"[a-z0-9.\-_]+", domain) else None


def check_dmarc(
    from_dom: str | None,
    spf: SpfResult | None,
    dkims: Sequence[DkimResult],
    resolver: dns.resolver.Resolver | None,
) -> DmarcResult:
    """Evaluate DMARC for mail whose From domain is ``from_dom`` (see :func:`from_domain`)."""
    if not from_dom:
        return DmarcResult("permerror", "", reason="no single usable From domain")
    resolver = resolver or make_resolver(None)
    from_dom = from_dom.rstrip(".").lower()
    org = organizational_domain(from_dom)
    record: DmarcRecord | None = None
    record_domain = ""
    for candidate in dict.fromkeys((from_dom, org)):
        answer = lookup_txt(resolver, f"_dmarc.{candidate}")
        if answer.status is DnsStatus.TEMPERROR:
            return DmarcResult("temperror", from_dom, reason=f"_dmarc.{candidate}: {answer.error}")
        records = [r for r in answer.records if r.strip().lower().startswith("v=dmarc1")]
        parsed = [p for p in (parse_dmarc_record(r) for r in records) if p is not None]
        if len(parsed) == 1:
            record, record_domain = parsed[0], candidate
            break
        if len(records) > 1:
            return DmarcResult("none", from_dom, reason=f"several DMARC records at _dmarc.{candidate}")
    if record is None:
        return DmarcResult("none", from_dom, reason="no DMARC record")
    policy: Policy = record.p if record_domain == from_dom else (record.sp or record.p)
    spf_ok = spf is not None and spf.passed and aligned(spf.domain, from_dom, record.aspf)
    dkim_domain = next(
        (d.domain for d in dkims if d.passed and aligned(d.domain, from_dom, record.adkim)), ""
    )
    verdict: DmarcVerdict = "pass" if spf_ok or dkim_domain else "fail"
    reasons = []
    if not spf_ok:
        reasons.append("SPF not aligned" if spf is not None and spf.passed else "SPF did not pass")
    if not dkim_domain:
        passing = [d.domain for d in dkims if d.passed]
        reasons.append(f"DKIM d={','.join(passing)} not aligned" if passing else "no passing DKIM")
    return DmarcResult(
        verdict,
        from_dom,
        policy=policy,
        record_domain=record_domain,
        record=record,
        spf_aligned=spf_ok,
        dkim_aligned=bool(dkim_domain),
        aligned_dkim_domain=dkim_domain,
        reason="aligned" if verdict == "pass" else "; ".join(reasons),
    )


check_dmarc_async = in_thread(check_dmarc)
