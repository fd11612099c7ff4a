"""The SMTP submission server: applications hand mail over by SMTP, authenticated with API keys.

- STARTTLS is offered, and AUTH (PLAIN, LOGIN) is accepted only over TLS; any user name, the
  password is an API key with the ``send`` scope.
- Nothing is accepted without AUTH: MAIL, RCPT and DATA answer 530 — never an open relay.
- The 250 after DATA carries the message id (``250 2.0.0 Ok: queued as m01...``); the message is
  tracked like one sent through the API, and goes through the same submission service
  (:mod:`mailfate.submit.service`: prepared as a raw message, committed with the API's
  concurrent requests in one transaction, finished the same way). Suppressed recipients are
  refused at RCPT with the suppression's reason.
- The API's options ride in header fields, taken out before the message is stored:
  ``X-Mailfate-Tags: signup, web``, ``X-Mailfate-Category: marketing``,
  ``X-Mailfate-Deadline: 10m``, ``X-Mailfate-Idempotency-Key: signup-42``.
- Retries are safe: each message gets an idempotency key derived from the API key, its
  Message-ID, the envelope and its bytes (``mailfate.submit.idempotency``), so a client that
  sends it again after a lost 250 gets the first message's id and nothing is queued twice.
- Failed AUTH attempts are counted per client IP: after ``max_auth_failures`` within
  ``auth_window`` seconds the session is closed with 421 and every new one too until the window
  passes (brute force is logged and slowed to a stop). Each key may submit at most
  ``rate_per_key`` messages per second (451 4.7.0 beyond).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from mailfate.client import Client
from mailfate.errors import InputError
from mailfate.intake.ports import SubmissionStore
from mailfate.model import ApiKey, NewMessage
from mailfate.submit.raw import take_options
from mailfate.submit.service import SubmitService, SuppressedError

__all__ = ["SubmissionServer"]

log = logging.getLogger(__name__)


def _reverse_path(mail_from: str | None) -> str:
    """The envelope sender as an address ("" for the null reverse-path, which aiosmtpd keeps as ``<>``)."""
    return "" if mail_from in {None, "", "<>"} else str(mail_from)


class _Handler:
    def __init__(self, server: SubmissionServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, smtp: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        if len(envelope.rcpt_tos) >= 1000:
            return "452 4.5.3 Too many recipients"
        found = await asyncio.to_thread(
            self.server.store.suppressions.suppression, address, (envelope.mail_from or "").rpartition("@")[2]
        )
        if found is not None:
            return f"550 5.1.1 <{address}>: suppressed since {found.created_at:%Y-%m-%d} ({found.reason})"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        key: ApiKey | None = session.auth_data if isinstance(session.auth_data, ApiKey) else None
        if key is not None and not self.server.allow(key.prefix):
            return "451 4.7.0 Rate limit for this key reached, try again in a second"
        content = envelope.original_content or envelope.content or b""
        raw = content.encode("utf-8", "surrogateescape") if isinstance(content, str) else bytes(content)
        service = self.server.client.service
        try:
            scope = f"key:{key.id}" if key is not None else "smtp"  # a retry after a lost 250: no copy
            # reads the X-Mailfate-* fields and hashes the whole message: off the event loop
            message = await asyncio.to_thread(_prepare, service, raw, envelope, scope)
            sent = await service.send_async(message)  # group commit with concurrent sessions
            if not sent.created:
                log.info("submission: %s was submitted before; not queued again", sent.message_id)
        except SuppressedError as exc:
            return f"550 5.1.1 every recipient is suppressed (message {exc.message_id})"
        except InputError as exc:
            return f"550 5.6.0 {str(exc)[:400]}"
        except Exception:
            log.exception("submission: storing a message failed")
            return "451 4.3.0 Could not queue the message now, try again later"
        return f"250 2.0.0 Ok: queued as {sent.message_id}"


def _prepare(service: SubmitService, raw: bytes, envelope: Envelope, scope: str) -> NewMessage:
    """The message to queue: the ``X-Mailfate-*`` fields read and taken out (the API's options),
    then prepared as any raw message, its idempotency key derived for ``scope`` (who submits)."""
    raw, options = take_options(raw)
    return service.prepare_raw(
        raw,
        mail_from=_reverse_path(envelope.mail_from),
        rcpt_to=envelope.rcpt_tos,
        tags=options.tags,
        category=options.category or "transactional",
        idempotency_key=options.idempotency_key,
        idempotency_scope=scope,
        deadline=options.deadline,
    )


class SubmissionServer:
    def __init__(
        self,
        store: SubmissionStore,
        client: Client,
        tls_context: ssl.SSLContext,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        hostname: str = "mailfate.localhost",
        max_message_size: int = 35 * 1024 * 1024,
        max_auth_failures: int = 5,
        auth_window: float = 300.0,
        rate_per_key: float = 200.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.client = store, client
        self.tls_context = tls_context
        self.host, self.port = host, port
        self.hostname = hostname
        self.max_message_size = max_message_size
        self.max_auth_failures = max_auth_failures
        self.auth_window = auth_window
        self.rate_per_key = rate_per_key
        self.clock = clock
        self.failures: dict[str, deque[float]] = defaultdict(deque)
        self._sent: dict[str, deque[float]] = defaultdict(deque)
        self._server: asyncio.Server | None = None
        self._handler = _Handler(self)

    def blocked(self, ip: str) -> bool:
        window = self.failures[ip]
        while window and window[0] < self.clock() - self.auth_window:
            window.popleft()
        return len(window) >= self.max_auth_failures

    def allow(self, prefix: str) -> bool:
        sent = self._sent[prefix]
        now = self.clock()
        while sent and sent[0] < now - 1.0:
            sent.popleft()
        if len(sent) >= self.rate_per_key:
            return False
        sent.append(now)
        return True

    def _authenticate(
        self, smtp: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ip = str(session.peer[0]) if session.peer else "?"
        if self.blocked(ip):
            log.warning("submission: AUTH from %s refused: too many failures", ip)
            return AuthResult(success=False, handled=False)
        key = None
        if isinstance(data, LoginPassword):
            key = self.store.keys.find_key(data.password.decode("utf-8", "replace"))
        if key is None or not key.allows("send"):
            self.failures[ip].append(self.clock())
            log.warning(
                "submission: AUTH %s from %s failed (%d in the window)", mechanism, ip, len(self.failures[ip])
            )
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=key)

    def _protocol(self) -> SMTP:
        server = self

        class Submission(SMTP):
            async def smtp_AUTH(self, arg: str) -> None:
                ip = str(self.session.peer[0]) if self.session and self.session.peer else "?"
                if server.blocked(ip):
                    await self.push("421 4.7.0 Too many failed authentications; closing")
                    if self.transport is not None:
                        self.transport.close()
                    return
                await super().smtp_AUTH(arg)

        return Submission(
            self._handler,
            hostname=self.hostname,
            ident="mailfate submission",
            tls_context=self.tls_context,
            require_starttls=False,
            auth_required=True,
            auth_require_tls=True,
            authenticator=self._authenticate,
            data_size_limit=self.max_message_size,
            enable_SMTPUTF8=True,
        )

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
