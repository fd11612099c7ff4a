"""The postmaster inquiry: what a receiver's admin needs to answer, and the precise question.

The seed's lesson: a receiver's admin answers a precise question backed by evidence. An
:class:`Inquiry` gathers, for one message or for every troubled recipient at one receiving
domain: our Message-IDs and times, each attempt with the receiver's MX, IP, reply (quoted as sent)
and transport (the simulator's replies are a rehearsal), the replies grouped, what each means, our
envelope (VERP) domain, our SPF / DKIM / DMARC state (``mailfate doctor domain``'s findings, when
DNS is asked), our suppressions and how other receivers take the same mail.
:mod:`mailfate.doctor.cases` decides from it what happened (a letter is only one of the cases) and
:mod:`mailfate.doctor.inquiry_text` renders it as Markdown or HTML, in English or Korean.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from mailfate.doctor.findings import Finding
from mailfate.errors import InputError
from mailfate.model import MessageView, RollupQuery
from mailfate.model.simulated import simulated
from mailfate.store.messages import Messages
from mailfate.store.rollups import Rollups
from mailfate.store.stats import DomainTrouble, Stats

__all__ = [
    "RECIPIENT_SIDE", "Attempt", "Inquiry", "InquirySources", "ReplyGroup", "domain_inquiry",
    "inquiry_from_view", "message_inquiry",
]  # fmt: skip

AUTH_CHECKS = ("spf", "dkim", "dmarc", "mail-from", "ptr", "dnsbl")
"""The doctor's checks an inquiry quotes: what a receiver's filter looks at."""

RECIPIENT_SIDE = frozenset(
    {"userunknown", "mailboxfull", "hostunknown", "hasmoved", "suspend", "systemfull", "exceedlimit",
     "mesgtoobig", "vacation", "notaccept"}
)  # fmt: skip
"""Reasons about the recipient's mailbox, not about how the receiver treats the sender."""

DnsCheck = Callable[[str], list[Finding]]
"""sending domain → the doctor's findings (``mailfate doctor domain``), or None not to ask DNS."""


class InquirySources(Protocol):
    """What an inquiry reads of the store: a message's timeline, a domain's attempts, the rollups."""

    @property
    def messages(self) -> Messages: ...

    @property
    def rollups(self) -> Rollups: ...

    @property
    def stats(self) -> Stats: ...


_VARIABLE = re.compile(
    r"<[^<>@\s]+@[^<>\s]+>|\b[\w.+-]+@[\w.-]+\b|\b\d{1,3}(?:\.\d{1,3}){3}\b|\b[0-9A-Fa-f]{8,}\b|\b\d{4,}\b"
)


@dataclass(frozen=True, slots=True)
class Attempt:
    at: datetime
    message_id: str
    header_message_id: str
    address: str
    kind: str
    """attempt, bounced (a DSN after a 250), delayed (a delay notice) or expired."""
    outcome: str
    code: int | None
    status: str
    text: str
    remote_host: str
    remote_ip: str
    tls: str
    reason: str
    cause: str = ""
    """The finer cause (greylisted, spf-fail, ip-blocklisted...), when the event recorded one."""
    transport: str = ""
    """The transport that made the attempt (``simulator``: the replies are the simulator's)."""

    @property
    def reply(self) -> str:
        parts = [str(self.code) if self.code else "", self.status, self.text]
        head = self.text[:16]
        if self.status and self.status in head.split():
            parts[1] = ""  # "4.7.1 …" or a DSN's "550 5.1.1 …": the status is already there
        if self.code and self.text.startswith(str(self.code)):
            parts[0] = ""
        return " ".join(p for p in parts if p).strip()

    @property
    def refusal(self) -> bool:
        """A deferral, refusal or bounce report with the receiver's words (not an expiry, which
        repeats the last reply, nor a complaint)."""
        return self.outcome not in ("delivered", "complained") and self.kind != "expired" and bool(self.reply)

    @property
    def simulated(self) -> bool:
        return simulated(self.transport)

    def to_json(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["at"] = self.at.isoformat()
        data["reply"] = self.reply
        return data


@dataclass(frozen=True, slots=True)
class ReplyGroup:
    """Replies that differ only in addresses, IPs, ids and numbers."""

    pattern: str
    example: str
    reason: str
    count: int
    first_at: datetime
    last_at: datetime
    cause: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "example": self.example,
            "reason": self.reason,
            "cause": self.cause,
            "count": self.count,
            "first_at": self.first_at.isoformat(),
            "last_at": self.last_at.isoformat(),
        }


@dataclass(slots=True)
class Inquiry:
    kind: str
    """"message" (one message) or "domain" (every troubled recipient at one receiving domain)."""
    receiver: str
    sending_domains: list[str]
    attempts: list[Attempt]
    recipients: dict[str, str]
    """Address → its fate now."""
    message: dict[str, Any] = field(default_factory=dict)
    """For a message: its ids, sender, subject and times."""
    auth: list[Finding] | None = None
    """Our SPF / DKIM / DMARC (and MAIL FROM, PTR, blocklists) findings; None: DNS not asked."""
    health: list[dict[str, Any]] = field(default_factory=list)
    """Other receivers over the same days: attempts, delivered, deferral rate."""
    ips: list[str] = field(default_factory=list)
    """Our sending IPs, when given."""
    envelope_domain: str = ""
    """Our envelope sender's (MAIL FROM, the VERP address's) domain, when known: what receivers
    check SPF against and align with the From domain."""
    suppressed: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Address → why it is on our suppression list (reason, since, detail), as a message's events say."""

    @property
    def simulated(self) -> bool:
        """Whether any reply came from the built-in simulator, not the receiver the address names."""
        return any(a.simulated for a in self.attempts)

    @property
    def replies(self) -> list[ReplyGroup]:
        groups: dict[str, list[Attempt]] = {}
        for a in self.attempts:
            if not a.refusal:
                continue  # (an expiry repeats the last reply)
            groups.setdefault(_VARIABLE.sub("…", a.reply.lower()), []).append(a)
        out = [
            ReplyGroup(
                pattern,
                items[-1].reply,
                Counter(i.reason for i in items).most_common(1)[0][0],
                len(items),
                items[0].at,
                items[-1].at,
                Counter(i.cause for i in items).most_common(1)[0][0],
            )
            for pattern, items in groups.items()
        ]
        out.sort(key=lambda g: (-g.count, g.first_at))
        return out

    @property
    def quoted(self) -> Attempt | None:
        """The receiver's own reply the question quotes: the latest refusal or deferral for a
        reason of theirs (policy, reputation, authentication, rate, greylisting), else the latest
        of any kind (an unknown user says nothing about how they treat us)."""
        refused = [a for a in self.attempts if a.refusal]
        theirs = [a for a in refused if a.reason not in RECIPIENT_SIDE]
        chosen = theirs or refused
        return chosen[-1] if chosen else None

    @property
    def first_at(self) -> datetime | None:
        return self.attempts[0].at if self.attempts else None

    @property
    def last_at(self) -> datetime | None:
        return self.attempts[-1].at if self.attempts else None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "receiver": self.receiver,
            "sending_domains": self.sending_domains,
            "message": {
                k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.message.items()
            },
            "recipients": self.recipients,
            "attempts": [a.to_json() for a in self.attempts],
            "replies": [g.to_json() for g in self.replies],
            "auth": None if self.auth is None else [f.to_json() for f in self.auth],
            "health": self.health,
            "ips": self.ips,
            "envelope_domain": self.envelope_domain,
            "simulated": self.simulated,
            "suppressed": {
                a: {k: v.isoformat() if isinstance(v, datetime) else v for k, v in why.items()}
                for a, why in self.suppressed.items()
            },
        }


def _attempt(message_id: str, header_id: str, address: str, event: Any) -> Attempt:
    data = event.data
    if event.type == "expired":
        return Attempt(
            event.at, message_id, header_id, address, "expired", "expired", data.get("last_code"),
            str(data.get("last_status") or ""), str(data.get("last_text") or ""), "", "", "",
            str(data.get("last_reason") or data.get("reason") or "expired"),
        )  # fmt: skip
    if event.type == "complained":
        kind = str(data.get("feedback_type") or "abuse")
        return Attempt(
            event.at, message_id, header_id, address, "complained", "complained", None, "", kind, "", "",
            "", str(data.get("reason") or "feedback"), str(data.get("cause") or "complaint"),
        )  # fmt: skip
    code = data.get("code")
    return Attempt(
        event.at,
        message_id,
        header_id,
        address,
        event.type,
        str(data.get("outcome") or ("bounced" if event.type == "bounced" else event.type)),
        int(code) if isinstance(code, int) else None,
        str(data.get("status") or ""),
        str(data.get("text") or data.get("diagnostic") or ""),
        str(data.get("remote_host") or data.get("remote_mta") or ""),
        str(data.get("remote_ip") or ""),
        str(data.get("tls_version") or ""),
        str(data.get("reason") or ""),
        str(data.get("cause") or ""),
        str(data.get("transport") or ""),
    )


def _health(store: InquirySources, since: datetime, receiver: str, top: int = 8) -> list[dict[str, Any]]:
    per: dict[str, Counter[str]] = {}
    for domain, kind, n in store.rollups.rollup_sums(
        RollupQuery(since, by=("rcpt_domain", "kind"), daily=True)
    ):
        if kind in ("delivered", "deferred", "bounced_hard", "bounced_soft", "expired"):
            per.setdefault(domain, Counter())[kind] += n
    rows: list[dict[str, Any]] = []
    for domain, c in per.items():
        attempts = c["delivered"] + c["deferred"] + c["bounced_hard"] + c["bounced_soft"]
        if not attempts:
            continue
        rows.append(
            {
                "domain": domain,
                "attempts": attempts,
                "delivered": c["delivered"],
                "deferral_rate": c["deferred"] / attempts,
                "bounced": c["bounced_hard"] + c["bounced_soft"],
                "expired": c["expired"],
                "this_receiver": domain == receiver,
            }
        )
    rows.sort(key=lambda r: (not r["this_receiver"], -r["attempts"]))
    return rows[: top + 1]


def _auth(check_dns: DnsCheck | None, domains: list[str]) -> list[Finding] | None:
    if check_dns is None:
        return None
    found: list[Finding] = []
    for domain in domains[:3]:
        found.extend(f for f in check_dns(domain) if f.check in AUTH_CHECKS)
    return found


def message_inquiry(
    store: InquirySources,
    message_id: str,
    *,
    now: datetime,
    check_dns: DnsCheck | None = None,
    ips: list[str] | None = None,
    receiver: str | None = None,
    envelope_domain: str = "",
) -> Inquiry:
    """The inquiry about one message (to the receiver of its troubled recipients, or ``receiver``).
    ``envelope_domain``: our MAIL FROM (VERP) domain, ``[verp] domain``."""
    view = store.messages.message(message_id.strip())
    if view is None:
        raise InputError(f"no message {message_id!r} in the store: give the id mailfate returned (m…)")
    inquiry = inquiry_from_view(view, receiver=receiver, envelope_domain=envelope_domain, ips=ips)
    inquiry.auth = _auth(check_dns, inquiry.sending_domains)
    inquiry.health = _health(store, now - timedelta(days=7), inquiry.receiver)
    return inquiry


def inquiry_from_view(
    view: MessageView, *, receiver: str | None = None, envelope_domain: str = "", ips: list[str] | None = None
) -> Inquiry:
    """The inquiry about one message from its view alone (no DNS, no health: the caller adds them)."""
    troubled = [r for r in view.recipients if r.fate in ("deferred", "bounced", "expired")] or list(
        view.recipients
    )
    domain = (receiver or (troubled[0].domain if troubled else "")).lower()
    names = {r.id: r.address for r in view.recipients if r.domain == domain}
    attempts = [
        _attempt(view.id, view.header_message_id, names[e.recipient_id], e)
        for e in view.events
        if e.recipient_id in names and e.type in ("attempt", "bounced", "delayed", "expired", "complained")
    ]
    suppressed = {
        names[e.recipient_id]: _suppression(e.data)
        for e in view.events
        if e.recipient_id in names and e.type in ("suppressed", "suppression_added")
    }
    sending = view.from_addr.rpartition("@")[2].rstrip(">").lower()
    return Inquiry(
        "message",
        domain,
        [sending],
        attempts,
        {r.address: r.fate for r in view.recipients if r.domain == domain},
        message={
            "id": view.id,
            "message_id_header": view.header_message_id,
            "from": view.from_addr,
            "subject": view.subject,
            "submitted_at": view.created_at,
            "deadline": view.deadline,
            "fate": view.fate,
        },
        ips=list(ips or []),
        envelope_domain=envelope_domain.strip().lower().rstrip("."),
        suppressed=suppressed,
    )


def _suppression(data: dict[str, Any]) -> dict[str, Any]:
    """A suppression event's why: reason, since (a datetime, when said) and detail."""
    since = data.get("since")
    try:
        at = datetime.fromisoformat(str(since)) if since else None
    except ValueError:
        at = None
    return {"reason": str(data.get("reason") or ""), "since": at, "detail": str(data.get("detail") or "")}


def domain_inquiry(
    store: InquirySources,
    domain: str,
    *,
    now: datetime,
    since: datetime,
    check_dns: DnsCheck | None = None,
    ips: list[str] | None = None,
    trouble: DomainTrouble | None = None,
    envelope_domain: str = "",
) -> Inquiry:
    """The inquiry about every recipient at ``domain`` deferred, bounced or expired since ``since``."""
    domain = domain.strip().lower().rstrip(".")
    if not domain or "@" in domain or " " in domain:
        raise InputError(f"{domain!r} is not a receiving domain: give one such as corp.example")
    rows = store.stats.domain_attempts(domain, since)
    attempts = [_attempt(mid, hid, address, event) for mid, hid, _, address, _, event in rows]
    fates = {address: fate for _, _, _, address, fate, _ in rows}
    sending = [d for d, _ in Counter(row[2] for row in rows).most_common()]
    inquiry = Inquiry(
        "domain",
        domain,
        sending,
        attempts,
        fates,
        auth=_auth(check_dns, sending),
        health=_health(store, now - timedelta(days=7), domain),
        ips=list(ips or []),
        envelope_domain=envelope_domain.strip().lower().rstrip("."),
    )
    if trouble is not None:
        inquiry.message["trouble"] = trouble.to_json()
    return inquiry
