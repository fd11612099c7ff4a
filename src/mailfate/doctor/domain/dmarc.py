"""The ``dmarc`` check: one record, every tag well-formed, the policy, pct, report addresses (with the
external-destination authorization of RFC 7489 §7.1), and identifier alignment of the From domain
with the MAIL FROM domain and the DKIM ``d=`` (the domain itself), relaxed or strict, through the
organizational domain from the current Public Suffix List.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from mailfate.doctor.domain.context import CheckContext
from mailfate.doctor.domain.report import CheckOutcome, dns_problem, txt_fix, vetted_fix
from mailfate.doctor.findings import Severity
from mailfate.mailauth.dmarc import aligned, organizational_domain

__all__ = [
    "DmarcTags",
    "alignment",
    "check",
    "dmarc_problems",
    "find_dmarc",
    "merge_dmarc",
    "misordered_dmarc",
    "parse_dmarc_tags",
    "vet_dmarc",
]

log = logging.getLogger(__name__)

RFC = "RFC 7489"
POLICIES = ("none", "quarantine", "reject")
_ORDER = ("v", "p", "sp", "np", "pct", "rua", "ruf", "adkim", "aspf", "fo", "rf", "ri", "t", "psd")
_TAG = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$", re.DOTALL)
_DMARC = re.compile(r"^\s*v\s*=\s*dmarc1\s*(;|$)", re.IGNORECASE)
_V_TAG = re.compile(r"^\s*v\s*=\s*dmarc1\s*$", re.IGNORECASE)
_RANK = {"none": 0, "quarantine": 1, "reject": 2}
_BARE_ADDRESS = re.compile(r"^[^@\s:!]+@[^@\s!]+\.[^@\s!]+$")
_MAILTO = re.compile(r"^mailto:([^@\s!]+)@([^@\s!]+?)(?:!\d+[kmgt]?)?$", re.IGNORECASE)


@dataclass(slots=True)
class DmarcTags:
    """A DMARC record's tags, with every problem found (``error`` / ``warning``)."""

    raw: str
    tags: dict[str, str] = field(default_factory=dict)
    problems: list[tuple[Severity, str]] = field(default_factory=list)
    head_ok: bool = True
    """The record starts with exactly ``v=DMARC1``."""
    repairs: dict[str, str] = field(default_factory=dict)
    """Invalid tags whose intent is plain, written right (``rua=d@example.com`` → ``mailto:d@…``)."""

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
        tags = {**self.repairs, **self.tags}
        for key, value in changes.items():
            if value is None:
                tags.pop(key, None)
            else:
                tags[key] = value
        return _render(tags)


def _render(tags: dict[str, str]) -> str:
    tags = {"v": "DMARC1", **{k: v for k, v in tags.items() if k != "v"}}
    tags.setdefault("p", "none")
    ordered = [k for k in _ORDER if k in tags] + [k for k in tags if k not in _ORDER]
    return "; ".join(f"{k}={tags[k]}" for k in ordered)


def _repair(name: str, value: str) -> str | None:
    """``value`` of tag ``name`` written right when the intent is plain; ``None`` otherwise."""
    low = value.strip().lower()
    if name in ("rua", "ruf"):
        uris = []
        for written in (u.replace(" ", "") for u in value.split(",") if u.strip()):
            uri = f"mailto:{written}" if _BARE_ADDRESS.match(written) else written
            if _MAILTO.match(uri):
                uris.append(uri)
        return ",".join(uris) or None
    if name in ("adkim", "aspf") and low in ("relaxed", "strict"):
        return low[0]
    if name == "pct" and low.endswith("%") and low[:-1].isdigit() and int(low[:-1]) <= 100:
        return low[:-1]
    if name in ("p", "sp", "np"):
        return next((p for p in POLICIES if low in (p, p + "ed", p + "d")), None)
    return None


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
            repaired = _repair(name, value)
            if repaired is not None:
                out.repairs[name] = repaired
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


# --- the general step for DMARC proposals: propose → re-check → refuse one that is not better -----


def dmarc_problems(text: str) -> frozenset[str]:
    """Every problem the record shows without DNS, as stable codes: ``head``, ``tag:<problem>``,
    ``no-policy``, ``p:none``, ``pct``, ``no-rua``, ``sp:open`` (``sp=none`` under an enforced ``p``)."""
    tags = parse_dmarc_tags(text)
    codes = {f"tag:{problem}" for _, problem in tags.problems}
    if not tags.head_ok:
        codes.add("head")
    policy = tags.policy
    if policy is None:
        codes.add("no-policy")
    elif policy == "none":
        codes.add("p:none")
    if tags.pct < 100:
        codes.add("pct")
    if not tags.report_uris("rua"):
        codes.add("no-rua")
    if policy in ("quarantine", "reject") and tags.tags.get("sp", "").lower() == "none":
        codes.add("sp:open")
    return frozenset(codes)


def _covered(code: str, before: set[str]) -> bool:
    # a record that applies no policy at all is worse than one that says p=none
    return code in before or (code == "p:none" and "no-policy" in before)


def vet_dmarc(
    originals: list[str],
    proposal: str,
    *,
    fixing: frozenset[str] = frozenset(),
    drop: frozenset[str] = frozenset(),
) -> str:
    """Why ``proposal`` is not better than ``originals`` (``""`` when it is).

    Better means: its own problems are a subset of the originals' minus the ``fixing`` codes (a new
    record, with no original, must have no problem that makes receivers ignore it); every valid tag
    of every original — and every broken tag whose intent is plain (:attr:`DmarcTags.repairs`) — is
    kept with its value, except tags in ``drop`` — where a policy (``p``,
    ``sp``, ``np``) may only get stronger and report addresses may only be added."""
    after = dmarc_problems(proposal)
    if not originals:
        fatal = {c for c in after if c in ("head", "no-policy") or c.startswith("tag:")}
        return "it has problems of its own: " + "; ".join(sorted(fatal)) if fatal else ""
    before: set[str] = set()
    for original in originals:
        before |= dmarc_problems(original)
    new = {c for c in after if not _covered(c, before - fixing)}
    if new:
        return "it has problems of its own: " + "; ".join(sorted(new))
    mine = parse_dmarc_tags(proposal)
    for original in originals:
        meant = parse_dmarc_tags(original)
        for name, value in {**meant.repairs, **meant.tags}.items():
            if name in drop:
                continue
            lost = _lost(name, value, mine)
            if lost:
                return lost
    return ""


def _effective(tags: dict[str, str], name: str) -> str | None:
    """The policy a record applies through ``name``: ``sp`` defaults to ``p``, ``np`` to ``sp``."""
    chain = {"p": ("p",), "sp": ("sp", "p"), "np": ("np", "sp", "p")}[name]
    return next((tags[k] for k in chain if k in tags), None)


def _lost(name: str, value: str, mine: DmarcTags) -> str:
    """What the proposal ``mine`` lost of the original's tag ``name=value`` (``""``: nothing)."""
    kept = mine.tags.get(name)
    if name in ("p", "sp", "np"):
        kept = _effective(mine.tags, name)
        if kept is None or _RANK.get(kept.lower(), -1) < _RANK.get(value.lower(), -1):
            return f"it weakens {name}={value}"
        return ""
    if name in ("rua", "ruf"):
        missing = [u for u in (x.strip() for x in value.split(",")) if u and u not in mine.report_uris(name)]
        return f"it loses {name}={','.join(missing)}" if missing else ""
    if kept is None or kept.lower() != value.lower():
        return f"it loses {name}={value}"
    return ""


def merge_dmarc(records: list[str]) -> str:
    """One record from several: the strongest policy (``p``, and ``sp``/``np`` as each record applies
    them), every report address, and every other valid tag, taken from the strongest record first."""
    parsed = [parse_dmarc_tags(r) for r in records]
    parsed.sort(key=lambda t: _RANK.get(t.policy or "", -1), reverse=True)  # stable: first wins a tie
    merged: dict[str, str] = {}
    for tags in parsed:
        for name, value in {**tags.repairs, **tags.tags}.items():
            have = merged.get(name)
            if name in ("rua", "ruf") and have is not None:
                uris = [u.strip() for u in f"{have},{value}".split(",") if u.strip()]
                merged[name] = ",".join(dict.fromkeys(uris))
            elif have is None:
                merged[name] = value
    for name in ("p", "sp", "np"):
        strongest = max(
            (v for t in parsed if (v := _effective({**t.repairs, **t.tags}, name)) is not None),
            key=lambda v: _RANK.get(v.lower(), -1),
            default=None,
        )
        if strongest is not None:
            merged[name] = strongest
    # sp / np equal to what they default to say nothing
    if "np" in merged and merged["np"] == _effective(merged, "sp"):
        merged.pop("np")
    if "sp" in merged and merged["sp"] == merged.get("p"):
        merged.pop("sp")
    return _render(merged)


def misordered_dmarc(records: tuple[str, ...] | list[str]) -> list[str]:
    """TXT records that hold a ``v=DMARC1`` tag, but not first: receivers ignore them."""
    return [r for r in records if not _DMARC.match(r) and any(_V_TAG.match(p) for p in r.split(";"))]


def _reordered(record: str) -> str:
    """A misordered record with ``v=DMARC1`` moved to the front, all else as published."""
    rest = [p for p in record.split(";") if p.strip() and not _V_TAG.match(p)]
    return ";".join(["v=DMARC1", *rest])


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


def _errors_fixed(tags: DmarcTags) -> frozenset[str]:
    codes = {f"tag:{problem}" for severity, problem in tags.problems if severity is Severity.ERROR}
    return frozenset(codes | ({"head"} if not tags.head_ok else set()))


def check(ctx: CheckContext) -> CheckOutcome:
    """The ``dmarc`` check of :func:`mailfate.doctor.domain.check_domain` (record part)."""
    out = CheckOutcome()
    record_domain, records, evidence, failed = find_dmarc(ctx)
    name = f"_dmarc.{record_domain}"
    if failed is not None:
        out.findings.append(dns_problem("dmarc", failed, ctx.timeout))
        return out
    misordered = _misordered(ctx, out)
    out.facts["dmarc.present"] = bool(records)
    if not records:
        out.facts.update({"dmarc.valid": False, "dmarc.enforced": False, "dmarc.rua": False})
        if not misordered:
            _missing(ctx, out)
        return out
    if len(records) > 1:
        out.facts.update({"dmarc.valid": False, "dmarc.enforced": False})
        fix = vetted_fix(
            vet_dmarc,
            name,
            records,
            merge_dmarc(records),
            fallback=f"Keep one record at {name}: the one with the strongest p= and your rua=, then delete "
            "the others.",
        )
        out.add(
            "dmarc",
            Severity.ERROR,
            f"{name} has {len(records)} DMARC records: receivers apply none of them",
            evidence=evidence,
            fix=fix + "  (merged: the strongest policy and every report address; delete the others)"
            if fix.startswith(name)
            else fix,
            source=f"{RFC} §6.6.3",
        )
        return out
    tags = parse_dmarc_tags(records[0])
    fix = vetted_fix(
        vet_dmarc,
        name,
        records,
        tags.rebuilt(),
        fixing=_errors_fixed(tags),
        fallback=f"Correct the tags named above in the record at {name}.",
    )
    for severity, problem in tags.problems:
        out.add(
            "dmarc",
            severity,
            f"DMARC record at {name}: {problem}",
            evidence=evidence,
            fix=fix,
            source=f"{RFC} §6.3",
        )
    _policy(ctx, out, tags, record_domain=record_domain, name=name, evidence=evidence)
    _reports(ctx, out, tags, record_domain=record_domain, name=name, evidence=evidence)
    return out


def _misordered(ctx: CheckContext, out: CheckOutcome) -> bool:
    """A record at ``_dmarc.<domain>`` (or the organizational domain's) whose ``v=DMARC1`` is not
    first: receivers ignore it."""
    domain = ctx.domain.ascii
    for candidate in dict.fromkeys((domain, organizational_domain(domain))):
        name = f"_dmarc.{candidate}"
        answer = ctx.dns.txt(name)
        found = misordered_dmarc(answer.records) if answer.ok else []
        if found or (answer.ok and any(_DMARC.match(r) for r in answer.records)):
            break  # receivers stop at the first name with a record
    if not found:
        return False
    meant = _reordered(found[0])
    tags = parse_dmarc_tags(meant)
    out.add(
        "dmarc",
        Severity.ERROR,
        f"The record at {name} holds v=DMARC1 but not first: receivers do not recognise it as a DMARC "
        "record and apply no policy from it",
        evidence=answer.presentation(),
        fix=vetted_fix(
            vet_dmarc,
            name,
            [meant],
            tags.rebuilt(),
            fixing=_errors_fixed(tags),
            fallback=f"Move v=DMARC1 to the front of the record at {name}, keeping every other tag.",
        ),
        source=f"{RFC} §6.3",
    )
    return True


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
            fix=vetted_fix(
                vet_dmarc,
                name,
                [tags.raw],
                tags.rebuilt(**{policy_tag: "quarantine"}),
                fixing=frozenset({"p:none", "sp:open"}),
                fallback=f"Set {policy_tag}=quarantine in the record at {name}.",
            ),
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
    _open_subdomains(ctx, out, tags, inherited=inherited, name=name, evidence=evidence)
    if valid and pct < 100:
        out.add(
            "dmarc",
            Severity.WARNING,
            f"pct={pct}: the policy applies to {pct}% of failing mail only (DMARCbis drops pct)",
            evidence=evidence,
            fix=vetted_fix(
                vet_dmarc,
                name,
                [tags.raw],
                tags.rebuilt(pct=None),
                fixing=frozenset({"pct"}),
                drop=frozenset({"pct"}),
                fallback=f"Remove pct= from the record at {name}.",
            ),
            source=f"{RFC} §6.3",
        )


def _open_subdomains(
    ctx: CheckContext, out: CheckOutcome, tags: DmarcTags, *, inherited: bool, name: str, evidence: str
) -> None:
    """``sp=none`` under an enforced ``p=`` on the organizational domain: every subdomain is open."""
    domain = ctx.domain.ascii
    policy = tags.policy
    out.facts["dmarc.subdomains_open"] = False
    if inherited or organizational_domain(domain) != domain or policy not in ("quarantine", "reject"):
        return
    if tags.tags.get("sp", "").lower() != "none":
        return
    out.facts["dmarc.subdomains_open"] = True
    out.add(
        "dmarc",
        Severity.WARNING,
        f"p={policy} protects {domain} itself, but sp=none leaves every subdomain open: mail forged "
        f"as anything.{domain} is delivered as if no policy existed",
        evidence=evidence,
        fix=vetted_fix(
            vet_dmarc,
            name,
            [tags.raw],
            tags.rebuilt(sp=None),
            fixing=frozenset({"sp:open"}),
            drop=frozenset({"sp"}),
            fallback=f"Remove sp=none from the record at {name} (subdomains then inherit p={policy}).",
        )
        + f"  (subdomains inherit p={policy}; give a subdomain that sends its own _dmarc record)",
        source=f"{RFC} §6.3 (sp), §6.6.3",
    )


def _reports(
    ctx: CheckContext, out: CheckOutcome, tags: DmarcTags, *, record_domain: str, name: str, evidence: str
) -> None:
    rua = tags.report_uris("rua")
    if not rua:
        out.facts["dmarc.rua"] = False
    if not rua and "rua" not in tags.repairs:  # a broken rua= is reported (and repaired) as a tag error
        out.add(
            "dmarc",
            Severity.WARNING,
            "No rua= tag: you get no aggregate reports, so you cannot see who sends as your domain",
            evidence=evidence,
            fix=vetted_fix(
                vet_dmarc,
                name,
                [tags.raw],
                tags.rebuilt(rua=f"mailto:dmarc-reports@{record_domain}"),
                fixing=frozenset({"no-rua"}),
                fallback=f"Add rua=mailto:<an address that reads reports> to the record at {name}.",
            ),
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
        name = f"_dmarc.{facts.get('dmarc.record_domain', domain)}"
        fix = (
            vetted_fix(
                vet_dmarc,
                name,
                [record],
                parse_dmarc_tags(record).rebuilt(aspf=None),
                drop=frozenset({"aspf"}),
                fallback=f"Remove aspf=s from the record at {name}.",
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
