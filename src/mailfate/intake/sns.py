"""The SNS endpoint for SES notifications: only genuine, fresh messages from allowed topics.

Every message is checked before anything is done with it:

- ``TopicArn`` must be in the allow-list;
- ``SigningCertURL`` must be https on ``sns.<region>.amazonaws.com`` (the pinned host pattern),
  and the certificate is fetched from there (cached per URL);
- the signature over SNS's canonical string (RFC-less but documented: ``Key\\nValue\\n`` for the
  fields of each message type, in order) must verify: SignatureVersion 1 = RSA SHA1, 2 = RSA SHA256;
- ``Timestamp`` no older than ``max_age`` and no ``MessageId`` seen before (replays are refused).

A SubscriptionConfirmation is confirmed by fetching its ``SubscribeURL`` (same host rule). A
Notification's ``Message`` is an SES event: :func:`mailfate.intake.ses.import_ses` applies it.
"""

from __future__ import annotations

import base64
import collections
import json
import logging
import re
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mailfate.errors import InputError

__all__ = ["SNS_HOST", "SnsVerifier", "fetch_https"]

log = logging.getLogger(__name__)
SNS_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
    "UnsubscribeConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}


def fetch_https(url: str) -> bytes:
    """GET an SNS URL (certificate, subscription confirmation); only called after the host check."""
    with urllib.request.urlopen(url, timeout=10) as answer:
        return bytes(answer.read(1_000_000))


class SnsVerifier:
    def __init__(
        self,
        topics: Iterable[str],
        *,
        fetch: Callable[[str], bytes] = fetch_https,
        host: re.Pattern[str] = SNS_HOST,
        max_age: float = 3600.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.topics = frozenset(topics)
        self.fetch = fetch
        self.host = host
        self.max_age = max_age
        self.clock = clock
        self._certs: dict[str, rsa.RSAPublicKey] = {}
        self._seen: collections.OrderedDict[str, None] = collections.OrderedDict()

    def check_url(self, url: str, what: str) -> None:
        parts = urlsplit(url)
        if (
            parts.scheme != "https"
            or not self.host.fullmatch(parts.hostname or "")
            or parts.port not in (None, 443)
        ):
            raise InputError(f"{what} {url!r} is not https on an SNS host")

    def verify(self, body: Mapping[str, Any]) -> None:
        """Raise InputError saying why, unless ``body`` is a genuine, fresh SNS message."""
        kind = body.get("Type")
        if kind not in _FIELDS:
            raise InputError(f"unknown SNS message type {kind!r}")
        if body.get("TopicArn") not in self.topics:
            raise InputError(f"topic {body.get('TopicArn')!r} is not allowed")
        version = str(body.get("SignatureVersion", ""))
        if version not in ("1", "2"):
            raise InputError(f"SignatureVersion {version!r} is not 1 or 2")
        url = str(body.get("SigningCertURL", ""))
        self.check_url(url, "SigningCertURL")
        text = "".join(f"{k}\n{body[k]}\n" for k in _FIELDS[str(kind)] if k in body and body[k] is not None)
        try:
            signature = base64.b64decode(str(body.get("Signature", "")), validate=True)
        except ValueError as exc:
            raise InputError("the signature is not base64") from exc
        key = self._key(url)
        digest = hashes.SHA1() if version == "1" else hashes.SHA256()
        try:
            key.verify(signature, text.encode("utf-8"), padding.PKCS1v15(), digest)
        except InvalidSignature as exc:
            raise InputError("the signature does not match: forged or altered") from exc
        try:
            sent = datetime.fromisoformat(str(body.get("Timestamp", "")).replace("Z", "+00:00"))
        except ValueError as exc:
            raise InputError("no valid Timestamp") from exc
        age = (self.clock() - sent).total_seconds()
        if age > self.max_age or age < -300:
            raise InputError(f"Timestamp {body.get('Timestamp')} is too old or in the future: a replay?")
        message_id = str(body.get("MessageId", ""))
        if message_id in self._seen:
            raise InputError(f"MessageId {message_id} was seen before: a replay")
        self._seen[message_id] = None
        while len(self._seen) > 100_000:
            self._seen.popitem(last=False)

    def _key(self, url: str) -> rsa.RSAPublicKey:
        key = self._certs.get(url)
        if key is None:
            try:
                cert = x509.load_pem_x509_certificate(self.fetch(url))
            except (OSError, ValueError) as exc:
                raise InputError(f"cannot get the signing certificate {url}: {exc}") from exc
            public = cert.public_key()
            if not isinstance(public, rsa.RSAPublicKey):
                raise InputError("the signing certificate has no RSA key")
            key = self._certs[url] = public
        return key

    def confirm(self, body: Mapping[str, Any]) -> None:
        """Confirm a verified SubscriptionConfirmation by fetching its SubscribeURL."""
        url = str(body.get("SubscribeURL", ""))
        self.check_url(url, "SubscribeURL")
        self.fetch(url)
        log.info("SNS subscription to %s confirmed", body.get("TopicArn"))


def parse_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise InputError("not an SNS message (a JSON object)")
    return body
