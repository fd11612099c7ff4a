"""Who is at fault for a refusal: our HELO, our envelope domain's SPF, our IP, the recipient...

A reason says what kind of refusal it was; a person needs to know whose side to fix. The party
comes from the finer cause (``mailfate.model.causes.Cause``), corrected by the reply's own words
(a Postfix ``Helo command rejected`` filed under ``blocked`` is about our HELO, not our IP), and
the sentence names the facts of the attempt when they are known: the name we gave in EHLO, the
envelope (VERP) domain receivers check SPF against, the From domain, our IP, the recipient.

Receivers check SPF against the envelope sender's domain — with VERP that is the VERP domain,
not the From domain — so an SPF failure sends the user to ``mailfate doctor domain <VERP
domain>``. The Korean sentences are in :mod:`mailfate.tracking.meanings_ko`, with the same keys
and the same placeholders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from typing import Any

from mailfate.config import Settings
from mailfate.model.causes import REASON_CAUSE
from mailfate.model.reasons import Reason

__all__ = [
    "FAULT",
    "PARTY",
    "SenderFacts",
    "facts_from_settings",
    "facts_of",
    "fault",
    "fault_values",
    "party_of",
]


@dataclass(frozen=True, slots=True)
class SenderFacts:
    """Our own side of an attempt."""

    helo: str = ""
    """The name we gave in EHLO/HELO."""
    envelope_domain: str = ""
    """The domain of the envelope sender (MAIL FROM): the VERP domain; receivers check SPF here."""
    from_domain: str = ""
    """The domain of the From header: DKIM and DMARC alignment are checked against it."""
    ip: str = ""
    """The IP we sent from."""

    def over(self, other: SenderFacts) -> SenderFacts:
        """These facts, with the empty ones taken from ``other``."""
        return replace(
            self, **{f.name: getattr(self, f.name) or getattr(other, f.name) for f in fields(self)}
        )


def facts_from_settings(settings: Settings) -> SenderFacts:
    """Our side as configured: the VERP domain (the envelope domain of every message mailfate
    sends) and the HELO name a ``direct`` transport gives, when one is set."""
    helo = next(
        (
            str(t.options["helo"])
            for t in settings.transports.values()
            if t.type == "direct" and t.options.get("helo")
        ),
        "",
    )
    return SenderFacts(helo=helo, envelope_domain=settings.verp_domain)


PARTY: dict[str, str] = {
    "helo-invalid": "helo",
    "spf-fail": "envelope-spf",
    "dkim-fail": "dkim",
    "dmarc-policy": "dmarc",
    "auth-fail": "auth",
    "no-ptr": "ip",
    "ip-blocklisted": "ip",
    "ip-reputation": "ip",
    "blocked": "ip",
    "domain-reputation": "domain",
    "sender-rejected": "sender",
    "sender-quota": "account",
    "relay-denied": "route",
    "tls-required": "tls",
    "tls-failed": "tls",
    "spam-content": "message",
    "virus": "message",
    "content-policy": "message",
    "message-too-big": "message",
    "not-rfc-compliant": "message",
    "too-many-recipients": "message",
    "smtp-syntax": "us",
    "mailbox-unknown": "recipient",
    "domain-unknown": "recipient",
    "null-mx": "recipient",
    "mailbox-moved": "recipient",
    "mailbox-full": "recipient",
    "mailbox-disabled": "recipient",
    "recipient-filter": "recipient",
    "server-error": "receiver",
    "server-full": "receiver",
    "network-error": "receiver",
    "timeout": "receiver",
    "greylisted": "pace",
    "rate-limited": "pace",
    "too-many-connections": "pace",
}
"""Cause → the party at fault (a key of :data:`FAULT`). Causes not listed name no party."""

FAULT: dict[str, str] = {
    "helo": "at fault: our side, the HELO name{helo} mailfate gives, not the sending IP or the domain — "
    "set `helo` in [transports.direct] to this host's fully-qualified name, one that resolves in DNS "
    "(ideally the sending IP's PTR name)",
    "envelope-spf": "at fault: our side, the SPF record of the envelope (VERP) domain{envelope}, not the "
    "From domain — receivers check SPF against the MAIL FROM domain: run `mailfate doctor domain "
    "{envelope_cmd}` and allow the sending IP{ip} there",
    "dkim": "at fault: our side, the DKIM signature for the From domain{from_domain}: run `mailfate "
    "doctor domain {from_cmd}` and check the selector's key",
    "dmarc": "at fault: our side, alignment — DMARC for the From domain{from_domain} passes only with an "
    "aligned DKIM signature or with SPF of the envelope domain{envelope} in the same organizational "
    "domain: run `mailfate doctor domain {from_cmd} --mail-from {envelope_cmd}`",
    "auth": "at fault: our side, authentication — SPF is checked on the envelope (VERP) domain{envelope}, "
    "DKIM and DMARC on the From domain{from_domain}: run `mailfate doctor domain {from_cmd} --mail-from "
    "{envelope_cmd}`",
    "ip": "at fault: our side, the sending IP{ip} (a blocklist, its reputation or its reverse DNS), not "
    "the recipient: check the blocklists and the PTR, then ask the receiver's postmaster",
    "domain": "at fault: our side, the domain's reputation (or a domain linked in the message), not the "
    "recipient",
    "sender": "at fault: our side, the envelope sender{envelope}: the receiver refused the MAIL FROM "
    "address or its domain",
    "account": "at fault: our side, the sending account's quota at the relay or provider, not the recipient",
    "route": "at fault: our side, the route — the server is not the recipient's mail server: check the "
    "MX, the [[routes]] or the smarthost's credentials",
    "tls": "at fault: TLS between us and the receiver: check `tls` of the transport",
    "message": "at fault: our side, the message itself (content, size or format), not the address",
    "us": "at fault: our side, the SMTP client: the receiver did not understand a command of ours",
    "recipient": "at fault: the recipient's side, the address{recipient}, not the sender's set-up",
    "receiver": "at fault: the receiver's side (its server or network), not the sender or the address",
    "pace": "no one is at fault: the receiver's normal pacing, mailfate adapts and retries",
}
"""Party → the sentence, with ``{helo}``, ``{envelope}``, ``{from_domain}``, ``{ip}``,
``{recipient}`` (each `` 'value'`` or empty) and ``{envelope_cmd}``, ``{from_cmd}`` (the domain,
or a placeholder for it)."""

_REASONS = frozenset(str(r) for r in Reason)
_HELO_WORDS = re.compile(r"\b(?:helo|ehlo)\b", re.IGNORECASE)
_SPF_WORDS = re.compile(r"\bspf\b", re.IGNORECASE)
_HELO_NAME = (
    re.compile(r"<([^<>\s]+)>:\s*helo command rejected", re.IGNORECASE),
    re.compile(r"\bs=helo;\s*id=([a-z0-9._-]+)", re.IGNORECASE),
    re.compile(r"\bhelo[=:]\s*<?([a-z0-9._-]+)", re.IGNORECASE),
    re.compile(r"\b(?:helo|ehlo)(?: name)?\s+[(\['\"<]([^)\]'\">\s]+)", re.IGNORECASE),
)
_ENVELOPE = (
    re.compile(r"\bs=mfrom;\s*id=[^;@\s]*@([a-z0-9.-]+[a-z0-9])", re.IGNORECASE),
    re.compile(r"\b(?:envelope-from|smtp\.mailfrom|mfrom)=<?[^;@\s>]*@([a-z0-9.-]+[a-z0-9])", re.IGNORECASE),
)
_IP = (
    re.compile(r"\bip=([0-9a-f.:]*[0-9a-f])", re.IGNORECASE),
    re.compile(r"\bclient host \[([0-9a-f.:]+)\]", re.IGNORECASE),
    re.compile(
        r"\b(?:client|sender|sending|your) ip(?: address)?(?: is)? \[?([0-9]{1,3}(?:\.[0-9]{1,3}){3})"
    ),
)


def _first(patterns: tuple[re.Pattern[str], ...], text: str) -> str:
    for pattern in patterns:
        m = pattern.search(text)
        if m is not None:
            return m.group(1).lower().rstrip(".")
    return ""


def facts_of(data: dict[str, Any], text: str, given: SenderFacts | None = None) -> SenderFacts:
    """Our facts for one attempt: those given (from the settings), then the attempt's own when it
    recorded them (``helo``, ``mail_from``, ``local_ip``), then what the reply quotes."""
    mail_from = str(data.get("mail_from") or "")
    own = SenderFacts(
        helo=str(data.get("helo") or ""),
        envelope_domain=mail_from.rpartition("@")[2].lower() if "@" in mail_from else "",
        ip=str(data.get("local_ip") or ""),
    )
    quoted = SenderFacts(
        helo=_first(_HELO_NAME, text), envelope_domain=_first(_ENVELOPE, text), ip=_first(_IP, text)
    )
    # The reply's words are the receiver's view of this very attempt: they come before the settings.
    return own.over(quoted).over(given or SenderFacts())


def party_of(cause: str, reason: str, text: str) -> str:
    """The party at fault ("" when none can be named), from the cause, else the reason, and the
    reply's words: a refusal whose text is about HELO is our HELO's, one about SPF our envelope's."""
    if not cause and reason in _REASONS:
        cause = str(REASON_CAUSE.get(Reason(reason), ""))
    party = PARTY.get(cause, "")
    if re.search(r"\bs=helo\b", text, re.IGNORECASE):  # policyd-spf checked the HELO name's SPF
        return "helo"
    if party in ("", "ip", "us") and cause not in ("ip-blocklisted", "no-ptr") and _HELO_WORDS.search(text):
        return "helo"
    if party in ("", "auth") and _SPF_WORDS.search(text) and not re.search(r"\bdkim\b|\bdmarc\b", text, re.I):
        return "envelope-spf"
    return party


def fault_values(facts: SenderFacts, recipient: str, *, placeholder: str) -> dict[str, str]:
    """The values :data:`FAULT`'s placeholders take (the command placeholders in ``placeholder``'s
    words: "<the VERP domain>" and "<the From domain>" joined by "|")."""
    envelope_ph, _, from_ph = placeholder.partition("|")

    def quoted(value: str) -> str:
        return f" '{value}'" if value else ""

    return {
        "helo": quoted(facts.helo),
        "envelope": quoted(facts.envelope_domain),
        "from_domain": quoted(facts.from_domain),
        "ip": quoted(facts.ip),
        "recipient": quoted(recipient),
        "envelope_cmd": facts.envelope_domain or envelope_ph,
        "from_cmd": facts.from_domain or from_ph,
    }


def fault(
    cause: str, reason: str, text: str, *, recipient: str = "", facts: SenderFacts | None = None
) -> str:
    """One sentence naming the party at fault for a refusal, in English ("" when none)."""
    party = party_of(cause, reason, text)
    if not party:
        return ""
    values = fault_values(
        facts_of({}, text, facts), recipient, placeholder="<the VERP domain>|<the From domain>"
    )
    return FAULT[party].format(**values)
