"""Outgoing webhooks: every event POSTed as signed JSON to each subscriber, in order, at least once.

Each subscriber (``[[webhooks]]``, :class:`~mailfate.config.WebhookSettings`) follows the
append-only ``events`` table from its own position, kept in the store (``webhook_state``): it
reads a batch of events after that position, POSTs each one it wants, and moves past an event
when the subscriber answered 2xx (``delivered``) or when ``max_attempts`` attempts failed
(``failed``: logged and skipped). Anything else — another status, a network error, a timeout — is
``retry``: the position stays, the next attempt waits 5 s, then 10, 20, … up to an hour. Every
POST is a ``webhook_log`` row written with the position it moves, so a restart (or another
worker taking over) resumes at the first event not done: nothing is lost, and only a POST in
flight when a process died may be sent twice. Receivers deduplicate with ``Mailfate-Event-Id``.

Ordering on PostgreSQL: event ids come from a sequence and are taken before the transaction
commits, so id 10 can become visible after id 11. A follower that moved past 11 would never see
10. So on PostgreSQL a subscriber only passes events whose ``at`` is older than a settle delay
(2 s, :data:`PG_SETTLE`): a transaction that writes an event commits well within that time. On
SQLite writers are serialized, ids become visible in order, and the delay is 0.

The signature (``Mailfate-Signature: t=<unix time>,v1=<hex>``) follows Stripe's scheme: ``v1`` is
the HMAC-SHA256, keyed with the subscriber's secret, of ``"<t>.<body>"``. A receiver recomputes
it over the raw body, compares in constant time and refuses a ``t`` more than five minutes away
from its clock (a replay): :func:`verify_signature` does all three.

A subscriber with ``signature = "standard"`` also gets the Standard Webhooks headers
(``webhook-id``, ``webhook-timestamp``, ``webhook-signature: v1,<base64>``: the HMAC-SHA256 of
``"<id>.<timestamp>.<body>"`` keyed with the secret's bytes, the secret written ``whsec_<base64>``),
so a receiver verifies with a Standard Webhooks library (``standardwebhooks``, Svix's) and no code of
ours. ``webhook-id`` is ``Mailfate-Event-Id``: the same on every retry of one event.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from mailfate.config import WebhookSettings
from mailfate.errors import ConfigError
from mailfate.model import Event, MessageView
from mailfate.store.webhooks import DeliveryOutcome
from mailfate.tracking.ports import WebhookSources
from mailfate.tracking.ses_events import SNS_HEADERS, ses_event, sns_notification, topic_arn

__all__ = [
    "EVENT_ID_HEADER",
    "PG_SETTLE",
    "SIGNATURE_HEADER",
    "USER_AGENT",
    "PostResult",
    "WebhookService",
    "backoff",
    "event_payload",
    "post_signed",
    "sign",
    "sign_standard",
    "signature_problem",
    "standard_key",
    "verify_signature",
]

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Mailfate-Signature"
EVENT_ID_HEADER = "Mailfate-Event-Id"
USER_AGENT = "mailfate/1"
TOLERANCE = 300
"""Seconds a signature's timestamp may be away from the receiver's clock."""
PG_SETTLE = timedelta(seconds=2)
"""How old an event must be before a subscriber passes it, on PostgreSQL (see the module)."""
FIRST_BACKOFF = 5.0
MAX_BACKOFF = 3600.0

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


def utcnow() -> datetime:
    return datetime.now(UTC)


# -- signatures ---------------------------------------------------------------------------------
def _digest(secret: bytes, timestamp: str, body: bytes) -> str:
    return hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def _bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def sign(secret: str | bytes, body: bytes, timestamp: int) -> str:
    """The ``Mailfate-Signature`` header value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    return f"t={timestamp},v1={_digest(_bytes(secret), str(timestamp), body)}"


STANDARD_PREFIX = "whsec_"


def standard_key(secret: str | bytes) -> bytes:
    """The key bytes of a Standard Webhooks secret (``whsec_`` and base64); ``ConfigError`` if the
    secret is not written that way."""
    text = _bytes(secret).decode("utf-8", "replace").strip()
    encoded = text.removeprefix(STANDARD_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)  # padding optional
    except (binascii.Error, ValueError):
        key = b""
    if not text.startswith(STANDARD_PREFIX) or len(key) < 16:
        raise ConfigError(
            'a Standard Webhooks secret is "whsec_" and at least 16 bytes in base64, e.g. whsec_'
            + base64.b64encode(os.urandom(24)).decode()
        )
    return key


def sign_standard(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value (Standard Webhooks, ``v1``) for ``body``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


def signature_problem(
    secret: str | bytes,
    header: str,
    body: str | bytes,
    *,
    tolerance: float = TOLERANCE,
    now: float | None = None,
) -> str | None:
    """Why ``header`` does not sign ``body`` with ``secret`` — None when it does. ``body`` must be
    the raw bytes received (re-encoding parsed JSON changes them). Several ``v1`` values may be
    given (a secret being rotated): one matching is enough."""
    stamp, found = "", []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            stamp = value
        elif key == "v1":
            found.append(value)
    if not (stamp.isascii() and stamp.isdigit()):
        return "no timestamp (t=...) in the signature header"
    if not found:
        return "no v1=... signature in the header"
    expected = _digest(_bytes(secret), stamp, _bytes(body))
    if not any(hmac.compare_digest(expected.encode(), v.encode("ascii", "replace")) for v in found):
        return "the signature does not match the body with this secret"
    age = (time.time() if now is None else now) - int(stamp)
    if abs(age) > tolerance:
        return (
            f"the timestamp is {abs(age):.0f} s {'old' if age > 0 else 'ahead'} (tolerance {tolerance:.0f} s)"
        )
    return None


def verify_signature(
    secret: str | bytes,
    header: str,
    body: str | bytes,
    tolerance: float = TOLERANCE,
    *,
    now: float | None = None,
) -> bool:
    """Whether ``header`` (``Mailfate-Signature``) signs the raw ``body`` with ``secret`` and is
    at most ``tolerance`` seconds from ``now`` (default: this machine's clock). For receivers."""
    return signature_problem(secret, header, body, tolerance=tolerance, now=now) is None


# -- payloads and POSTs -------------------------------------------------------------------------
def event_payload(event: Event) -> dict[str, Any]:
    """The JSON an event is POSTed as. ``Event.to_json`` spreads ``data`` over the top level;
    here ``outcome`` and ``reason`` are lifted out and the rest stays under ``data``."""
    flat = event.to_json()
    data = {k: v for k, v in event.data.items() if k not in ("outcome", "reason")}
    return {
        "id": event.id,
        "type": event.type,
        "message_id": event.message_id,
        "recipient": event.recipient,
        "at": event.at.isoformat(),
        "outcome": flat.get("outcome"),
        "reason": flat.get("reason"),
        "data": data,
    }


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def backoff(attempt: int) -> timedelta:
    """The wait after failed attempt number ``attempt`` (1-based): 5 s, doubling, at most 1 h."""
    return timedelta(seconds=min(FIRST_BACKOFF * 2 ** max(0, attempt - 1), MAX_BACKOFF))


@dataclass(frozen=True, slots=True)
class PostResult:
    status_code: int | None
    """None when no answer came (network error, timeout)."""
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def post_signed(
    http: httpx.AsyncClient,
    hook: WebhookSettings,
    secret: bytes,
    body: bytes,
    *,
    timestamp: int,
    event_id: str,
    sns: bool = False,
) -> PostResult:
    """POST ``body`` to ``hook``'s URL, signed (with the Standard Webhooks headers too when the hook
    asks for them; ``sns``: ``body`` is an SNS notification, sent with SNS's headers); never raises
    for what the network or the receiver does."""
    url, timeout, standard = hook.url, hook.timeout, hook.signature == "standard"
    sns_topic = topic_arn(hook.name) if sns else None
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(secret, body, timestamp),
        EVENT_ID_HEADER: event_id,
    }
    if sns_topic is not None:
        notification = json.loads(body)
        headers.update(
            dict(zip(SNS_HEADERS, (notification["Type"], notification["MessageId"], sns_topic), strict=True))
        )
    if standard:
        headers["webhook-id"] = event_id
        headers["webhook-timestamp"] = str(timestamp)
        headers["webhook-signature"] = sign_standard(standard_key(secret), event_id, timestamp, body)
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        async with asyncio.timeout(timeout):
            async with http.stream("POST", url, content=body, headers=headers, timeout=timeout) as answer:
                status, snippet = answer.status_code, b""
                if not 200 <= status < 300:
                    async for chunk in answer.aiter_bytes():
                        snippet += chunk
                        if len(snippet) >= 200:
                            break
    except TimeoutError:
        return PostResult(None, f"timed out after {timeout:g} s", elapsed())
    except httpx.HTTPError as exc:
        return PostResult(None, f"{type(exc).__name__}: {exc}".rstrip(": "), elapsed())
    if 200 <= status < 300:
        return PostResult(status, "", elapsed())
    text = snippet[:200].decode("utf-8", "replace").strip()
    return PostResult(status, f"HTTP {status}" + (f": {text}" if text else ""), elapsed())


def check_subscriber(hook: WebhookSettings) -> bytes:
    """The subscriber's secret, after checking its URL: ``ConfigError`` at startup, never later."""
    parts = urlsplit(hook.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"webhook {hook.name!r}: url {hook.url!r}: give an http:// or https:// URL")
    secret = hook.signing_key()
    if hook.signature == "standard":
        try:
            standard_key(secret)
        except ConfigError as exc:
            raise ConfigError(f'webhook {hook.name!r}: signature = "standard": {exc}') from exc
    return secret


def make_client() -> httpx.AsyncClient:
    """No proxies from the environment, no redirects: the URL configured is the URL POSTed to."""
    return httpx.AsyncClient(trust_env=False, follow_redirects=False)


async def pause(stop: asyncio.Event, seconds: float, sleep: Sleep) -> None:
    """Wait ``seconds`` with ``sleep``, or less if ``stop`` is set."""
    if seconds <= 0 or stop.is_set():
        await asyncio.sleep(0)
        return
    sleeper = asyncio.ensure_future(sleep(seconds))
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, stopper):
            task.cancel()
        await asyncio.gather(sleeper, stopper, return_exceptions=True)


# -- the sender ---------------------------------------------------------------------------------
class WebhookService:
    """Follows the events for every subscriber (one task each) until ``stop`` is set.

    ``clock`` dates the log and the signatures and decides when retries are due; ``sleep`` waits
    (both injectable: tests run hours of backoff in milliseconds). ``settle``: see the module
    (None: 2 s on PostgreSQL, 0 on SQLite).
    """

    def __init__(
        self,
        store: WebhookSources,
        subscribers: Sequence[WebhookSettings],
        *,
        clock: Clock = utcnow,
        http: httpx.AsyncClient | None = None,
        sleep: Sleep = asyncio.sleep,
        settle: timedelta | None = None,
        batch: int = 100,
        poll_interval: float = 1.0,
        owner: str | None = None,
    ) -> None:
        self.store = store
        self.subscribers = tuple(subscribers)
        self.keys = {hook.name: check_subscriber(hook) for hook in self.subscribers}
        if len(self.keys) != len(self.subscribers):
            raise ConfigError("webhooks: two subscribers share a name; each needs its own")
        self.clock = clock
        self.http = http
        self.sleep = sleep
        self.settle = (
            settle if settle is not None else PG_SETTLE if store.webhooks.dialect == "postgresql" else None
        )
        self.batch = batch
        self.poll_interval = poll_interval
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        longest = max((hook.timeout for hook in self.subscribers), default=0.0)
        self.lease = timedelta(seconds=max(60.0, 3 * longest))
        self._messages: dict[str, MessageView] = {}
        """Messages read for ``format = "ses"`` (its ``mail`` object), by id; a few, then cleared."""

    async def run(self, stop: asyncio.Event) -> None:
        http = self.http or make_client()
        try:
            await asyncio.gather(*(self._follow(hook, http, stop) for hook in self.subscribers))
        finally:
            if self.http is None:
                await http.aclose()

    async def _follow(self, hook: WebhookSettings, http: httpx.AsyncClient, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    wait = await self._step(hook, http, stop)
                except Exception:  # the loop's boundary: the store is down, a bug; log and go on
                    log.exception("webhook %s: sending stopped by an error; trying again", hook.name)
                    wait = self.poll_interval
                await pause(stop, wait, self.sleep)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.store.webhooks.release_webhook, hook.name, self.owner)

    async def _step(self, hook: WebhookSettings, http: httpx.AsyncClient, stop: asyncio.Event) -> float:
        """Work on one batch; the seconds to wait before the next step."""
        now = self.clock()
        state = await asyncio.to_thread(
            self.store.webhooks.claim_webhook,
            hook.name,
            self.owner,
            at=now,
            until=now + self.lease,
            from_start=hook.start == "beginning",
        )
        if state is None:  # another process sends to this subscriber now
            return self.poll_interval
        if state.next_at is not None and state.next_at > now:
            return min((state.next_at - now).total_seconds(), self.lease.total_seconds() / 2)
        found = await asyncio.to_thread(self.store.messages.events_after, state.position, self.batch)
        position, attempts, skipped = state.position, state.attempts, False
        for event in found:
            if stop.is_set():
                break
            if self.settle is not None and event.at > self.clock() - self.settle:
                break  # not settled yet: an event with a lower id may still commit
            body = await self._body(hook, event) if hook.wants(event.type) else None
            if body is None:  # not wanted, or no such event in the subscriber's format
                position, skipped = event.id, True
                continue
            outcome, next_at = await self._deliver(hook, http, event, body, attempts + 1)
            if outcome is None:  # the lease went to another process
                return self.poll_interval
            if next_at is not None:
                return min((next_at - self.clock()).total_seconds(), self.lease.total_seconds() / 2)
            position, attempts, skipped = event.id, 0, False
        if skipped:
            await asyncio.to_thread(
                self.store.webhooks.skip_webhook_events, hook.name, self.owner, position, at=self.clock()
            )
        return 0.0 if position > state.position else self.poll_interval

    async def _body(self, hook: WebhookSettings, event: Event) -> bytes | None:
        """What is POSTed for ``event``: mailfate's JSON, or (``format = "ses"``) the SES event
        in an SNS notification — None when SES has no such event."""
        if hook.format != "ses":
            return encode(event_payload(event))
        message = self._messages.get(event.message_id)
        if message is None:
            message = await asyncio.to_thread(self.store.messages.message, event.message_id)
            if message is None:
                return None
            if len(self._messages) > 1000:
                self._messages.clear()
            self._messages[event.message_id] = message
        ses = ses_event(event, message)
        return None if ses is None else encode(sns_notification(ses, event=event, topic=topic_arn(hook.name)))

    async def _deliver(
        self, hook: WebhookSettings, http: httpx.AsyncClient, event: Event, body: bytes, attempt: int
    ) -> tuple[str | None, datetime | None]:
        """One attempt at one event, logged: (outcome or None when the lease is lost, next_at)."""
        result = await post_signed(
            http,
            hook,
            self.keys[hook.name],
            body,
            timestamp=int(self.clock().timestamp()),
            event_id=str(event.id),
            sns=hook.format == "ses",
        )
        now = self.clock()
        next_at: datetime | None = None
        outcome: DeliveryOutcome
        if result.ok:
            outcome = "delivered"
            log.info("webhook %s: event %s delivered (%s)", hook.name, event.id, result.status_code)
        elif attempt >= hook.max_attempts:
            outcome = "failed"
            log.warning(
                "webhook %s: event %s (message %s) failed after %d attempts, skipped: %s",
                hook.name,
                event.id,
                event.message_id,
                attempt,
                result.error,
            )
        else:
            outcome, next_at = "retry", now + backoff(attempt)
            log.warning(
                "webhook %s: event %s attempt %d: %s; next at %s",
                hook.name,
                event.id,
                attempt,
                result.error,
                next_at.isoformat(timespec="seconds"),
            )
        kept = await asyncio.to_thread(
            self.store.webhooks.record_webhook,
            hook.name,
            self.owner,
            event.id,
            at=now,
            attempt=attempt,
            outcome=outcome,
            status_code=result.status_code,
            error=result.error,
            duration_ms=result.duration_ms,
            next_at=next_at,
            until=now + self.lease,
        )
        return (outcome if kept else None), next_at
