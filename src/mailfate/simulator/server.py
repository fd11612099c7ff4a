"""The simulator's SMTP server: one aiosmtpd protocol per connection, one handler for all domains.

:class:`SimulatorHandler` routes every RCPT to its domain (case-insensitive, aliases, unknown
domains refused with ``relay_denied`` or served like ``[server] unknown_domains``) and asks the
domain's personalities in order; the first reply wins, otherwise ``250 2.1.5``. At the end of
DATA the personalities of every accepted domain are asked in order; the first reply decides.
Accepted mail is stored (with a Received header and the personalities' headers on top) before
the 250 goes out, then every personality's ``after_accept`` runs.

:class:`SimulatorSMTP` hardens aiosmtpd's protocol: garbage lines get ``500 5.5.2`` and the
session goes on (up to ``max_errors``), overlong lines ``line_too_long``, DATA over the size
limit ``message_too_big`` with the buffer discarded, a bare LF or CR in DATA (SMTP smuggling)
``bare_lf`` and nothing stored, a personality raising ``internal_error`` with a reference id
(the traceback is logged, never sent). Its ``__init__`` skips aiosmtpd's per-connection
introspection: the command table is built once per class.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import inspect
import itertools
import logging
import os
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session, login_always_fail

from mailfate.simulator.config import DOMAIN_RE, DictReplyBook, SimulatorConfig
from mailfate.simulator.inbox import Inbox
from mailfate.simulator.journal import Counters, Journal, MailStore, outcome_of, transaction_entry
from mailfate.simulator.model import (
    AcceptedMessage,
    Clock,
    DataContext,
    Personality,
    RcptContext,
    Reply,
    Services,
    SessionInfo,
)
from mailfate.simulator.rules import Chaos, RuleBook
from mailfate.simulator.transcript import SessionLog, attempts_of, why_of

__all__ = ["DomainRuntime", "SimulatorHandler", "SimulatorSMTP"]

log = logging.getLogger(__name__)
RCPT_OK = Reply(250, "2.1.5", "Ok")
DROPPED = Reply(421, "4.4.2", "Connection dropped by a mailfate rule", drop=True)
SYNTAX = Reply(500, "5.5.2", "Error: command not recognized")
BAD_RCPT = Reply(501, "5.1.3", "Bad recipient address syntax")
TOO_MANY_ERRORS = Reply(421, "4.7.0", "{hostname} Error: too many errors")
MAX_LINE = 1000
_BAD_LOCAL = re.compile(r"[\x00-\x20\x7f]")
_SIMPLE_ADDR = re.compile(
    r"^\s*<([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9.-]+)>(.*)$"
)
_SIZE = re.compile(r"\bSIZE=(\d+)", re.IGNORECASE)
_MID = re.compile(rb"^message-id:[ \t]*(.*?)\r?$", re.IGNORECASE | re.MULTILINE)
_ids = itertools.count(1)
_PREFIX = os.urandom(3).hex().upper()


def _command_limit() -> int:
    return 512


@functools.lru_cache(maxsize=4)
def _date_header(second: datetime) -> str:
    """``format_datetime``, computed once per second (it is on every message's path)."""
    return format_datetime(second)


def _new_id() -> str:
    return f"{_PREFIX}{next(_ids):09X}"


@dataclass(slots=True)
class DomainRuntime:
    name: str
    personalities: tuple[Personality, ...]
    slugs: tuple[str, ...]
    book: DictReplyBook


@dataclass(slots=True)
class _Rcpt:
    rcpt: str
    domain: DomainRuntime | None
    count_as: str | None
    reply: Reply
    text: str
    decider: str


class _Transaction:
    __slots__ = ("done", "mail_from", "rcpts")

    def __init__(self) -> None:
        self.mail_from = ""
        self.rcpts: list[_Rcpt] = []
        self.done = False


class SimulatorHandler:
    """What the server does for every domain: personalities, storage, journal, counters."""

    def __init__(
        self,
        config: SimulatorConfig,
        domains: dict[str, DomainRuntime],
        *,
        services: Services,
        journal: Journal,
        store: MailStore,
        counters: Counters,
        inbox: Inbox | None = None,
        rules: RuleBook | None = None,
        chaos: Chaos | None = None,
    ) -> None:
        self.config = config
        self.domains = domains
        self.services = services
        self.clock: Clock = services.clock
        self.hostname = config.server.hostname
        self.book = config.reply_book()
        self.journal = journal
        self.store = store
        self.counters = counters
        self.live: set[SimulatorSMTP] = set()
        self.inbox = inbox
        self.rules = rules if rules is not None else RuleBook()
        self.chaos = chaos if chaos is not None else Chaos()
        fallback = config.server.unknown_domains
        self.fallback = domains.get(fallback) if fallback != "reject" else None

    def fields(self, proto: SimulatorSMTP, rcpt: str = "", queue_id: str = "") -> dict[str, str]:
        local, _, domain = rcpt.rpartition("@")
        info = proto.info
        return {
            "rcpt": rcpt, "domain": domain, "local_part": local, "mail_from": proto.tx.mail_from,
            "client_ip": info.client_ip, "helo": info.helo, "hostname": self.hostname, "queue_id": queue_id,
        }  # fmt: skip

    # -- RCPT ----------------------------------------------------------------------------------
    async def rcpt(self, proto: SimulatorSMTP, address: str) -> str | None:
        tx = proto.tx
        info = proto.info
        values = self.fields(proto, address)
        if len(tx.rcpts) >= self.config.server.max_recipients:
            reply = self.book.get("too_many_recipients")
            return reply.render(**values)
        local, _, domain = address.rpartition("@")
        lower = domain.lower()
        if not local or not (DOMAIN_RE.match(lower) or lower.startswith("[")) or _BAD_LOCAL.search(local):
            return BAD_RCPT.render(**values)
        dom = self.domains.get(lower)
        count_as = dom.name if dom else None
        if dom is None and self.fallback is not None and not lower.startswith("["):
            dom, count_as = self.fallback, lower
        decider = ""
        chaos = self.chaos.fire("Recipient") if self.chaos.triggers["Recipient"].probability else None
        if chaos is not None:
            reply, decider = chaos, "chaos Recipient"
        elif dom is None:
            reply = self.book.get("relay_denied")
        else:
            reply, decider = await self._rcpt_decision(
                RcptContext(info, tx.mail_from, address, local, domain, dom.book, self.clock), dom
            )
        text = reply.render(**values)
        if proto.log is not None:
            proto.log.next_note = (decider, why_of(reply, decider))
        tx.rcpts.append(_Rcpt(address, dom, count_as, reply, text, decider))
        if not reply.is_success:
            slugs = dom.slugs if dom else ()
            self.counters.add(count_as, slugs, (decider,) if decider else (), outcome_of(reply))
        if reply.drop:
            self.finish(proto, None, None)
            proto.drop(text)
            return None
        if reply.is_success and proto.envelope is not None:
            proto.envelope.rcpt_tos.append(address)
        return text

    async def _rcpt_decision(self, ctx: RcptContext, dom: DomainRuntime) -> tuple[Reply, str]:
        """The run-time rules' reply, else the first personality's, else 250 (and who decided)."""
        ruled = self.rules.decide(ctx.rcpt, "rcpt") if self.rules.rules else None
        if ruled is not None:
            reply, rule = ruled
            if isinstance(reply, Reply):
                return reply, rule.name
            if reply == "accept":
                return RCPT_OK, rule.name
            if reply == "drop":
                return DROPPED, rule.name
        for p in dom.personalities:
            found = await p.on_rcpt(ctx)
            if found is not None:
                return found, p.name
        return RCPT_OK, ""

    async def _data_decision(
        self, tx: _Transaction, contexts: list[tuple[DomainRuntime, str, DataContext]]
    ) -> tuple[Reply | None, str]:
        """The DATA verdict: a rule's, else the first objecting personality's (``None``: accept)."""
        if self.rules.rules:
            ok = [r for r in tx.rcpts if r.reply.is_success]
            for r in ok:
                ruled = self.rules.decide(r.rcpt, "data")
                if ruled is not None:
                    reply, rule = ruled
                    if isinstance(reply, Reply):
                        return reply, rule.name
                    return (DROPPED if reply == "drop" else None), rule.name
            if ok and all(r.decider.startswith("rule ") for r in ok):
                return None, ok[0].decider  # a rule accepted every recipient: the message too
        for dom, _, ctx in contexts:
            for p in dom.personalities:
                decided = await p.on_data(ctx)
                if decided is not None:
                    return decided, p.name
        return None, ""

    # -- DATA ----------------------------------------------------------------------------------
    async def data(self, proto: SimulatorSMTP, content: bytes) -> tuple[str | None, list[Callable[[], Any]]]:
        """The DATA reply (``None``: drop the connection) and what to run after sending it."""
        tx = proto.tx
        groups: dict[str, tuple[DomainRuntime, str, list[str]]] = {}
        for r in tx.rcpts:
            if r.reply.is_success and r.domain is not None and r.count_as is not None:
                groups.setdefault(r.count_as, (r.domain, r.count_as, []))[2].append(r.rcpt)
        info = proto.info
        log = proto.log
        if log is not None:
            log.note(f"<message: {len(content)} bytes>")
        contexts = [
            (dom, name, DataContext(info, tx.mail_from, rcpts, name, content, dom.book, self.clock))
            for dom, name, rcpts in groups.values()
        ]
        decided, decider = await self._data_decision(tx, contexts)
        values = self.fields(proto, tx.rcpts[0].rcpt if len(tx.rcpts) == 1 else "")
        if decided is not None:
            text = decided.render(**values)
            outcome = outcome_of(decided)
            for dom, name, rcpts in groups.values():
                self.counters.add(name, dom.slugs, (decider,), outcome, len(rcpts))
            if log is not None:
                log.decided(text, decider, why_of(decided, decider))
            self.finish(proto, decided, text, decider=decider, content=content)
            return (None if decided.drop else text), []
        return await self._accept(proto, contexts, content, values, decider)

    async def _accept(
        self,
        proto: SimulatorSMTP,
        contexts: list[tuple[DomainRuntime, str, DataContext]],
        content: bytes,
        values: dict[str, str],
        decider: str,
    ) -> tuple[str | None, list[Callable[[], Any]]]:
        """Store every domain's copy, index it, journal the transaction; the 250 and what runs after."""
        tx, info = proto.tx, proto.info
        queue_id = _new_id()
        now = self.clock.now()
        stored: list[str] = []
        later: list[Callable[[], Any]] = []
        copies: list[tuple[str, bytes, str | None, tuple[str, ...]]] = []
        for dom, name, ctx in contexts:
            head = self.received(info, ctx.rcpts, queue_id, now) + b"".join(
                f"{k}: {v}\r\n".encode("utf-8", "surrogateescape") for k, v in ctx.add_headers
            )
            copy = head + content
            path = await self.store.store(name, queue_id, copy)
            if path is not None:
                stored.append(path)
            copies.append((name, copy, path, tuple(ctx.rcpts)))
            self.counters.add(name, dom.slugs, dom.slugs, "accepted", len(ctx.rcpts))
            message = AcceptedMessage(info, tx.mail_from, tuple(ctx.rcpts), name, copy, queue_id, now)
            later.append(_after(self, dom, message))
        accepted = self.book.get("accepted") if len(contexts) != 1 else contexts[0][0].book.get("accepted")
        values["queue_id"] = queue_id
        text = accepted.render(**values)
        ids: dict[str, str] = {}
        if self.inbox is not None and proto.log is not None:
            proto.log.decided(text, decider, why_of(accepted, decider))
            transcript = proto.log.take()
            for name, copy, path, rcpts in copies:
                ids[name] = self.inbox.add(
                    name, queue_id, copy, mail_from=tx.mail_from, rcpts=rcpts, created=now, path=path,
                    transcript=transcript,
                ).id  # fmt: skip
        self.finish(
            proto, accepted, text, content=content, queue_id=queue_id, stored=stored, decider=decider, ids=ids
        )
        return text, later

    def received(self, info: SessionInfo, rcpts: list[str], queue_id: str, now: datetime) -> bytes:
        proto = "ESMTPS" if info.tls else "ESMTP"
        target = f"\r\n\tfor <{rcpts[0]}>" if len(rcpts) == 1 else ""
        when = _date_header((now if now.tzinfo else now.replace(tzinfo=UTC)).replace(microsecond=0))
        line = (
            f"Received: from {info.helo or 'unknown'} ({info.ptr_name or 'unknown'} [{info.client_ip}])\r\n"
            f"\tby {self.hostname} (mailfate simulator) with {proto} id {queue_id}{target};\r\n\t{when}\r\n"
        )
        return line.encode("utf-8", "surrogateescape")

    # -- journal -------------------------------------------------------------------------------
    def finish(
        self,
        proto: SimulatorSMTP,
        data_reply: Reply | None,
        data_text: str | None,
        *,
        decider: str = "",
        content: bytes | None = None,
        queue_id: str = "",
        stored: list[str] | None = None,
        ids: dict[str, str] | None = None,
    ) -> None:
        """Journal the transaction once (DATA answered, RCPTs only, or dropped); record its attempts."""
        tx = proto.tx
        if tx.done or not tx.rcpts:
            return
        tx.done = True
        rcpts = [(r.rcpt, r.count_as, r.reply, r.text, r.decider) for r in tx.rcpts]
        if self.inbox is not None:
            data = (data_reply, data_text or "", decider) if data_reply is not None else None
            self.inbox.record(attempts_of(proto.info, tx.mail_from, rcpts, data, self.clock.now(), ids or {}))
            if proto.log is not None and proto.log.in_tx:
                proto.log.take()
        if self.journal.path is None:
            return
        entry = transaction_entry(proto.info, tx.mail_from, rcpts, data_reply, data_text, at=self.clock.now())
        if content is not None:
            mid = _MID.search(content[:65536])
            entry["message_id"] = mid.group(1).decode("utf-8", "replace").strip() if mid else None
            entry["size"] = len(content)
        entry.update(data_personality=decider, stored=stored or [], queue_id=queue_id or None)
        self.journal.write(entry)

    def error(self, proto: SimulatorSMTP, ref: str, exc: BaseException) -> None:
        info = proto.info
        self.journal.write(
            {
                "event": "internal_error", "at": self.clock.now().astimezone(UTC).isoformat(), "ref": ref,
                "session": info.session_id, "client_ip": info.client_ip,
                "error": f"{type(exc).__name__}: {exc}",
            }
        )  # fmt: skip


def _after(handler: SimulatorHandler, dom: DomainRuntime, message: AcceptedMessage) -> Callable[[], Any]:
    async def run() -> None:
        for p in dom.personalities:
            try:
                await p.after_accept(message, handler.services.reports)
            except Exception as exc:  # a personality bug must not break the session
                ref = _new_id()
                log.exception("after_accept of %s failed (ref %s)", p.name, ref)
                handler.journal.write(
                    {"event": "after_accept_failed", "ref": ref, "personality": p.name,
                     "queue_id": message.queue_id, "error": f"{type(exc).__name__}: {exc}"}
                )  # fmt: skip

    return run


class _Drop(Exception):
    """Close the connection without a reply."""


async def _hook_ehlo(
    server: SimulatorSMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
) -> list[str]:
    session.host_name = hostname
    server.info.helo = hostname
    kept = [r for r in responses[:-1] if not r.startswith("250-AUTH")]
    return [*kept, "250-PIPELINING", "250-ENHANCEDSTATUSCODES", "250 HELP"]


async def _hook_helo(server: SimulatorSMTP, session: Session, envelope: Envelope, hostname: str) -> str:
    session.host_name = hostname
    server.info.helo = hostname
    return f"250 {server.hostname}"


async def _hook_mail(
    server: SimulatorSMTP, session: Session, envelope: Envelope, address: str, options: list[str]
) -> str:
    envelope.mail_from = address
    envelope.mail_options.extend(options)
    server.tx.mail_from = address
    return "250 2.1.0 Ok"


async def _hook_rcpt(
    server: SimulatorSMTP, session: Session, envelope: Envelope, address: str, options: list[str]
) -> str:
    handler: SimulatorHandler = server.event_handler
    text = await handler.rcpt(server, address)
    if text is None:
        raise _Drop
    return text


_HOOKS: dict[str, Callable[..., Any]] = {
    "EHLO": _hook_ehlo,
    "HELO": _hook_helo,
    "MAIL": _hook_mail,
    "RCPT": _hook_rcpt,
}


class SimulatorSMTP(SMTP):
    """One client connection. Built cheaply: no per-connection introspection."""

    line_length_limit = MAX_LINE + 1
    info: SessionInfo
    tx: _Transaction
    log: SessionLog | None

    def __init__(self, handler: SimulatorHandler, tls_context: ssl.SSLContext | None = None) -> None:
        loop = asyncio.get_running_loop()
        asyncio.StreamReaderProtocol.__init__(
            self,
            asyncio.StreamReader(limit=self.line_length_limit, loop=loop),
            client_connected_cb=self._cb_client_connected,
            loop=loop,
        )
        server = handler.config.server
        self.__ident__ = "ESMTP"
        self.loop = loop
        self.event_handler = handler
        self.data_size_limit = server.max_message_size
        self.enable_SMTPUTF8 = True
        self._decode_data = False
        self.command_size_limits: dict[str, int] = collections.defaultdict(_command_limit)
        self.hostname = handler.hostname
        self.tls_context = tls_context
        self.require_starttls = False
        self._timeout_duration = server.timeout
        self._timeout_handle: asyncio.TimerHandle | None = None
        self._idle_since = 0.0
        self._idle_limit = server.timeout
        self._tls_handshake_okay = True
        self._tls_protocol: Any = None
        self._original_transport: Any = None
        self.session: Session | None = None
        self.envelope: Envelope | None = None
        self.transport: Any = None
        self._handler_coroutine: asyncio.Task[None] | None = None
        self._auth_require_tls = True
        self._proxy_timeout = None
        self._authenticator = None
        self._auth_callback = login_always_fail
        self._auth_required = False
        self._auth_methods: dict[str, Any] = {}
        self._handle_hooks = _HOOKS
        self._ehlo_hook_ver = "new"
        self._enforce_call_limit = False
        self.tx = _Transaction()
        self.errors = 0
        self.log = SessionLog() if handler.inbox is not None else None

    @property
    def _smtp_methods(self) -> dict[str, Any]:  # type: ignore[override]
        return {name.decode(): getattr(self, f"smtp_{name.decode()}") for name in _COMMANDS}

    # -- idle timeout: one timer per connection, re-armed lazily (not a new timer per command) --
    def _reset_timeout(self, duration: float | None = None) -> None:
        self._idle_limit = duration or self._timeout_duration
        self._idle_since = self.loop.time()
        if self._timeout_handle is None:
            self._timeout_handle = self.loop.call_at(self._idle_since + self._idle_limit, self._idle_check)

    def _idle_check(self) -> None:
        due = self._idle_since + self._idle_limit
        if self.loop.time() >= due:
            log.info("%s: idle for %.0f s, closing", self.info.session_id, self._idle_limit)
            if self.transport is not None:
                self.transport.close()  # connection_lost cancels the (spent) handle
        else:
            self._timeout_handle = self.loop.call_at(due, self._idle_check)

    # -- connection ----------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        starttls = self._original_transport is not None
        super().connection_made(transport)
        if starttls:
            self.info.tls = True
            return
        peer = transport.get_extra_info("peername") or ("", 0)
        handler: SimulatorHandler = self.event_handler
        self.info = SessionInfo(_new_id(), str(peer[0]), int(peer[1]), handler.clock.now())
        handler.live.add(self)

    def connection_lost(self, error: Exception | None) -> None:
        handler: SimulatorHandler = self.event_handler
        handler.live.discard(self)
        if self.tx.rcpts and not self.tx.done:
            handler.finish(self, None, None)
        super().connection_lost(error)

    def _set_post_data_state(self) -> None:
        tx = getattr(self, "tx", None)
        if tx is not None and tx.rcpts and not tx.done:
            self.event_handler.finish(self, None, None)
        self.tx = _Transaction()
        self.envelope = Envelope()

    def drop(self, text: str) -> None:
        log.info("%s: dropping the connection instead of %r", self.info.session_id, text)
        if self.transport is not None:
            self.transport.close()

    async def push(self, status: str | bytes) -> None:
        data = status.encode("utf-8", "surrogateescape") if isinstance(status, str) else status
        if self.log is not None:
            self.log.server(data.decode("utf-8", "replace"))
        self._writer.write(data + b"\r\n")
        await self._writer.drain()

    async def _error(self, text: str) -> None:
        self.errors += 1
        handler: SimulatorHandler = self.event_handler
        if self.errors >= handler.config.server.max_errors:
            await self.push(TOO_MANY_ERRORS.render(hostname=self.hostname))
            raise _Drop
        await self.push(text)

    # -- the command loop ----------------------------------------------------------------------
    async def _handle_client(self) -> None:
        handler: SimulatorHandler = self.event_handler
        reader = self._reader
        try:
            if handler.config.server.banner_delay:
                await asyncio.sleep(handler.config.server.banner_delay)
            await self.push(handler.book.get("tarpit_banner").render(**handler.fields(self)))
            while self.transport is not None:
                try:
                    line = await reader.readuntil()
                except asyncio.LimitOverrunError as exc:
                    await self._discard(exc.consumed, b"\n")
                    await self._error(handler.book.get("line_too_long").render(**handler.fields(self)))
                    continue
                except asyncio.IncompleteReadError:
                    break
                line = line.rstrip(b"\r\n")
                if self.log is not None:
                    self.log.client(line[:2048])
                verb, _, rest = line.partition(b" ")
                method = _COMMANDS.get(verb.upper())
                if method is None or len(line) > 512 + 26 + 10:
                    await self._error(SYNTAX.render())
                    continue
                if not self._tls_handshake_okay and verb.upper() != b"QUIT":
                    await self.push("554 5.7.0 Command refused due to lack of security")
                    continue
                self._reset_timeout()
                arg = rest.strip().decode("utf-8", "surrogateescape") or None
                try:
                    await method(self, arg)
                except (_Drop, asyncio.CancelledError, ConnectionError, asyncio.IncompleteReadError):
                    raise
                except Exception as exc:
                    ref = _new_id()
                    log.exception("session %s: internal error (ref %s)", self.info.session_id, ref)
                    handler.error(self, ref, exc)
                    reply = handler.book.get("internal_error")
                    await self.push(f"{reply.render(**handler.fields(self))} (ref {ref})")
        except _Drop:
            if self.transport is not None:
                self.transport.close()
        except (ConnectionError, asyncio.IncompleteReadError):
            if self.transport is not None:
                self.transport.close()
        except asyncio.CancelledError:
            self._writer.close()
            raise

    async def _discard(self, consumed: int, sep: bytes) -> None:
        """Drop an overlong line up to and including ``sep`` without keeping it."""
        reader = self._reader
        await reader.readexactly(consumed)
        while True:
            try:
                await reader.readuntil(sep)
                return
            except asyncio.LimitOverrunError as exc:
                await reader.readexactly(exc.consumed)

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        simple = _SIMPLE_ADDR.match(arg)
        if simple:  # the common case, without aiosmtpd's (slow) RFC 5322 parser
            return simple.group(1), simple.group(2)
        return super()._getaddr(arg)

    # -- commands ------------------------------------------------------------------------------
    async def smtp_MAIL(self, arg: str | None) -> None:
        handler: SimulatorHandler = self.event_handler
        if handler.chaos.triggers["Sender"].probability and self.session and self.session.host_name:
            chaos = handler.chaos.fire("Sender")
            if chaos is not None:
                if self.log is not None:
                    self.log.next_note = ("chaos Sender", why_of(chaos, "chaos Sender"))
                await self.push(chaos.render())
                return
        if arg:
            size = _SIZE.search(arg)
            if size and int(size.group(1)) > handler.config.server.max_message_size:
                await self.push(handler.book.get("message_too_big").render(**handler.fields(self)))
                return
            rest = self._strip_command_keyword("FROM:", arg)
            if rest is not None and rest.startswith("<>"):
                if await self.check_helo_needed():
                    return
                assert self.envelope is not None
                if self.envelope.mail_from:
                    await self.push("503 5.5.1 Error: nested MAIL command")
                    return
                self.envelope.mail_from = "<>"
                self.tx.mail_from = ""
                await self.push("250 2.1.0 Ok")
                return
        await super().smtp_MAIL(arg)

    async def smtp_DATA(self, arg: str | None) -> None:
        if await self.check_helo_needed():
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 5.5.1 Error: need RCPT command")
            return
        if arg:
            await self.push("501 5.5.4 Syntax: DATA")
            return
        handler: SimulatorHandler = self.event_handler
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        limit = handler.config.server.max_message_size
        reader = self._reader
        chunks: list[bytes] = []
        size = 0
        problem = ""
        while True:
            try:
                line = await reader.readuntil(b"\r\n")
            except asyncio.LimitOverrunError as exc:
                await reader.readexactly(exc.consumed)
                size += exc.consumed
                if not problem:
                    problem, chunks = "line_too_long", []
                continue
            if line == b".\r\n":
                break
            size += len(line)
            if problem:
                continue
            if b"\n" in line[:-2] or b"\r" in line[:-2]:
                problem, chunks = "bare_lf", []
            elif size > limit:
                problem, chunks = "message_too_big", []
            else:
                chunks.append(line[1:] if line[:1] == b"." else line)
        if problem and size > limit:
            problem = "message_too_big"
        if problem:
            reply = handler.book.get(problem)
            text = reply.render(**handler.fields(self))
            for r in self.tx.rcpts:
                if r.reply.is_success:
                    handler.counters.add(
                        r.count_as, r.domain.slugs if r.domain else (), (), outcome_of(reply)
                    )
            handler.finish(self, reply, text)
            self._set_post_data_state()
            await self.push(text)
            return
        content = b"".join(chunks)
        try:
            answer, later = await handler.data(self, content)
        finally:
            self._set_post_data_state()
        if answer is None:
            raise _Drop
        await self.push(answer)
        for run in later:
            await run()


_COMMANDS: dict[bytes, Callable[..., Any]] = {
    name[5:].encode(): func
    for name, func in inspect.getmembers(SimulatorSMTP, inspect.isfunction)
    if name.startswith("smtp_")
}
