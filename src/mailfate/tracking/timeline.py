"""A message's timeline for people: each event with what it means, and what happens next."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from mailfate.model import Event, EventType
from mailfate.model.fate import REPORT_EVENTS
from mailfate.model.simulated import SIMULATED_LABEL, simulated, simulated_events
from mailfate.tracking.fault import SenderFacts, facts_of, fault

__all__ = ["MEANING", "SenderFacts", "Step", "explain", "next_step", "steps"]

MEANING: dict[str, str] = {
    "greylisting": "the receiver greylists unknown senders: the retry from the same IP and envelope "
    "should pass",
    "speeding": "the receiver limits how fast you send: mailfate slows down for this destination",
    "toomanyconn": "too many connections to this receiver: mailfate opens fewer",
    "authfailure": "the receiver could not authenticate your mail (SPF, DKIM or DMARC): check your "
    "DNS records with `mailfate doctor domain`",
    "requireptr": "your sending IP has no matching reverse DNS (PTR): ask your provider to set it",
    "blocked": "the receiver blocks your sending IP or host: check blocklists, then ask its postmaster",
    "badreputation": "the receiver distrusts your IP or domain: slow down, check complaints and bounces",
    "spamdetected": "the receiver's filter took the message for spam: check content and authentication",
    "policyviolation": "the receiver's policy refused it: read the reply text for which rule",
    "userunknown": "the mailbox does not exist: the address is suppressed, ask the user to correct it",
    "hostunknown": "the domain does not exist or has no mail server: likely a typo in the address",
    "mailboxfull": "the recipient's mailbox is full",
    "systemfull": "the receiving server is out of space",
    "exceedlimit": "the message is larger than the receiver accepts",
    "mesgtoobig": "the message is larger than the receiver accepts",
    "networkerror": "the receiver could not be reached (connection refused, timed out or dropped)",
    "failedstarttls": "TLS could not be set up with the receiver",
    "notaccept": "the domain accepts no mail (null MX)",
    "suspend": "the mailbox (or your sending account) is suspended",
    "rejected": "the sender address was refused",
    "norelaying": "the server refused to relay for your domain",
    "filtered": "a filter at the receiver refused the message",
    "contenterror": "the receiver refused the message's format",
    "securityerror": "a security rule at the receiver refused it",
    "virusdetected": "the receiver found malware in the message",
    "systemerror": "the receiver had an internal error",
    "expired": "retries ran out before the deadline or the maximum age",
    "suppressed": "the address is on the suppression list",
    "syntaxerror": "the receiver did not understand a command",
    "onhold": "the receiver holds the message for review",
    "hasmoved": "the mailbox has moved",
    "vacation": "an automatic reply (out of office)",
    "feedback": "a complaint: the recipient reported the message as spam",
    # Finer causes (mailfate.model.causes.Cause): preferred to the reason where an event has one.
    "greylisted": "the receiver greylists unknown senders: the retry from the same IP and envelope "
    "should pass",
    "rate-limited": "the receiver limits how fast you send: mailfate slows down for this destination",
    "sender-quota": "your own sending account's quota is used up (a relay's or provider's limit), not the "
    "recipient's mailbox: raise the quota or wait for it to reset",
    "spf-fail": "the SPF record of your envelope (MAIL FROM, VERP) domain does not allow the sending IP: "
    "add the IP to that record",
    "dkim-fail": "your DKIM signature is missing or does not verify: check the selector's key in DNS and "
    "that nothing rewrites the message after signing",
    "dmarc-policy": "DMARC failed (no aligned SPF or DKIM pass) and your domain's policy asks receivers to "
    "reject: align SPF or DKIM with the From domain",
    "auth-fail": "the receiver could not authenticate your mail (SPF, DKIM or DMARC): check your DNS "
    "records with `mailfate doctor domain`",
    "no-ptr": "your sending IP has no matching reverse DNS (PTR): ask your provider to set it",
    "helo-invalid": "your server's EHLO name is missing, malformed or does not resolve: use its full "
    "host name",
    "tls-required": "the receiver requires TLS (or a newer TLS version): enable STARTTLS",
    "tls-failed": "the TLS handshake with the receiver failed",
    "ip-blocklisted": "your sending IP is on a DNS blocklist: ask the list for removal, then find why it "
    "was listed",
    "ip-reputation": "the receiver distrusts your sending IP: slow down, check complaints and bounces",
    "domain-reputation": "the receiver distrusts your domain (or a domain in the message): check links, "
    "complaints and authentication",
    "relay-denied": "the server is not the recipient's mail server and refuses to relay: check the MX "
    "or the smarthost's credentials",
    "sender-rejected": "the sender address (MAIL FROM) or its domain was refused",
    "mailbox-disabled": "the recipient's account is disabled or inactive",
    "retry-forbidden": "the receiver says retrying will not succeed: the message is not retried",
    "delayed": "a delay notice: the sending server is still retrying; nothing has failed yet",
    "server-error": "the receiving server has an internal problem: it is not about the address",
    "too-many-recipients": "too many recipients in one message: send fewer per message",
    "too-many-connections": "too many connections to this receiver: mailfate opens fewer",
}


_PLAIN_CAUSES = frozenset({"delivered", "complaint", "auto-reply", "unknown", "delayed"})
"""Causes that add nothing to the event's own type."""


@dataclass(frozen=True, slots=True)
class Step:
    at: datetime
    type: str
    summary: str
    """One line: the reply or the report, as the receiver said it."""
    meaning: str
    """What it means and what the sender can do."""
    event: Event
    simulated: bool = False
    """The reply came from mailfate's built-in simulator, not the receiver the address names."""

    def answered_by(self, lang: str = "en") -> str:
        """``simulated receiver`` (in ``lang``) for a simulator's reply, else ``""``."""
        return SIMULATED_LABEL.get(lang, SIMULATED_LABEL["en"]) if self.simulated else ""


def _reply(data: dict[str, Any]) -> str:
    code = str(data.get("code") or "")
    status = str(data.get("status") or "")
    text = str(data.get("text") or data.get("diagnostic") or "")
    if status and text.startswith(status):
        status = ""
    if code and text.startswith(code):
        code = ""
    return " ".join(p for p in (code, status, text) if p).strip()


def explain(event: Event, facts: SenderFacts | None = None) -> Step:
    """One event for people; a refusal names the party at fault (``facts``: our side, from the
    settings — the reply's own words and the attempt's recorded facts are read as well)."""
    data = event.data
    reason = str(data.get("reason") or "")
    cause = str(data.get("cause") or "")
    if "greylist" in str(data.get("rule_id") or ""):
        reason = "greylisting"  # the taxonomy files it under spamdetected; people need the word
    # The finer cause says more than Sisimai's reason (greylisted, not spamdetected).
    meaning = MEANING.get(cause) or MEANING.get(reason, "")
    if cause and cause not in _PLAIN_CAUSES and meaning:
        meaning = f"{cause}: {meaning}"  # the stable name, for people who search or filter on it
    host = data.get("remote_host") or ""
    where = f" — {host}" + (f" [{data['remote_ip']}]" if data.get("remote_ip") else "") if host else ""
    if event.type == EventType.QUEUED:
        deadline = data.get("deadline")
        summary = "queued" + (f", deadline {deadline}" if deadline else "")
        return Step(event.at, event.type, summary, "accepted from the application", event)
    if event.type == EventType.ATTEMPT:
        outcome = data.get("outcome", "")
        summary = f"{outcome}: {_reply(data)}{where}"
        if data.get("tls_version"):
            summary += f" ({data['tls_version']})"
        if outcome == "delivered":
            meaning = "the receiver accepted the message"
        elif outcome == "deferred" and data.get("next_attempt_at"):
            meaning = (meaning + "; " if meaning else "") + f"next attempt {data['next_attempt_at']}"
        if outcome != "delivered":
            meaning = _with_fault(meaning, event, facts, _reply(data))
        if data.get("fix"):
            meaning = (meaning + "; " if meaning else "") + str(data["fix"])
        sim = simulated(data.get("transport"))
        return Step(event.at, event.type, summary, meaning or reason, event, simulated=sim)
    if event.type == EventType.EXPIRED:
        why = "its deadline" if data.get("why") == "deadline" else "the maximum age"
        last = data.get("last_reason") or reason
        summary = f"expired at {why}" + (
            f" after {data['attempts']} attempts" if data.get("attempts") else ""
        )
        return Step(event.at, event.type, summary, f"gave up; the last reason: {last}", event)
    if event.type == EventType.SUPPRESSED:
        summary = f"not sent: suppressed ({data.get('reason', '')}, since {data.get('since', '?')})"
        return Step(event.at, event.type, summary, MEANING["suppressed"], event)
    if event.type == EventType.SUPPRESSION_ADDED:
        summary = f"address suppressed for {data.get('scope', '*')}: {data.get('reason', '')}"
        return Step(event.at, event.type, summary, "future mail to this address is refused", event)
    if event.type in REPORT_EVENTS:
        text = _reply({"status": data.get("status"), "text": data.get("diagnostic")}) or data.get(
            "feedback_type", ""
        )
        mta = f" from {data['remote_mta']}" if data.get("remote_mta") else ""
        summary = f"{event.type} (report{mta}): {text}".strip()
        if event.type == EventType.BOUNCED:
            meaning = "a bounce arrived after the receiver had accepted the message; " + (meaning or reason)
            meaning = _with_fault(meaning, event, facts, text)
        elif event.type == EventType.DELAYED:
            # A delay notice is not a failure: never "retries ran out".
            why = MEANING.get(cause, "") if cause not in ("", "delayed", "retries-exhausted") else ""
            meaning = MEANING["delayed"] + (f"; the last reply: {why}" if why else "")
        elif event.type == EventType.COMPLAINED:
            meaning = MEANING["feedback"] + "; the address is suppressed"
        elif event.type == EventType.AUTOREPLIED:
            meaning = MEANING["vacation"] + "; the message was delivered"
        return Step(event.at, event.type, summary, meaning, event)
    if event.type in _PROVIDER:
        summary, why = _PROVIDER[event.type]
        detail = data.get("smtpResponse") or data.get("link") or data.get("contactList") or ""
        extra = f" ({data['remoteMtaIp']})" if data.get("remoteMtaIp") else ""
        return Step(
            event.at, event.type, f"{summary}{': ' + str(detail) if detail else ''}{extra}", why, event
        )
    if event.type == EventType.REJECTED:
        why = str(data.get("detail") or data.get("errorMessage") or data.get("why") or reason)
        return Step(event.at, event.type, f"rejected: {why}", meaning or "refused before sending", event)
    return Step(event.at, event.type, event.type, meaning, event)


_PROVIDER: dict[str, tuple[str, str]] = {
    EventType.SENT: ("accepted by the provider", "Amazon SES will deliver it"),
    EventType.DELIVERY_REPORT: (
        "the receiver accepted it (provider report)",
        "delivered to the mailbox server",
    ),
    EventType.OPENED: ("opened", "the recipient opened the message"),
    EventType.CLICKED: ("clicked", "the recipient followed a link"),
    EventType.UNSUBSCRIBED: ("subscription changed", "the recipient changed their subscription"),
}


def _with_fault(meaning: str, event: Event, facts: SenderFacts | None, text: str) -> str:
    """The meaning, then who is at fault: from the cause, the reply's words and our facts."""
    data = event.data
    cause, reason = str(data.get("cause") or ""), str(data.get("reason") or "")
    who = fault(cause, reason, text, recipient=event.recipient, facts=facts_of(data, text, facts))
    return (meaning + "; " if meaning else "") + who if who else meaning


def steps(events: list[Event], facts: SenderFacts | None = None) -> list[Step]:
    """Each event explained; a report the simulator sent back is labelled as its attempt was."""
    answered = simulated_events(events)
    return [
        replace(step, simulated=step.event.id in answered) for step in (explain(e, facts) for e in events)
    ]


def next_step(fate: str, next_attempt_at: datetime | None, last_reason: str | None, now: datetime) -> str:
    """What happens next to a recipient, in one line."""
    if fate == "deferred" and next_attempt_at is not None:
        wait = max(0, int((next_attempt_at - now).total_seconds()))
        why = f" ({last_reason})" if last_reason else ""
        return f"deferred{why}: next attempt in {wait} s at {next_attempt_at:%H:%M:%S} UTC"
    if fate == "queued":
        return "queued: a worker will send it"
    if fate == "sending":
        return "being sent now"
    return f"final: {fate}" + (f" ({last_reason})" if last_reason else "")
