"""The SNS endpoint for SES notifications: only genuine, fresh messages from allowed topics.

Nobody authenticates to this endpoint (SNS cannot send a key), so every request is treated as an
attacker's until its signature verifies, and nothing costly happens before the cheap checks pass:

1. the body: at most :data:`MAX_BODY` bytes (413), a JSON object (400; nesting too deep for the
   parser is 400 too), every field SNS signs or that is used here a string of a sane length (400);
2. ``TopicArn`` in the allow-list (403); ``SignatureVersion`` ``"1"`` (RSA SHA1) or ``"2"`` (RSA
   SHA256) (400); ``SigningCertURL`` an https ``.pem`` URL on ``sns.<region>.amazonaws.com``, the
   pinned host pattern (403);
3. ``Timestamp`` an ISO time with a zone (400), no older than ``max_age`` and at most 5 minutes
   ahead (403); ``Signature`` base64 of 256, 384 or 512 bytes (an RSA 2048/3072/4096 signature)
   (400); the ``MessageId`` not taken before (403);
4. only then is the certificate fetched — once per URL, cached; a failed fetch is remembered for
   ``failure_ttl`` seconds. Fetches run on a small pool of their own with a short timeout, and at
   most ``max_waiters`` requests wait for one at a time: the others get 503 at once (SNS retries
   5xx, never 4xx), so slow or hanging fetches never hold the threads the rest of the API runs on;
5. the signature over SNS's canonical string (``Key\\nValue\\n`` for the fields of each message
   type, in order) must verify with the certificate's key, and be as long as the key (403);
6. the ``MessageId`` is taken — in the store (``sns_seen``: shared by every process, kept across
   restarts, pruned once a message would be too old anyway) or, without one, in memory.

A SubscriptionConfirmation is confirmed by fetching its ``SubscribeURL`` (same host rule, same
pool). A Notification's ``Message`` is an SES event: :func:`mailfate.intake.ses.import_ses`
applies it.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
import time
import urllib.request
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from fastapi import HTTPException

from mailfate.errors import InputError

__all__ = [
    "FETCH_TIMEOUT",
    "MAX_BODY",
    "SNS_HOST",
    "MemorySeen",
    "SeenIds",
    "SnsMalformed",
    "SnsUnavailable",
    "SnsVerifier",
    "fetch_https",
    "parse_body",
]

T = TypeVar("T")
log = logging.getLogger(__name__)
SNS_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
MAX_BODY = 512 * 1024
"""SNS caps a message at 256 KiB; in the HTTP body it is a JSON string inside the envelope, where
escaping (``"`` → ``\\"``, non-ASCII → ``\\uXXXX``) can about double it, plus the envelope's own ~2 KiB."""
FETCH_TIMEOUT = 5.0
"""Seconds a certificate or SubscribeURL fetch may take in all (SNS waits about 15 s for an answer)."""
FUTURE_SKEW = 300.0
"""Seconds a Timestamp may be ahead of our clock."""
SIGNATURE_SIZES = frozenset({256, 384, 512})
"""Bytes of an RSA 2048, 3072 or 4096 signature (SNS signs with 2048-bit keys)."""
_MAX_CERT = 64 * 1024
_MAX_FIELD = {"MessageId": 128, "TopicArn": 256, "Signature": 1024, "SigningCertURL": 2048}
_SUBSCRIPTION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": _SUBSCRIPTION_FIELDS,
    "UnsubscribeConfirmation": _SUBSCRIPTION_FIELDS,
}
_OPTIONAL = frozenset({"Subject"})
_ENVELOPE = ("Signature", "SignatureVersion", "SigningCertURL", "UnsubscribeURL")


class SnsMalformed(HTTPException):
    """Not an SNS message at all (400), or a body too large to be one (413): refused unread."""

    def __init__(self, detail: str, status_code: int = 400) -> None:
        super().__init__(status_code, f"refused: {detail}")


class SnsUnavailable(HTTPException):
    """The signing certificate cannot be had now (503): SNS retries, and the retry may pass."""

    def __init__(self, detail: str) -> None:
        super().__init__(503, f"try again later: {detail}", headers={"Retry-After": "30"})


class SeenIds(Protocol):
    """Where taken MessageIds are kept: the store's ``sns`` repository, or :class:`MemorySeen`."""

    def sns_seen(self, message_id: str, *, now: datetime) -> bool: ...

    def remember_sns(self, message_id: str, *, expires_at: datetime, now: datetime) -> bool: ...

    def forget_sns(self, message_id: str) -> None: ...

    def prune_sns_seen(self, now: datetime) -> int: ...


class MemorySeen:
    """Taken MessageIds in this process only (lost on restart): for a verifier without a store."""

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self._ids: OrderedDict[str, datetime] = OrderedDict()
        self._lock = threading.Lock()

    def sns_seen(self, message_id: str, *, now: datetime) -> bool:
        with self._lock:
            expires = self._ids.get(message_id)
        return expires is not None and expires >= now

    def remember_sns(self, message_id: str, *, expires_at: datetime, now: datetime) -> bool:
        with self._lock:
            expires = self._ids.get(message_id)
            if expires is not None and expires >= now:
                return False
            self._ids[message_id] = expires_at
            while len(self._ids) > self.limit:
                self._ids.popitem(last=False)
        return True

    def forget_sns(self, message_id: str) -> None:
        with self._lock:
            self._ids.pop(message_id, None)

    def prune_sns_seen(self, now: datetime) -> int:
        with self._lock:
            old = [k for k, expires in self._ids.items() if expires < now]
            for k in old:
                del self._ids[k]
        return len(old)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect could leave the pinned host: it is an error instead."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect())


def fetch_https(url: str, timeout: float = FETCH_TIMEOUT) -> bytes:
    """GET an SNS URL (certificate, subscription confirmation) in at most ``timeout`` seconds
    (about: the last read may take up to ``timeout`` more), 1 MB at most, no redirects. Only
    called after the host check."""
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    size = 0
    with _OPENER.open(url, timeout=timeout) as answer:
        while chunk := answer.read(16384):
            chunks.append(bytes(chunk))
            size += len(chunk)
            if size > 1_000_000:
                raise ValueError("the answer is larger than 1 MB")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the answer took longer than {timeout:g} s")
    return b"".join(chunks)


def parse_body(raw: bytes) -> dict[str, Any]:
    """The request body → the SNS message (a JSON object); :class:`SnsMalformed` otherwise."""
    if len(raw) > MAX_BODY:
        raise SnsMalformed(f"body larger than {MAX_BODY} bytes: not an SNS message", 413)
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SnsMalformed(f"not JSON: {exc}") from exc
    except RecursionError as exc:
        raise SnsMalformed("JSON nested too deeply: not an SNS message") from exc
    if not isinstance(body, dict):
        raise SnsMalformed("not an SNS message (a JSON object)")
    return body


def _public_key(pem: bytes) -> rsa.RSAPublicKey:
    if len(pem) > _MAX_CERT:
        raise ValueError("larger than a certificate")
    public = x509.load_pem_x509_certificate(pem).public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise ValueError("the signing certificate has no RSA key")
    return public


class SnsVerifier:
    def __init__(
        self,
        topics: Iterable[str],
        *,
        seen: SeenIds | None = None,
        fetch: Callable[[str], bytes] = fetch_https,
        host: re.Pattern[str] = SNS_HOST,
        max_age: float = 3600.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        fetch_timeout: float = FETCH_TIMEOUT,
        fetch_workers: int = 2,
        max_waiters: int = 2,
        max_pending: int = 8,
        failure_ttl: float = 60.0,
        prune_every: float = 300.0,
    ) -> None:
        """``seen``: where taken MessageIds are kept (the store: shared and durable; default: this
        process's memory). ``fetch_workers`` threads fetch certificates, at most ``max_pending``
        different URLs at a time; ``max_waiters`` requests may wait (``fetch_timeout`` at most)
        for a fetch, the others get 503 at once; a failed fetch is not retried for
        ``failure_ttl`` seconds."""
        self.topics = frozenset(topics)
        self.seen: SeenIds = seen if seen is not None else MemorySeen()
        self.fetch = fetch
        self.host = host
        self.max_age = max_age
        self.clock = clock
        self.fetch_timeout = fetch_timeout
        self.fetch_workers = fetch_workers
        self.max_pending = max_pending
        self.failure_ttl = failure_ttl
        self.prune_every = prune_every
        self._lock = threading.Lock()
        self._certs: OrderedDict[str, rsa.RSAPublicKey] = OrderedDict()
        self._failed: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._pending: dict[str, Future[rsa.RSAPublicKey]] = {}
        self._waiters = threading.BoundedSemaphore(max_waiters)
        self._pool = ThreadPoolExecutor(fetch_workers, thread_name_prefix="sns-fetch")  # threads start lazily
        self._next_prune = 0.0

    def close(self) -> None:
        """Stop the fetch pool (fetches under way are abandoned)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def check_url(self, url: str, what: str, *, pem: bool = False) -> None:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise InputError(f"{what} {url[:200]!r} is not a URL") from exc
        if (
            parts.scheme != "https"
            or not self.host.fullmatch(parts.hostname or "")
            or port not in (None, 443)
            or parts.username is not None
            or parts.password is not None
            or (pem and (not parts.path.endswith(".pem") or parts.query or parts.fragment))
        ):
            raise InputError(f"{what} {url[:200]!r} is not https on an SNS host")

    def verify(self, body: Mapping[str, Any]) -> None:
        """Return if ``body`` is a genuine, fresh SNS message, seen for the first time (it is then
        taken). :class:`SnsMalformed` (400) if it is not an SNS message at all, ``InputError``
        (403) saying why if it is not genuine, fresh or new, :class:`SnsUnavailable` (503) if the
        signing certificate cannot be had now."""
        kind, text = self._well_formed(body)
        if body["TopicArn"] not in self.topics:
            raise InputError(f"topic {body['TopicArn'][:256]!r} is not allowed")
        version = body["SignatureVersion"]
        if version not in ("1", "2"):
            raise SnsMalformed(f"SignatureVersion {version[:20]!r} is not 1 or 2")
        url = body["SigningCertURL"]
        self.check_url(url, "SigningCertURL", pem=True)
        sent = self._timestamp(body["Timestamp"])
        signature = self._signature(body["Signature"])
        message_id = body["MessageId"]
        now = self.clock()
        if self.seen.sns_seen(message_id, now=now):
            raise InputError(f"MessageId {message_id!r} was seen before: a replay")
        key = self._key(url)
        if len(signature) * 8 != key.key_size:
            raise InputError(f"a {len(signature)}-byte signature for a {key.key_size}-bit key")
        digest = hashes.SHA1() if version == "1" else hashes.SHA256()
        try:
            key.verify(signature, text.encode("utf-8", "surrogatepass"), padding.PKCS1v15(), digest)
        except InvalidSignature as exc:
            raise InputError("the signature does not match: forged or altered") from exc
        expires = sent + timedelta(seconds=self.max_age)
        if not self.seen.remember_sns(message_id, expires_at=expires, now=now):
            raise InputError(f"MessageId {message_id!r} was seen before: a replay")
        self._prune(now)
        log.debug("SNS %s %s from %s verified", kind, message_id, body["TopicArn"])

    def _well_formed(self, body: Mapping[str, Any]) -> tuple[str, str]:
        """The message type and the canonical string SNS signed; :class:`SnsMalformed` unless
        every field used is a string (``Subject`` may be missing or null) of a sane length."""
        kind = body.get("Type")
        if not isinstance(kind, str) or kind not in _FIELDS:
            shown = kind[:40] if isinstance(kind, str) else type(kind).__name__
            raise SnsMalformed(f"unknown SNS message type {shown!r}")
        for name in (*_FIELDS[kind], *_ENVELOPE):
            value = body.get(name)
            if value is None and (name in _OPTIONAL or name == "UnsubscribeURL"):
                continue
            if not isinstance(value, str):
                found = "missing" if value is None else f"a {type(value).__name__}"
                raise SnsMalformed(f"{name} is {found}, not a string")
            limit = _MAX_FIELD.get(name, MAX_BODY)
            if len(value) > limit:
                raise SnsMalformed(f"{name} is longer than {limit} characters")
        if not body["MessageId"]:
            raise SnsMalformed("MessageId is empty")
        text = "".join(f"{k}\n{body[k]}\n" for k in _FIELDS[kind] if body.get(k) is not None)
        return kind, text

    def _timestamp(self, value: str) -> datetime:
        try:
            sent = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise SnsMalformed(f"Timestamp {value[:40]!r} is not an ISO time") from exc
        if sent.tzinfo is None:
            raise SnsMalformed(f"Timestamp {value[:40]!r} has no time zone")
        age = (self.clock() - sent).total_seconds()
        if age > self.max_age or age < -FUTURE_SKEW:
            raise InputError(f"Timestamp {value} is too old or in the future: a replay?")
        return sent

    @staticmethod
    def _signature(value: str) -> bytes:
        try:
            signature = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SnsMalformed("the signature is not base64") from exc
        if len(signature) not in SIGNATURE_SIZES:
            raise SnsMalformed(f"a {len(signature)}-byte signature is no RSA signature SNS makes")
        return signature

    def _prune(self, now: datetime) -> None:
        tick = time.monotonic()
        if tick < self._next_prune:
            return
        self._next_prune = tick + self.prune_every
        try:
            gone = self.seen.prune_sns_seen(now)
        except Exception:  # pruning is housekeeping: the next one will do
            log.exception("cannot prune the SNS message ids")
            return
        if gone:
            log.debug("%d SNS message ids forgotten (too old to be accepted anyway)", gone)

    # -- certificates ---------------------------------------------------------------------------
    def _key(self, url: str) -> rsa.RSAPublicKey:
        """The certificate's key: cached, or fetched on the pool (waited for ``fetch_timeout``
        at most, by ``max_waiters`` requests at most)."""
        with self._lock:
            key = self._certs.get(url)
            if key is not None:
                self._certs.move_to_end(url)
                return key
            failed = self._failed.get(url)
            if failed is not None and failed[0] > time.monotonic():
                raise SnsUnavailable(f"the signing certificate {url} could not be fetched: {failed[1]}")
            future = self._pending.get(url)
            if future is None:
                if len(self._pending) >= self.max_pending:
                    raise SnsUnavailable("too many signing certificates are being fetched")
                future = self._pool.submit(self._load, url)
                self._pending[url] = future
        return self._wait(future, f"the signing certificate {url}")

    def _wait(self, future: Future[T], what: str) -> T:
        if not self._waiters.acquire(blocking=False):
            raise SnsUnavailable(f"{what} is being fetched")
        try:
            return future.result(timeout=self.fetch_timeout)
        except FutureTimeout as exc:
            raise SnsUnavailable(f"{what} did not come within {self.fetch_timeout:g} s") from exc
        finally:
            self._waiters.release()

    def _load(self, url: str) -> rsa.RSAPublicKey:
        """On the pool: fetch and parse a certificate; the key or the failure is remembered."""
        try:
            key = _public_key(self.fetch(url))
        except Exception as exc:  # any failure: a fetch, a parse, a bug in a test's fetch
            reason = f"{type(exc).__name__}: {exc}"[:300]
            log.warning("cannot get the SNS signing certificate %s: %s", url, reason)
            with self._lock:
                self._pending.pop(url, None)
                self._failed[url] = (time.monotonic() + self.failure_ttl, reason)
                while len(self._failed) > 1000:
                    self._failed.popitem(last=False)
            raise SnsUnavailable(f"the signing certificate {url} could not be fetched: {reason}") from exc
        with self._lock:
            self._pending.pop(url, None)
            self._failed.pop(url, None)
            self._certs[url] = key
            while len(self._certs) > 100:
                self._certs.popitem(last=False)
        return key

    def release(self, body: Mapping[str, Any]) -> None:
        """Give a verified message's MessageId back: handling it failed, so SNS's retry of it must
        not be refused as a replay."""
        message_id = body.get("MessageId")
        if isinstance(message_id, str):
            self.seen.forget_sns(message_id)

    def confirm(self, body: Mapping[str, Any]) -> None:
        """Confirm a verified SubscriptionConfirmation by fetching its SubscribeURL (on the pool);
        if that fails (503) the MessageId is given back, so SNS's retry is not a replay."""
        url = str(body.get("SubscribeURL", ""))
        self.check_url(url, "SubscribeURL")
        try:
            self._wait(self._pool.submit(self.fetch, url), f"the SubscribeURL {url}")
        except SnsUnavailable:
            self.release(body)
            raise
        except Exception as exc:
            self.release(body)
            log.warning("cannot confirm the SNS subscription to %s: %s", body.get("TopicArn"), exc)
            raise SnsUnavailable(f"the SubscribeURL could not be fetched: {exc}") from exc
        log.info("SNS subscription to %s confirmed", body.get("TopicArn"))
