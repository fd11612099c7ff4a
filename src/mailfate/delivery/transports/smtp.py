"""SMTP sessions on aiosmtplib, pooled: one destination (host, port), many messages per connection.

A connection is opened on demand (EHLO, STARTTLS by policy, AUTH when configured), used for one
transaction at a time, then kept for the next (RSET after a failed transaction); one that errors
is closed. At most ``max_connections`` are open to the destination. Each recipient gets its own
result: refused at RCPT, or the DATA reply shared by the accepted ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
import ssl
import time
from dataclasses import dataclass

import aiosmtplib

from mailfate.delivery.transports.base import no_reply, result_from_reply
from mailfate.model import AttemptResult, Envelope

__all__ = ["SmtpPool", "TlsMode"]

TlsMode = str  # "off" | "opportunistic" | "required" | "implicit"
_QUEUED_AS = re.compile(r"queued as\s+<?([A-Za-z0-9._@-]+)", re.IGNORECASE)
_PLAIN_MAILBOX = re.compile(r'[^\s<>"\x00-\x1f\x7f]+@[^\s<>"@\x00-\x1f\x7f]+')
"""A mailbox that goes on the MAIL or RCPT line as it is (no quoting, nothing to smuggle)."""


async def _mail(client: aiosmtplib.SMTP, sender: str, options: list[str], encoding: str) -> None:
    """``client.mail`` without its ``parseaddr`` (a tenth of a busy worker's time) for a plain
    mailbox — the VERP address is one; anything else takes aiosmtplib's path and its checks."""
    if not _PLAIN_MAILBOX.fullmatch(sender):
        await client.mail(sender, options=options, encoding=encoding)
        return
    opts = [o.encode("ascii") for o in options]
    reply = await client.execute_command(b"MAIL", b"FROM:<" + sender.encode(encoding) + b">", *opts)
    if reply.code != 250:
        raise aiosmtplib.SMTPSenderRefused(reply.code, reply.message, sender)


async def _rcpt(client: aiosmtplib.SMTP, recipient: str, encoding: str) -> None:
    """``client.rcpt``, the same way (recipients were checked when the message was submitted)."""
    if not _PLAIN_MAILBOX.fullmatch(recipient):
        await client.rcpt(recipient, encoding=encoding)
        return
    reply = await client.execute_command(b"RCPT", b"TO:<" + recipient.encode(encoding) + b">")
    if reply.code not in (250, 251):
        raise aiosmtplib.SMTPRecipientRefused(reply.code, reply.message, recipient)


@dataclass(slots=True)
class _Conn:
    client: aiosmtplib.SMTP
    ip: str
    tls: str
    connect_ms: float | None
    idle_since: float = 0.0
    """time.monotonic() when the connection was last put back in the pool."""


class SmtpPool:
    """Deliveries to one SMTP server."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        transport: str,
        helo: str | None = None,
        tls: TlsMode = "opportunistic",
        username: str | None = None,
        password: str | None = None,
        max_connections: int = 20,
        connect_timeout: float = 30.0,
        command_timeout: float = 300.0,
        tls_context: ssl.SSLContext | None = None,
        display: str | None = None,
        idle_timeout: float = 10.0,
    ) -> None:
        self.host, self.port = host, port
        self.display = display or host
        """The name reported as remote_host (an MX name when ``host`` is its IP address)."""
        self.transport = transport
        self.helo = helo
        self.tls = tls
        self.username, self.password = username, password
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.tls_context = tls_context
        self._idle: list[_Conn] = []
        self._slots = asyncio.Semaphore(max_connections)
        self.opened = 0
        self.idle_timeout = idle_timeout
        """Seconds an unused connection stays open; then it ends with QUIT. A receiver otherwise
        drops it at its own timeout and logs "timeout after RSET" for every pooled session."""
        self._reaper: asyncio.Task[None] | None = None

    async def _open(self) -> _Conn:
        started = time.perf_counter()
        start_tls: bool | None = {"off": False, "opportunistic": None, "required": True, "implicit": False}[
            self.tls
        ]
        context = self.tls_context
        if context is None and self.tls == "opportunistic":
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE  # as MTAs do: encrypt when offered, verify never
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            local_hostname=self.helo,
            timeout=self.command_timeout,
            use_tls=self.tls == "implicit",
            start_tls=start_tls,
            tls_context=context,
            validate_certs=self.tls in ("required", "implicit") and context is None,
        )
        try:
            await client.connect(timeout=self.connect_timeout)
            if client.last_ehlo_response is None:  # EHLO now: its extensions decide SMTPUTF8
                await client.ehlo()
            if self.username:
                await client.login(self.username, self.password or "")
        except BaseException:
            client.close()
            raise
        self.opened += 1
        transport = client.transport
        peer = transport.get_extra_info("peername") if transport else None
        ssl_object = transport.get_extra_info("ssl_object") if transport else None
        return _Conn(
            client,
            str(peer[0]) if peer else "",
            ssl_object.version() if ssl_object else "",
            (time.perf_counter() - started) * 1000,
        )

    async def deliver(self, envelope: Envelope) -> list[AttemptResult]:
        async with self._slots:
            started = time.perf_counter()
            conn: _Conn | None = self._idle.pop() if self._idle else None
            if conn is not None and not conn.client.is_connected:
                conn = None
            if conn is None:
                try:
                    conn = await self._open()
                except aiosmtplib.SMTPAuthenticationError as exc:  # our credentials, not the message
                    text = f"{self._where()} refused our AUTH: {exc.code} {exc.message}"
                    failed = self._fail(envelope, text, "AUTH", started, status="4.7.8")
                    fix = "check the relay's username and password (password_env); mailfate retries"
                    return [dataclasses.replace(r, reason="securityerror", fix=fix) for r in failed]
                except aiosmtplib.SMTPResponseException as exc:  # a 4xx/5xx greeting, EHLO or AUTH
                    if exc.code < 200:
                        text = f"{self._where()} answered with something that is not SMTP: {exc.message}"
                        return self._fail(envelope, text, "connect", started, status="4.5.0")
                    return self._all(
                        envelope, exc.code, exc.message, command="connect", ip="", started=started
                    )
                except aiosmtplib.SMTPException as exc:
                    return self._fail(envelope, f"{self._where()}: {exc}", "connect", started, status="4.4.1")
                except (OSError, TimeoutError) as exc:
                    text = (
                        f"cannot connect to {self._where()}: {exc.strerror or exc}"
                        if isinstance(exc, OSError)
                        else f"no answer from {self._where()}"
                    )
                    return self._fail(envelope, text, "connect", started, status="4.4.1")
            else:
                conn.connect_ms = None
            keep, results = await self._transaction(conn, envelope, started)
            if keep:
                conn.idle_since = time.monotonic()
                self._idle.append(conn)
                if self._reaper is None or self._reaper.done():
                    self._reaper = asyncio.create_task(self._reap())
            else:
                with contextlib.suppress(Exception):
                    conn.client.close()
            return results

    async def _transaction(
        self, conn: _Conn, env: Envelope, started: float
    ) -> tuple[bool, list[AttemptResult]]:
        client = conn.client
        command = "MAIL"
        utf8 = not (env.mail_from.isascii() and all(r.isascii() for r in env.recipients))
        if utf8 and not client.supports_extension("smtputf8"):
            text = f"{self._where()} does not offer SMTPUTF8, needed for a non-ASCII address"
            no_utf8 = AttemptResult(
                "bounced",
                0,
                "5.6.7",
                text,
                "contenterror",
                False,
                rule_id="transport",
                command="MAIL",
                transport=self.transport,
                remote_host=self.display,
                remote_ip=conn.ip,
            )
            return True, [no_utf8] * len(env.recipients)
        options = ["SMTPUTF8"] if utf8 else []
        encoding = "utf-8" if utf8 else "ascii"
        try:
            try:
                await _mail(client, env.mail_from, options, encoding)
            except aiosmtplib.SMTPResponseException as exc:
                if exc.code < 200:
                    raise
                await self._rset(client)
                return True, self._all(
                    env, exc.code, exc.message, command="MAIL", ip=conn.ip, started=started, conn=conn
                )
            refused: dict[int, AttemptResult] = {}
            command = "RCPT"
            for i, rcpt in enumerate(env.recipients):
                try:
                    await _rcpt(client, rcpt, encoding)
                except aiosmtplib.SMTPResponseException as exc:
                    if exc.code < 200:
                        raise
                    refused[i] = self._result(exc.code, exc.message, "RCPT", conn, started)
            if len(refused) == len(env.recipients):
                await self._rset(client)
                return True, [refused[i] for i in range(len(env.recipients))]
            command = "DATA"
            try:
                reply = await client.data(env.data)
                code, text = reply.code, reply.message
            except aiosmtplib.SMTPResponseException as exc:
                if exc.code < 200:
                    raise
                code, text = exc.code, exc.message
            done = self._result(code, text, "DATA", conn, started)
            return True, [refused.get(i, done) for i in range(len(env.recipients))]
        except (
            aiosmtplib.SMTPServerDisconnected,
            aiosmtplib.SMTPTimeoutError,
            ConnectionError,
            OSError,
        ) as exc:
            what = "timed out" if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError) else "dropped"
            text = f"connection to {self._where()} {what} during {command}: {exc}"
            return False, self._fail(env, text, command, started, status="4.4.2", ip=conn.ip)
        except aiosmtplib.SMTPException as exc:  # a reply that is not SMTP
            text = f"{self._where()} answered {command} with something that is not SMTP: {exc}"
            return False, self._fail(env, text, command, started, status="4.5.0", ip=conn.ip)

    async def _rset(self, client: aiosmtplib.SMTP) -> None:
        with contextlib.suppress(Exception):
            await client.rset()

    def _where(self) -> str:
        return (
            f"{self.display}[{self.host}]:{self.port}"
            if self.display != self.host
            else f"{self.host}:{self.port}"
        )

    def _result(self, code: int, text: str, command: str, conn: _Conn, started: float) -> AttemptResult:
        found = _QUEUED_AS.search(text) if 200 <= code < 300 else None
        return result_from_reply(
            code,
            text,
            command=command,
            transport=self.transport,
            remote_host=self.display,
            remote_ip=conn.ip,
            tls_version=conn.tls,
            connect_ms=conn.connect_ms,
            total_ms=(time.perf_counter() - started) * 1000,
            remote_id=found.group(1) if found else "",
        )

    def _all(
        self,
        env: Envelope,
        code: int,
        text: str,
        *,
        command: str,
        ip: str,
        started: float,
        conn: _Conn | None = None,
    ) -> list[AttemptResult]:
        result = result_from_reply(
            code,
            text,
            command=command,
            transport=self.transport,
            remote_host=self.display,
            remote_ip=ip,
            tls_version=conn.tls if conn else "",
            total_ms=(time.perf_counter() - started) * 1000,
        )
        return [result] * len(env.recipients)

    def _fail(
        self, env: Envelope, text: str, command: str, started: float, *, status: str, ip: str = ""
    ) -> list[AttemptResult]:
        result = no_reply(
            text,
            command=command,
            transport=self.transport,
            status=status,
            remote_host=self.display,
            remote_ip=ip,
            total_ms=(time.perf_counter() - started) * 1000,
        )
        return [result] * len(env.recipients)

    async def _reap(self) -> None:
        """End idle connections with QUIT once they have waited ``idle_timeout``; stop when none is
        left (the next one put back starts a new reaper)."""
        while self._idle:
            oldest = min(c.idle_since for c in self._idle)
            await asyncio.sleep(max(0.0, oldest + self.idle_timeout - time.monotonic()))
            now = time.monotonic()
            stale = [c for c in self._idle if now - c.idle_since >= self.idle_timeout]
            self._idle = [c for c in self._idle if c not in stale]
            for conn in stale:
                await self._quit(conn)

    @staticmethod
    async def _quit(conn: _Conn) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.client.quit(), 2)
        with contextlib.suppress(Exception):
            conn.client.close()

    async def aclose(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reaper
            self._reaper = None
        idle, self._idle = self._idle, []
        for conn in idle:
            await self._quit(conn)
