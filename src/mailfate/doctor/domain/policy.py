"""The ``mta-sts``, ``tls-rpt`` and ``bimi`` checks: the policies a domain publishes beside its
authentication records.

MTA-STS (RFC 8461) needs its policy file, fetched over HTTPS from ``mta-sts.<domain>``; the fetch
is a :data:`~mailfate.doctor.domain.context.PolicyFetcher` so tests give a local one. The default
uses httpx (urllib when httpx is missing), no redirects (RFC 8461 §3.3), and the time left.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx

from mailfate.doctor.domain.context import CheckContext, PolicyFetcher, PolicyFetchError
from mailfate.doctor.domain.dmarc import find_dmarc, merge_dmarc, parse_dmarc_tags, vet_dmarc
from mailfate.doctor.domain.infra import mx_hosts
from mailfate.doctor.domain.report import CheckOutcome, dns_problem, txt_fix, vetted_fix
from mailfate.doctor.domain.resolve import Answer
from mailfate.doctor.findings import Severity

__all__ = ["check_bimi", "check_mta_sts", "check_tls_rpt", "fetch_https", "parse_sts_policy"]

_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
_TAG = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$", re.DOTALL)
MAX_AGE_LIMIT = 31_557_600
MIN_SENSIBLE_AGE = 86_400


def _tags(record: str) -> tuple[dict[str, str], list[str]]:
    tags: dict[str, str] = {}
    problems: list[str] = []
    for part in record.split(";"):
        if not part.strip():
            continue
        match = _TAG.match(part)
        if match is None:
            problems.append(f"malformed field {part.strip()!r} (expected name=value)")
            continue
        name = match.group(1).lower()
        if name in tags:
            problems.append(f"field {name}= appears twice")
        tags.setdefault(name, match.group(2))
    return tags, problems


def fetch_https(url: str, timeout: float) -> str:
    """GET ``url`` (200 only, no redirects) and return the body; :class:`PolicyFetchError` otherwise."""
    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise PolicyFetchError(f"cannot fetch {url}: {type(exc).__name__}: {exc}") from exc
    if response.status_code != 200:
        raise PolicyFetchError(f"HTTP {response.status_code} from {url} (redirects are not followed)")
    return response.text


def parse_sts_policy(text: str) -> tuple[dict[str, list[str]], list[str]]:
    """``(fields, problems)`` of an MTA-STS policy file (RFC 8461 §3.2)."""
    fields: dict[str, list[str]] = {}
    problems: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep:
            problems.append(f"line {line.strip()[:60]!r} is not 'key: value'")
            continue
        fields.setdefault(key.strip().lower(), []).append(value.strip())
    if fields.get("version") != ["STSv1"]:
        problems.append("version: STSv1 is missing or wrong")
    mode = fields.get("mode", [""])[0]
    if mode not in ("enforce", "testing", "none"):
        problems.append(f"mode: {mode!r} is not enforce, testing or none")
    age = fields.get("max_age", [""])[0]
    if not age.isdigit() or int(age) > MAX_AGE_LIMIT:
        problems.append(f"max_age: {age!r} is not a number of seconds up to {MAX_AGE_LIMIT}")
    if mode in ("enforce", "testing") and not fields.get("mx"):
        problems.append("no mx: lines (the hosts that may receive mail)")
    return fields, problems


def _mx_matches(host: str, pattern: str) -> bool:
    host, pattern = host.lower().rstrip("."), pattern.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return host == pattern


def check_mta_sts(ctx: CheckContext) -> CheckOutcome:
    """The ``mta-sts`` check."""
    out = CheckOutcome()
    domain = ctx.domain.ascii
    name = f"_mta-sts.{domain}"
    new_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    fix = txt_fix(name, f"v=STSv1; id={new_id}")
    answer = ctx.dns.txt(name)
    if answer.failed:
        out.findings.append(dns_problem("mta-sts", answer, ctx.timeout, severity=Severity.WARNING))
        return out
    candidates = [r for r in answer.records if "v=sts" in r.lower().replace(" ", "")]
    records = [r for r in candidates if r.startswith("v=STSv1")]
    out.facts["mta_sts.present"] = bool(candidates)
    policy_url = f"https://mta-sts.{domain}/.well-known/mta-sts.txt"
    if not candidates:
        out.add(
            "mta-sts",
            Severity.INFO,
            f"No MTA-STS record at {name}: senders to {domain} may fall back to unencrypted SMTP "
            "(optional; protects mail you receive)",
            fix=f"{fix}  and serve the policy at {policy_url}",
            source="RFC 8461 §3",
        )
        return out
    problems = (
        [] if len(records) == 1 else [f"{len(candidates)} STS records, exactly one must start v=STSv1;"]
    )
    tags: dict[str, str] = {}
    if len(records) == 1:
        tags, problems = _tags(records[0])
        if not re.match(r"^v=STSv1\s*(;|$)", records[0]):
            problems.append("the record must start with v=STSv1;")
        if not _ID.match(tags.get("id", "")):
            problems.append(f"id={tags.get('id', '')!r} must be 1-32 letters or digits")
    if problems:
        out.facts["mta_sts.valid"] = False
        out.add(
            "mta-sts",
            Severity.ERROR,
            f"Bad MTA-STS record at {name}: {'; '.join(problems)}; senders ignore the policy",
            evidence=answer.presentation(),
            fix=fix,
            source="RFC 8461 §3.1",
        )
        return out
    fetch: PolicyFetcher = ctx.fetch_policy or fetch_https
    remaining = ctx.dns.remaining()
    if remaining <= 0:
        out.add(
            "mta-sts",
            Severity.WARNING,
            f"No time left to fetch {policy_url} within {ctx.timeout:g} s: the policy was not checked",
            evidence=answer.presentation(),
            fix="Retry with a longer --timeout.",
            source="RFC 8461 §3.3",
        )
        return out
    try:
        body = fetch(policy_url, remaining)
    except PolicyFetchError as exc:
        out.facts["mta_sts.valid"] = False
        out.add(
            "mta-sts",
            Severity.ERROR,
            f"{name} is published but the policy cannot be fetched ({exc}): senders treat the domain as "
            "having no policy",
            evidence=answer.presentation(),
            fix=f"Serve the policy (version: STSv1, mode:, mx:, max_age:) at {policy_url} with a valid "
            "certificate, no redirect",
            source="RFC 8461 §3.3",
        )
        return out
    _policy(ctx, out, body, answer.presentation(), policy_url)
    return out


def _policy(ctx: CheckContext, out: CheckOutcome, body: str, evidence: str, url: str) -> None:
    fields, problems = parse_sts_policy(body)
    evidence = f"{evidence}\n{url}:\n{body.strip()[:600]}"
    mode = fields.get("mode", [""])[0]
    if mode:
        out.facts["mta_sts.mode"] = mode
    example = "version: STSv1\nmode: enforce\nmx: <each MX host>\nmax_age: 604800"
    if problems:
        out.facts["mta_sts.valid"] = False
        out.add(
            "mta-sts",
            Severity.ERROR,
            f"The MTA-STS policy is invalid: {'; '.join(problems)}",
            evidence=evidence,
            fix=f"Serve at {url}:\n{example}",
            source="RFC 8461 §3.2",
        )
        return
    valid = True
    mx = ctx.dns.get(ctx.domain.ascii, "MX")
    patterns = fields.get("mx", [])
    uncovered = [h for _, h in mx_hosts(mx) if h != "." and not any(_mx_matches(h, p) for p in patterns)]
    if uncovered and mode != "none":
        valid = False
        out.add(
            "mta-sts",
            Severity.ERROR if mode == "enforce" else Severity.WARNING,
            f"MTA-STS policy (mode {mode}) does not cover the MX host(s) {', '.join(uncovered)}: senders "
            "enforcing it refuse to deliver there",
            evidence=evidence,
            fix="Add to the policy: " + " ".join(f"mx: {h}" for h in uncovered),
            source="RFC 8461 §4.1",
        )
    age = int(fields["max_age"][0])
    if age < MIN_SENSIBLE_AGE:
        out.add(
            "mta-sts",
            Severity.WARNING,
            f"max_age {age} s is under a day: senders recheck the policy constantly; weeks are usual",
            evidence=evidence,
            fix="max_age: 604800",
            source="RFC 8461 §3.2",
        )
    out.facts["mta_sts.valid"] = valid
    if valid:
        out.add(
            "mta-sts",
            Severity.OK if mode == "enforce" else Severity.INFO,
            f"MTA-STS policy mode {mode}"
            + (
                ""
                if mode == "enforce"
                else ": not enforced yet (switch to mode: enforce once TLS-RPT is clean)"
            ),
            evidence=evidence,
            source="RFC 8461",
        )


def _versioned_txt(
    ctx: CheckContext, out: CheckOutcome, what: tuple[str, str, str, str], *, missing: str, fix: str
) -> tuple[Answer, dict[str, str], list[str]] | None:
    """An optional ``v=<version>;`` TXT record (TLS-RPT, BIMI): ``what`` is (check, name, version,
    source). ``None`` when DNS failed or there is none (each reported); else the answer, the first
    record's tags and its problems (more than one record, bad syntax, a wrong start)."""
    check, name, version, source = what
    answer = ctx.dns.txt(name)
    if answer.failed:
        out.findings.append(dns_problem(check, answer, ctx.timeout, severity=Severity.WARNING))
        return None
    marker = version.lower().rstrip("v0123456789")  # TLSRPTv1 → tlsrpt, BIMI1 → bimi
    candidates = [r for r in answer.records if marker in r.lower()]
    out.facts[f"{check.replace('-', '_')}.present"] = bool(candidates)
    if not candidates:
        out.add(check, Severity.INFO, missing, fix=fix, source=source)
        return None
    problems: list[str] = []
    if len(candidates) > 1:
        problems.append(f"{len(candidates)} records: senders use none unless exactly one")
    tags, syntax = _tags(candidates[0])
    problems.extend(syntax)
    if not re.match(rf"^v={version}\s*(;|$)", candidates[0]):
        problems.append(f"the record must start with v={version};")
    return answer, tags, problems


def check_tls_rpt(ctx: CheckContext) -> CheckOutcome:
    """The ``tls-rpt`` check."""
    out = CheckOutcome()
    domain = ctx.domain.ascii
    name = f"_smtp._tls.{domain}"
    fix = txt_fix(name, f"v=TLSRPTv1; rua=mailto:tls-reports@{domain}")
    found = _versioned_txt(
        ctx,
        out,
        ("tls-rpt", name, "TLSRPTv1", "RFC 8460 §3"),
        missing=f"No TLS-RPT record at {name}: you get no reports of TLS failures delivering to {domain} "
        "(optional; pairs with MTA-STS)",
        fix=fix,
    )
    if found is None:
        return out
    answer, tags, problems = found
    uris = [u.strip() for u in tags.get("rua", "").split(",") if u.strip()]
    if not uris:
        problems.append("no rua= (where reports go)")
    for uri in uris:
        if not re.match(r"^(mailto:[^@\s]+@[^@\s]+|https://\S+)$", uri, re.IGNORECASE):
            problems.append(f"rua {uri!r} is not mailto: or https:")
    out.facts["tls_rpt.valid"] = not problems
    if problems:
        out.add(
            "tls-rpt",
            Severity.ERROR,
            f"Bad TLS-RPT record at {name}: {'; '.join(problems)}",
            evidence=answer.presentation(),
            fix=fix,
            source="RFC 8460 §3",
        )
        return out
    out.add(
        "tls-rpt",
        Severity.OK,
        f"TLS-RPT reports go to {', '.join(uris)}",
        evidence=answer.presentation(),
        source="RFC 8460",
    )
    return out


def _bimi_without_enforcement(ctx: CheckContext, out: CheckOutcome, evidence: str, source: str) -> None:
    """BIMI beside a DMARC policy that is not enforced: the fix is the DMARC record, enforced, and
    never weaker than published (a ``p=reject`` stays)."""
    record_domain, records, dmarc_evidence, _failed = find_dmarc(ctx)
    dmarc_name = f"_dmarc.{record_domain}"
    tags_d = parse_dmarc_tags(merge_dmarc(records) if records else "v=DMARC1; p=none")
    strong = tags_d.policy if tags_d.policy in ("quarantine", "reject") else "quarantine"
    dmarc_fix = vetted_fix(
        vet_dmarc,
        dmarc_name,
        list(records),
        tags_d.rebuilt(p=strong, pct=None),
        fixing=frozenset({"p:none", "pct"}),
        drop=frozenset({"pct"}),
        fallback=f"Set p=quarantine (or reject) without pct= in the record at {dmarc_name}.",
    )
    out.add(
        "bimi",
        Severity.ERROR,
        "BIMI is published but DMARC is not at enforcement (p=quarantine or p=reject, pct=100): "
        "receivers ignore the BIMI record",
        evidence=f"{evidence}\n{dmarc_evidence}".strip(),
        fix=dmarc_fix,
        source=source,
    )


def check_bimi(ctx: CheckContext) -> CheckOutcome:
    """The ``bimi`` check: the record, and DMARC at enforcement (BIMI is ignored without it)."""
    out = CheckOutcome()
    domain = ctx.domain.ascii
    name = f"default._bimi.{domain}"
    source = "BIMI draft-brand-indicators-for-message-identification §4 (BIMI Group)"
    fix = txt_fix(name, f"v=BIMI1; l=https://{domain}/bimi/logo.svg; a=https://{domain}/bimi/vmc.pem")
    found = _versioned_txt(
        ctx,
        out,
        ("bimi", name, "BIMI1", source),
        missing=f"No BIMI record at {name} (optional: shows your logo in supporting mailboxes; needs DMARC "
        "quarantine or reject)",
        fix=fix,
    )
    if found is None:
        return out
    answer, tags, problems = found
    logo = tags.get("l", "")
    if logo and not (logo.lower().startswith("https://") and logo.lower().endswith(".svg")):
        problems.append(f"l={logo!r} must be an https:// URL of an SVG Tiny PS logo")
    evidence_url = tags.get("a", "")
    if evidence_url and not evidence_url.lower().startswith("https://"):
        problems.append(f"a={evidence_url!r} must be an https:// URL of a VMC/CMC certificate (PEM)")
    evidence = answer.presentation()
    for problem in problems:
        out.add(
            "bimi",
            Severity.ERROR,
            f"BIMI record at {name}: {problem}",
            evidence=evidence,
            fix=fix,
            source=source,
        )
    enforced = _dmarc_enforced(ctx)
    if enforced is False:
        _bimi_without_enforcement(ctx, out, evidence, source)
    if not evidence_url and not problems:
        out.add(
            "bimi",
            Severity.WARNING,
            "BIMI without a= (no VMC/CMC certificate): Gmail and Apple Mail show logos only with one",
            evidence=evidence,
            fix=fix,
            source=source,
        )
    out.facts["bimi.valid"] = not problems and enforced is True
    if not problems and enforced is True:
        out.add("bimi", Severity.OK, f"BIMI logo {logo or '(declined)'}", evidence=evidence, source=source)
    return out


def _dmarc_enforced(ctx: CheckContext) -> bool | None:
    domain = ctx.domain.ascii
    record_domain, records, _evidence, failed = find_dmarc(ctx)
    if failed is not None:
        return None
    if len(records) != 1:
        return False
    tags = parse_dmarc_tags(records[0])
    policy = tags.tags.get("sp", "").lower() if record_domain != domain and "sp" in tags.tags else tags.policy
    return tags.valid and policy in ("quarantine", "reject") and tags.pct == 100
