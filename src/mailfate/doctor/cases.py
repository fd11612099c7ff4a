"""What happened to the mail an inquiry is about, and so what ``mailfate report`` writes.

A letter to a receiver's postmaster is right only for some fates. :func:`decide` reads the events
(each attempt's reason and finer cause, its reply, the recipient's fate), the receiver's own verdict
on our authentication where a reply quotes one (``SPF none``, ``dkim=fail``), our DNS findings and
the alignment of our envelope (VERP) domain with the From domain, and names the case:

- ``delivered`` / ``complained`` / ``not_sent`` — a statement of what happened, no inquiry;
- ``dead`` — the address does not exist (or its mailbox is disabled): remove it, no letter;
- ``recipient`` — the recipient's mailbox cannot take mail now (full): nothing to ask;
- ``pending`` — still being retried (greylisting before the deadline): nothing to ask yet;
- ``ours`` — the evidence points at us: what to fix first, with the records to publish; no letter
  until our side checks clean;
- ``ask`` — a letter asking exactly one question (``block``, ``greylist``, ``auth``, ``rate`` or
  ``other``) with the receiver's replies quoted.

For a receiving domain the most pressing recipient's case wins (``ours`` before ``ask`` before a
dead address); dead addresses are listed beside any case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mailfate.doctor.inquiry import Attempt, Inquiry
from mailfate.mailauth.dmarc import aligned, organizational_domain

__all__ = [
    "Alignment", "Case", "Fix", "decide", "our_fixes", "record", "reply_auth", "target_envelope", "topic",
]  # fmt: skip

DEAD = frozenset(
    {"mailbox-unknown", "domain-unknown", "null-mx", "mailbox-moved", "mailbox-disabled",
     "userunknown", "hostunknown", "notaccept", "hasmoved", "suspend"}
)  # fmt: skip
"""Causes and reasons that say the address is gone: no retry, no letter, remove it."""
RECIPIENT = frozenset(
    {"mailbox-full", "server-full", "recipient-filter", "mailboxfull", "systemfull", "exceedlimit",
     "vacation"}
)  # fmt: skip
"""The recipient's mailbox cannot take mail now: nothing the postmaster would change for us."""
OURS = frozenset(
    {"no-ptr", "helo-invalid", "tls-required", "message-too-big", "not-rfc-compliant", "too-many-recipients",
     "smtp-syntax", "relay-denied", "sender-quota", "requireptr", "mesgtoobig", "norelaying", "contenterror",
     "syntaxerror"}
)  # fmt: skip
"""Causes and reasons that are ours to fix (our HELO, PTR, TLS, message, routing)."""
_BLOCK = frozenset(
    {"ip-blocklisted", "ip-reputation", "domain-reputation", "blocked", "sender-rejected", "spam-content",
     "content-policy", "policy", "badreputation", "spamdetected", "policyviolation", "rejected",
     "filtered", "securityerror"}
)  # fmt: skip
TOPICS: dict[str, frozenset[str]] = {
    "auth": frozenset({"spf-fail", "dkim-fail", "dmarc-policy", "auth-fail", "authfailure"}),
    "greylist": frozenset({"greylisted", "greylisting"}),
    "rate": frozenset({"rate-limited", "too-many-connections", "speeding", "toomanyconn"}),
    "block": _BLOCK,
}
"""The questions a letter asks, and the causes and reasons that call for each."""
_RANK = ("ours", "ask", "dead", "recipient", "pending", "complained", "delivered", "not_sent")
_AUTH_RESULT = re.compile(
    r"\b(spf|dkim|dmarc)\s*(?:=|:|\s)\s*(none|fail|softfail|permerror|temperror|neutral|pass)\b", re.I
)
_BAD = frozenset({"none", "fail", "softfail", "permerror"})
_RECORD = re.compile(r"^[\w.<>*-]+\.?\s+(?:IN\s+)?(?:TXT|MX|A|AAAA|CNAME|PTR|TLSA)\s")


def record(text: str) -> bool:
    """Whether a finding's fix is a DNS record to publish (not advice in words)."""
    return bool(_RECORD.match(text))


@dataclass(frozen=True, slots=True)
class Fix:
    """One thing to fix on our side: ``what`` names it (spf, dkim, dmarc, align, finding, cause,
    dns_unchecked), ``about`` is the domain or cause it is about, ``evidence`` what showed it (data, as
    found), ``records`` what to publish or configure."""

    what: str
    about: str
    evidence: str = ""
    records: tuple[str, ...] = ()
    note: str = ""
    """The doctor's finding, in English (for ``finding``)."""


@dataclass(frozen=True, slots=True)
class Alignment:
    """Our envelope (MAIL FROM / VERP) domain against the header From domain, relaxed (RFC 7489 §3.1)."""

    envelope: str
    header: str
    aligned: bool

    @property
    def organizational(self) -> tuple[str, str]:
        return organizational_domain(self.envelope), organizational_domain(self.header)


@dataclass(frozen=True, slots=True)
class Case:
    kind: str
    topic: str = ""
    """For ``ask`` (and ``ours`` when a letter would follow): block, greylist, auth, rate or other."""
    quoted: tuple[Attempt, ...] = ()
    """The receiver's replies that show it, the latest of each kind, newest last."""
    dead: tuple[Attempt, ...] = ()
    """Per address that does not exist: the reply or report that says so."""
    fixes: tuple[Fix, ...] = ()
    alignment: Alignment | None = None
    delivered: tuple[Attempt, ...] = ()
    """The attempts the receiver accepted (250)."""
    checked_clean: bool = False
    """Our DNS was checked and shows no SPF, DKIM, DMARC or MAIL FROM error."""
    results: dict[str, str] = field(default_factory=dict)
    """The receiver's own verdict on our authentication, as its replies quote it (spf → none)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "topic": self.topic,
            "letter": self.kind == "ask",
            "quoted": [a.reply for a in self.quoted],
            "dead": [a.address for a in self.dead],
            "fixes": [
                {
                    "what": f.what,
                    "about": f.about,
                    "evidence": f.evidence,
                    "records": list(f.records),
                    "note": f.note,
                }
                for f in self.fixes
            ],
            "alignment": None
            if self.alignment is None
            else {
                "envelope": self.alignment.envelope,
                "header": self.alignment.header,
                "aligned": self.alignment.aligned,
            },
            "checked_clean": self.checked_clean,
            "receiver_says": self.results,
        }


def topic(attempt: Attempt) -> str:
    """What a refusal is about: dead, recipient, ours, auth, greylist, rate, block or other (the finer
    cause first, then the reason)."""
    for name in (attempt.cause, attempt.reason):
        if not name:
            continue
        if name in DEAD:
            return "dead"
        if name in RECIPIENT:
            return "recipient"
        if name in OURS:
            return "ours"
        for key, names in TOPICS.items():
            if name in names:
                return key
    return "other"


def reply_auth(attempts: list[Attempt]) -> dict[str, str]:
    """The receiver's verdict on our SPF, DKIM and DMARC where its replies quote one
    (``SPF none for … as …``, ``dkim=fail``): the latest of each."""
    out: dict[str, str] = {}
    for a in attempts:
        for method, result in _AUTH_RESULT.findall(a.reply):
            out[method.lower()] = result.lower()
    return out


def _alignment(inq: Inquiry) -> Alignment | None:
    header = inq.sending_domains[0] if inq.sending_domains else ""
    if not inq.envelope_domain or not header:
        return None
    return Alignment(inq.envelope_domain, header, aligned(inq.envelope_domain, header, "r"))


def _recipient_kind(fate: str, mine: list[Attempt]) -> tuple[str, str]:
    """One recipient's case and topic, from its fate and its latest refusal."""
    if fate in ("delivered", "complained"):
        return fate, ""
    if fate == "suppressed" and not mine:
        return "not_sent", ""
    refusals = [a for a in mine if a.refusal]
    if not refusals:
        return ("pending", "") if fate in ("queued", "sending", "deferred") else ("ask", "other")
    about = topic(refusals[-1])
    if about in ("dead", "recipient", "ours"):
        return about, about
    if about == "greylist" and fate in ("queued", "sending", "deferred"):
        return "pending", about
    return "ask", about


def decide(inq: Inquiry) -> Case:
    """The case for the inquiry (see the module's doc)."""
    per: dict[str, tuple[str, str]] = {}
    for address, fate in inq.recipients.items():
        per[address] = _recipient_kind(fate, [a for a in inq.attempts if a.address == address])
    kinds = [k for k, _ in per.values()] or ["pending"]
    kind = min(kinds, key=_RANK.index)
    topics = [t for k, t in per.values() if k == kind and t]
    about = max(set(topics), key=topics.count) if topics else ""
    refusals = [a for a in inq.attempts if a.refusal]
    dead = tuple(
        next(a for a in reversed(refusals) if a.address == address)
        for address, (k, _) in per.items()
        if k == "dead"
    )
    results = reply_auth(refusals)
    alignment = _alignment(inq)
    fixes = our_fixes(inq, results, alignment, about) if kind in ("ask", "ours") else []
    if kind == "ours":
        fixes = [*fixes, *_cause_fixes(refusals)]
    if kind == "ask" and fixes:
        kind = "ours"
    quoted = _quoted(refusals, kind, about)
    clean = inq.auth is not None and not _dns_errors(inq)
    delivered = tuple(a for a in inq.attempts if a.outcome == "delivered")
    return Case(kind, about, quoted, dead, tuple(fixes), alignment, delivered, clean, results)


def _quoted(refusals: list[Attempt], kind: str, about: str) -> tuple[Attempt, ...]:
    """The latest reply of each distinct wording on the case's topic (at most three, newest last)."""
    if kind not in ("ask", "ours", "dead", "recipient", "pending"):
        return ()
    wanted = [a for a in refusals if topic(a) == about] or refusals
    seen: dict[str, Attempt] = {}
    for a in wanted:
        seen.pop(a.reply, None)
        seen[a.reply] = a
    return tuple(list(seen.values())[-3:])


def _dns_errors(inq: Inquiry) -> list[Fix]:
    """Our DNS findings that a receiver's authentication check would trip on."""
    return [
        Fix(
            "finding",
            f.check,
            f.evidence,
            (f.fix,) if record(f.fix) else (),
            f"{f.message}. {f.fix}" if f.fix and not record(f.fix) else f.message,
        )
        for f in inq.auth or []
        if f.check in ("spf", "dkim", "dmarc", "mail-from") and f.severity.value == "error"
    ]


def target_envelope(inq: Inquiry, alignment: Alignment | None) -> str:
    """The envelope domain to send with: ours when it aligns with the From domain, else one under the
    From domain (``bounces.<From domain>``)."""
    header = inq.sending_domains[0] if inq.sending_domains else "example.com"
    if alignment is not None and not alignment.aligned:
        return f"bounces.{header}"
    return inq.envelope_domain or header


def our_fixes(inq: Inquiry, results: dict[str, str], alignment: Alignment | None, about: str) -> list[Fix]:
    """What is ours to fix before a letter: the envelope domain out of alignment (when authentication
    is in question), what the receiver's replies say of our SPF, DKIM and DMARC, what our DNS shows,
    and — when authentication is the question and our DNS was not checked — checking it."""
    header = inq.sending_domains[0] if inq.sending_domains else "example.com"
    envelope = inq.envelope_domain or header
    target = target_envelope(inq, alignment)
    quoted = {m: r for m, r in results.items() if r in _BAD}
    fixes: list[Fix] = []
    if alignment is not None and not alignment.aligned and (about == "auth" or quoted):
        records = (f'[verp] domain = "{target}"', f"{target}. MX 10 <inbound host>.")
        fixes.append(Fix("align", envelope, f"{envelope} ≠ {header}", records))
    if quoted.get("spf"):
        ips = " ".join(f"ip6:{ip}" if ":" in ip else f"ip4:{ip}" for ip in inq.ips) or "ip4:<sending IP>"
        fixes.append(Fix("spf", envelope, f"spf={quoted['spf']}", (f'{target}. TXT "v=spf1 {ips} -all"',)))
    if quoted.get("dkim"):
        records = (
            f'[dkim] keys = "<key directory>"  # holding {header}/<selector>.pem',
            f'<selector>._domainkey.{header}. TXT "v=DKIM1; k=rsa; p=<public key>"',
        )
        fixes.append(Fix("dkim", header, f"dkim={quoted['dkim']}", records))
    if quoted.get("dmarc") == "none":
        record = f'_dmarc.{header}. TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@{header}"'
        fixes.append(Fix("dmarc", header, "dmarc=none", (record,)))
    fixes.extend(_dns_errors(inq))
    if about == "auth" and not fixes and inq.auth is None:
        fixes.append(Fix("dns_unchecked", header))
    return fixes


def _cause_fixes(refusals: list[Attempt]) -> list[Fix]:
    """Our-side causes (HELO, PTR, TLS, size, routing) the replies name, one fix each."""
    out: dict[str, Fix] = {}
    for a in refusals:
        if topic(a) == "ours":
            name = a.cause if a.cause in OURS else a.reason
            out[name] = Fix("cause", name, a.reply)
    return list(out.values())
