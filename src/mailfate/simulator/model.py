"""The simulator's vocabulary: replies, the contexts a personality sees, the personality hooks.

A simulated domain has an ordered list of personalities. At every step of an SMTP transaction
(RCPT, DATA, after the message was accepted) the server asks each personality of the
recipient's domain in order; the first one that answers with a :class:`Reply` (the project's
one :class:`~mailfate.model.reply.SmtpReply`, scripted) decides, ``None``
means "no objection". Personalities hold their own state (greylist triplets, rate windows) and
read the time from the injected :class:`Clock`, so tests never sleep.

Reply texts are data: every personality names the reply it gives by a key
(``"greylisted"``, ``"unknown_user"``, …) and the domain's :class:`ReplyBook` returns the text
that domain uses — the packaged defaults overlaid by a provider preset (Naver, Gmail, …) and by
the user's file.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

import dns.resolver

from mailfate.model.reasons import Reason
from mailfate.model.reply import SmtpReply

__all__ = [
    "AcceptedMessage",
    "Clock",
    "DataContext",
    "OutgoingReport",
    "Personality",
    "RcptContext",
    "Reply",
    "ReplyBook",
    "ReportSink",
    "Services",
    "SessionInfo",
    "SystemClock",
]


@dataclass(frozen=True, slots=True)
class Reply(SmtpReply):
    """A scripted reply: an :class:`~mailfate.model.reply.SmtpReply` (a real code, an enhanced
    status code and a realistic text) with what the script says about it.

    ``reason`` is what mailfate's own classifier must say of this reply (checked by a QA test),
    ``source`` where the text comes from (a provider's published page) when it is not generic.
    The text may hold ``{rcpt}``-style fields, filled when the reply is sent.
    """

    reason: Reason | None = None
    source: str = ""
    drop: bool = False
    """Close the connection instead of sending this reply (the reply is only logged)."""

    def fill(self, **values: str) -> Reply:
        """A copy with ``{name}`` fields of the text filled in; unknown fields are kept."""
        return replace(self, text=self.text.format_map(_Missing(values)))

    def render(self, **values: str) -> str:
        """The reply as sent on the wire (without the final CRLF), ``{rcpt}``-style fields filled."""
        return SmtpReply.render(self.fill(**values) if values else self)

    def one_line(self, **values: str) -> str:
        """The reply on one line (for logs and tables)."""
        return " ".join(self.render(**values).replace("\r\n", " ").split())


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class ReplyBook(Protocol):
    """The replies one simulated domain gives, by key."""

    def get(self, key: str) -> Reply:
        """The reply for ``key``; raises ``KeyError`` for an unknown key."""
        ...


class Clock(Protocol):
    """Where personalities read the time: wall-clock UTC and a monotonic counter in seconds."""

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


@dataclass(slots=True)
class SessionInfo:
    """What the server knows about one client connection."""

    session_id: str
    client_ip: str
    client_port: int
    started_at: datetime
    helo: str = ""
    tls: bool = False
    authenticated: bool = False
    ptr_name: str | None = None
    """The client IP's reverse DNS name (``None``: not looked up yet or none published)."""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class RcptContext:
    """One RCPT TO command, seen by the personalities of the recipient's domain."""

    session: SessionInfo
    mail_from: str
    """The envelope sender (``""`` for the null sender ``<>``)."""
    rcpt: str
    """The recipient as given (``local@domain``)."""
    local_part: str
    domain: str
    replies: ReplyBook
    clock: Clock


@dataclass(slots=True)
class DataContext:
    """The end of DATA for the recipients of one domain."""

    session: SessionInfo
    mail_from: str
    rcpts: list[str]
    """The accepted recipients of this domain."""
    domain: str
    content: bytes
    """The message as received (CRLF line ends, dot-stuffing removed)."""
    replies: ReplyBook
    clock: Clock
    add_headers: list[tuple[str, str]] = field(default_factory=list)
    """Headers a personality wants prepended to the stored copy (``Authentication-Results``)."""


@dataclass(frozen=True, slots=True)
class AcceptedMessage:
    """A message the server answered 250 for, as stored."""

    session: SessionInfo
    mail_from: str
    rcpts: tuple[str, ...]
    domain: str
    content: bytes
    """The stored copy: the received message with the added headers on top."""
    queue_id: str
    accepted_at: datetime


@dataclass(frozen=True, slots=True)
class OutgoingReport:
    """A message the simulator sends later on its own: a DSN, an ARF report, an auto-reply."""

    kind: str
    """``"dsn"``, ``"arf"`` or ``"autoreply"``."""
    mail_from: str
    """Envelope sender of the report (``""`` for DSNs and ARF reports)."""
    rcpt: str
    """Where it goes: the envelope sender of the original message."""
    content: bytes
    not_before: datetime
    about: str = ""
    """The recipient of the original message the report is about."""


class ReportSink(Protocol):
    """Sends :class:`OutgoingReport` values when they are due."""

    def schedule(self, report: OutgoingReport) -> None: ...


@dataclass(slots=True)
class Services:
    """What the server lends its personalities: the clock, DNS, the report sender, its name."""

    clock: Clock
    reports: ReportSink
    hostname: str = "mx.mailfate.test"
    resolver: dns.resolver.Resolver | None = None
    """The resolver for SPF, DKIM, DMARC and PTR checks (a local DNS server in tests)."""


class Personality:
    """A behaviour of a simulated receiving domain. Subclasses override the hooks they need.

    ``name`` is the slug used in configuration files (``"greylist"``, ``"strict-auth"``).
    ``options`` are the personality's own table of the domain's configuration (for a domain
    ``[domains."x.test".greylist]``); a bad option raises ``ConfigError`` in ``__init__``.
    One instance serves one domain for the life of the server.
    """

    name: ClassVar[str] = ""

    def __init__(self, options: Mapping[str, Any], services: Services) -> None:
        self.options: Mapping[str, Any] = dict(options)
        self.services = services

    async def on_rcpt(self, ctx: RcptContext) -> Reply | None:
        """Answer a RCPT TO, or ``None`` to let the next personality decide."""
        return None

    async def on_data(self, ctx: DataContext) -> Reply | None:
        """Answer the end of DATA, or ``None``; may append to ``ctx.add_headers``."""
        return None

    async def after_accept(self, message: AcceptedMessage, reports: ReportSink) -> None:
        """Called once the message was accepted and stored: schedule late reports here."""
        return None

    def reset(self) -> None:
        """Forget learned state (greylist triplets, rate windows)."""
        return None
