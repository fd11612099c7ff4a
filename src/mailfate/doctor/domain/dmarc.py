"""The ``dmarc`` check: one record, every tag well-formed, the policy, pct, report addresses (with the
external-destination authorization of RFC 7489 §7.1), and identifier alignment of the From domain
with the MAIL FROM domain and the DKIM ``d=`` (the domain itself), relaxed or strict, through the
organizational domain from the current Public Suffix List.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from mailfate.doctor.domain.context import CheckContext
from mailfate.doctor.domain.report import CheckOutcome, dns_problem, txt_fix
from mailfate.doctor.findings import Severity
from mailfate.mailauth.dmarc import aligned, organizational_domain

__all__ = ["DmarcTags", "alignment", "check", "find_dmarc", "parse_dmarc_tags"]

RFC = "RFC 7489"
POLICIES = ("none", "quarantine", "reject")
_ORDER = ("v", "p", "sp", "np", "pct", "rua", "ruf", "adkim", "aspf", "fo", "rf", "ri", "t", "psd")
_TAG = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$", re.DOTALL)
_DMARC = re.compile(r"^\s*v\s*=\s*dmarc1\s*(;|$)", re.IGNORECASE)
_MAILTO = re.compile(r"^mailto:([^@\s!]+)@([^@\s!]+?)(?:!\d+[kmgt]?)?$", re.IGNORECASE)


@dataclass(slots=True)
class DmarcTags:
    """A DMARC record's tags, with every problem found (``error`` / ``warning``)."""

    raw: str
    tags: dict[str, str] = field(default_factory=dict)
    problems: list[tuple[Severity, str]] = field(default_factory=list)
    head_ok: bool = True
    """The record starts with exactly ``v=DMARC1``."""

    @property
    def valid(self) -> bool:
        """Receivers apply it: the right version tag and a policy (p=, or none by rua=)."""
        return self.head_ok and self.policy is not None

    @property
    def policy(self) -> str | None:
        p = self.tags.get("p", "").lower()
        if p in POLICIES:
            return p
        return "none" if self.report_uris("rua") else None  # RFC 7489 §6.6.3

    @property
    def pct(self) -> int:
        text = self.tags.get("pct", "100")
        return int(text) if text.isdigit() and int(text) <= 100 else 100

    def mode(self, tag: str) -> Literal["r", "s"]:
        return "s" if self.tags.get(tag, "r").lower() == "s" else "r"

    def report_uris(self, tag: str) -> list[str]:
        return [u.strip() for u in self.tags.get(tag, "").split(",") if u.strip()]

    def rebuilt(self, **changes: str | None) -> str:
        """The record with valid tags only, ``changes`` applied (``None`` drops a tag)."""
        tags = dict(self.tags)
        tags["v"] = "DMARC1"
        for key, value in changes.items():
            if value is None:
                tags.pop(key, None)
            else:
                tags[key] = value
        tags.setdefault("p", "none")
        ordered = [k for k in _ORDER if k in tags] + [k for k in tags if k not in _ORDER]
        return "; ".join(f"{k}={tags[k]}" for k in ordered)


def parse_dmarc_tags(record: str) -> DmarcTags:
    """Parse and validate every tag (RFC 7489 §6.3; np/t/psd from RFC 9091 and DMARCbis). Never raises."""
    out = DmarcTags(record)
    parts = record.split(";")
    seen: set[str] = set()
    head = _TAG.match(parts[0])
    if head is None or head.group(1) != "v" or head.group(2) != "DMARC1":
        out.head_ok = False
        out.problems.append(
            (Severity.ERROR, f"the record must start with v=DMARC1 (found {parts[0].strip()!r})")
        )
    for part in parts[1:]:
        if not part.strip():
            continue
        match = _TAG.match(part)
        if match is None:
            out.problems.append((Severity.ERROR, f"malformed tag {part.strip()!r} (expected name=value)"))
            continue
        name, value = match.group(1).lower(), match.group(2)
        if name in seen or name == "v":
            out.problems.append((Severity.ERROR, f"tag {name}= appears more than once"))
            continue
        seen.add(name)
        problem = _tag_problem(name, value)
        if problem:
            severity = Severity.WARNING if name not in _ORDER or name == "rf" else Severity.ERROR
            out.problems.append((severity, problem))
            if severity is Severity.ERROR:
                continue
            if name not in _ORDER:
                continue
        out.tags[name] = value
    if "p" not in out.tags and not any("p=" in m for _, m in out.problems):
        out.problems.append((Severity.ERROR, "no p= tag: the record sets no policy"))
    return out


def _tag_problem(name: str, value: str) -> str:
    low = value.lower()
    if name in ("p", "sp", "np") and low not in POLICIES:
        return f"{name}={value!r} is not none, quarantine or reject"
    if name == "pct" and not (value.isdigit() and int(value) <= 100):
        return f"pct={value!r} is not a number from 0 to 100"
    if name in ("adkim", "aspf") and low not in ("r", "s"):
        return f"{name}={value!r} must be r (relaxed) or s (strict)"
    if name in ("rua", "ruf"):
        for uri in (u.strip() for u in value.split(",")):
            if not _MAILTO.match(uri):
                return f"{name}: {uri!r} is not a mailto: address (mailto:dmarc@example.com)"
    if name == "fo" and not all(x.strip() in ("0", "1", "d", "s") for x in value.split(":")):
        return f"fo={value!r}: use 0, 1, d or s (colon-separated)"
    if name == "ri" and not value.isdigit():
        return f"ri={value!r} is not a number of seconds"
    if name == "rf" and low != "afrf":
        return f"rf={value!r}: only afrf is defined"
    if name in ("t", "psd") and low not in ("y", "n", "u"):
        return f"{name}={value!r} must be y or n"
    if name not in _ORDER:
        return f"unknown tag {name}= (receivers ignore it)"
    return ""


def find_dmarc(ctx: CheckContext) -> tuple[str, list[str], str, Any]:
    """``(record domain, DMARC records, evidence, failed answer or None)``: the domain's own
    ``_dmarc`` record, or the organizational domain's."""
    domain = ctx.domain.ascii
    for candidate in dict.fromkeys((domain, organizational_domain(domain))):
        answer = ctx.dns.txt(f"_dmarc.{candidate}")
        if answer.failed:
            return candidate, [], "", answer
        records = [r for r in answer.records if _DMARC.match(r)]
        if records:
            return candidate, records, answer.presentation(), None
    return domain, [], "", None


def check(ctx: CheckContext) -> CheckOutcome:
    """The ``dmarc`` check of :func:`mailfate.doctor.domain.check_domain` (record part)."""
    out = CheckOutcome()
    record_domain, records, evidence, failed = find_dmarc(ctx)
    name = f"_dmarc.{record_domain}"
    if failed is not None:
        out.findings.append(dns_problem("dmarc", failed, ctx.timeout))
        return out
    out.facts["dmarc.present"] = bool(records)
    if not records:
        out.facts.update({"dmarc.valid": False, "dmarc.enforced": False, "dmarc.rua": False})
        _missing(ctx, out)
        return out
    if len(records) > 1:
        out.facts.update({"dmarc.valid": False, "dmarc.enforced": False})
        out.add(
            "dmarc",
            Severity.ERROR,
            f"{name} has {len(records)} DMARC records: receivers apply none of them",
            evidence=evidence,
            fix=txt_fix(name, parse_dmarc_tags(records[0]).rebuilt()) + "  (and delete the others)",
            source=f"{RFC} §6.6.3",
        )
        return out
    tags = parse_dmarc_tags(records[0])
    for severity, problem in tags.problems:
        out.add(
            "dmarc",
            severity,
            f"DMARC record at {name}: {problem}",
            evidence=evidence,
            fix=txt_fix(name, tags.rebuilt()),
            source=f"{RFC} §6.3",
        )
    _policy(ctx, out, tags, record_domain=record_domain, name=name, evidence=evidence)
    _reports(ctx, out, tags, record_domain=record_domain, name=name, evidence=evidence)
    return out


def _missing(ctx: CheckContext, out: CheckOutcome) -> None:
    """No DMARC record applies; say so, and point at one published at the domain itself by mistake."""
    domain = ctx.domain.ascii
    suggested = f"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}"
    apex = ctx.dns.txt(domain)
    misplaced = [r for r in (apex.records if apex.ok else ()) if r.strip().lower().startswith("v=dmarc1")]
    where = (
        f"; a DMARC record is published at {domain} itself, where receivers never look: it belongs at "
        f"_dmarc.{domain}"
        if misplaced
        else ""
    )
    out.add(
        "dmarc",
        Severity.ERROR,
        f"No DMARC record at _dmarc.{domain}: receivers apply no policy, send no reports, and Gmail, "
        f"Yahoo and Outlook.com require one from bulk senders{where}",
        evidence="\n".join(f'{domain} TXT "{r}"' for r in misplaced),
        fix=(
            txt_fix(f"_dmarc.{domain}", misplaced[0]) + f"  (and delete the TXT record at {domain})"
            if misplaced
            else txt_fix(f"_dmarc.{domain}", suggested)
            + "  (then move to p=quarantine once the reports show only your own mail)"
        ),
        source=f"{RFC} §6.1",
    )


def _policy(
    ctx: CheckContext, out: CheckOutcome, tags: DmarcTags, *, record_domain: str, name: str, evidence: str
) -> None:
    """The policy that applies to the domain (``sp=`` when inherited), its facts and pct=."""
    domain = ctx.domain.ascii
    inherited = record_domain != domain
    policy_tag = "sp" if inherited and "sp" in tags.tags else "p"
    policy = tags.tags.get(policy_tag, "").lower() if policy_tag == "sp" else tags.policy
    pct = tags.pct
    valid = tags.valid and policy in POLICIES
    out.facts.update(
        {
            "dmarc.record": tags.raw,
            "dmarc.record_domain": record_domain,
            "dmarc.valid": valid,
            "dmarc.pct": pct,
            "dmarc.aspf": tags.mode("aspf"),
            "dmarc.adkim": tags.mode("adkim"),
            "dmarc.enforced": valid and policy in ("quarantine", "reject") and pct == 100,
        }
    )
    if policy in POLICIES:
        out.facts["dmarc.policy"] = policy
    if inherited:
        out.add(
            "dmarc",
            Severity.INFO,
            f"No record at _dmarc.{domain}: the organizational domain's record at {name} applies "
            f"({policy_tag}={policy})",
            evidence=evidence,
            source=f"{RFC} §6.6.3",
        )
    if policy == "none":
        out.add(
            "dmarc",
            Severity.WARNING,
            f"DMARC policy is {policy_tag}=none: monitoring only, receivers do not act on forged mail "
            "(and BIMI needs quarantine or reject)",
            evidence=evidence,
            fix=txt_fix(name, tags.rebuilt(**{policy_tag: "quarantine"})),
            source=f"{RFC} §6.3",
        )
    elif valid:
        out.add(
            "dmarc",
            Severity.OK,
            f"DMARC policy {policy_tag}={policy} at {name}" + (f" (pct={pct})" if pct != 100 else ""),
            evidence=evidence,
            source=f"{RFC} §6.3",
        )
    if valid and pct < 100:
        out.add(
            "dmarc",
            Severity.WARNING,
            f"pct={pct}: the policy applies to {pct}% of failing mail only (DMARCbis drops pct)",
            evidence=evidence,
            fix=txt_fix(name, tags.rebuilt(pct=None)),
            source=f"{RFC} §6.3",
        )


def _reports(
    ctx: CheckContext, out: CheckOutcome, tags: DmarcTags, *, record_domain: str, name: str, evidence: str
) -> None:
    rua = tags.report_uris("rua")
    if not rua:
        out.facts["dmarc.rua"] = False
        out.add(
            "dmarc",
            Severity.WARNING,
            "No rua= tag: you get no aggregate reports, so you cannot see who sends as your domain",
            evidence=evidence,
            fix=txt_fix(name, tags.rebuilt(rua=f"mailto:dmarc-reports@{record_domain}")),
            source=f"{RFC} §7.2",
        )
    deliverable = bool(rua)
    org = organizational_domain(record_domain)
    for tag in ("rua", "ruf"):
        for uri in tags.report_uris(tag):
            match = _MAILTO.match(uri)
            if match is None:
                continue
            target = match.group(2).rstrip(".").lower()
            if organizational_domain(target) == org:
                continue
            auth_name = f"{record_domain}._report._dmarc.{target}"
            answer = ctx.dns.txt(auth_name)
            if answer.failed:
                out.findings.append(
                    dns_problem(
                        "dmarc",
                        answer,
                        ctx.timeout,
                        severity=Severity.WARNING,
                        what="the report authorization check",
                    )
                )
                continue
            if any(r.strip().lower().startswith("v=dmarc1") for r in answer.records):
                out.add(
                    "dmarc",
                    Severity.OK,
                    f"{tag}={uri}: {target} has authorized reports for {record_domain}",
                    evidence=answer.presentation(),
                    source=f"{RFC} §7.1",
                )
                continue
            if tag == "rua":
                deliverable = False
            out.add(
                "dmarc",
                Severity.ERROR,
                f"{tag}={uri} is in another domain ({target}) that has not authorized reports for "
                f"{record_domain}: receivers will not send them",
                evidence=evidence,
                fix=txt_fix(auth_name, "v=DMARC1") + f"  (published by {target}'s owner)",
                source=f"{RFC} §7.1",
                details={"tag": tag, "uri": uri, "authorization": auth_name},
            )
    out.facts["dmarc.rua"] = deliverable


def alignment(ctx: CheckContext, facts: dict[str, Any]) -> CheckOutcome:
    """Identifier alignment, after the other checks (it reads their facts)."""
    out = CheckOutcome()
    domain = ctx.domain.ascii
    envelope = ctx.envelope_domain
    aspf: Literal["r", "s"] = "s" if facts.get("dmarc.aspf") == "s" else "r"
    adkim = "s" if facts.get("dmarc.adkim") == "s" else "r"
    spf_aligned = aligned(envelope, domain, aspf)
    out.facts["dmarc.spf_aligned"] = spf_aligned
    mode = {"r": "relaxed", "s": "strict"}
    if spf_aligned:
        out.add(
            "dmarc",
            Severity.OK,
            f"SPF alignment: MAIL FROM {envelope} aligns with From {domain} (aspf={aspf}, {mode[aspf]})",
            source=f"{RFC} §3.1.2",
        )
    else:
        record = str(facts.get("dmarc.record", ""))
        fix = (
            txt_fix(
                f"_dmarc.{facts.get('dmarc.record_domain', domain)}",
                parse_dmarc_tags(record).rebuilt(aspf=None),
            )
            + "  (relaxed alignment accepts a MAIL FROM under the same organizational domain)"
            if aspf == "s" and organizational_domain(envelope) == organizational_domain(domain)
            else f"Send with a MAIL FROM (Return-Path) domain under {organizational_domain(domain)}, e.g. "
            f"bounce.{domain}, with its own SPF record."
        )
        out.add(
            "dmarc",
            Severity.WARNING,
            f"SPF alignment: MAIL FROM {envelope} does not align with From {domain} (aspf={aspf}, "
            f"{mode[aspf]}): DMARC can pass only through DKIM",
            fix=fix,
            source=f"{RFC} §3.1.2",
        )
    dkim_valid = facts.get("dkim.any_valid")
    if dkim_valid is not None:
        out.facts["dmarc.dkim_aligned"] = bool(dkim_valid)
    if dkim_valid:
        out.add(
            "dmarc",
            Severity.OK,
            f"DKIM alignment: signatures with d={domain} align with From {domain} (adkim={adkim}, "
            f"{mode[adkim]})",
            source=f"{RFC} §3.1.1",
        )
    spf_pass = facts.get("spf.ips_pass")
    spf_ok: bool | None = (
        spf_aligned and spf_pass if spf_pass is not None else (None if spf_aligned else False)
    )
    verdicts = [spf_ok, dkim_valid]
    can_pass = True if True in verdicts else (None if None in verdicts else False)
    if can_pass is not None:
        out.facts["dmarc.aligned"] = can_pass
    if can_pass is False:
        out.add(
            "dmarc",
            Severity.ERROR,
            f"DMARC cannot pass for mail From {domain}: no aligned SPF pass "
            f"({'not aligned' if not spf_aligned else 'SPF does not pass for every --ip'}) and no usable "
            f"DKIM key for d={domain}",
            fix="Publish a DKIM key and sign with d="
            + domain
            + ", or fix SPF for the sending IPs (see spf).",
            source=f"{RFC} §4.2",
        )
    return out
