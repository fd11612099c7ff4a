"""AWS Signature Version 4, checked on the server side: what an SES client signs, recomputed here.

The client (boto3, the AWS CLI, any SDK) signs a *canonical request* — method, path, query,
the headers it names in ``SignedHeaders``, and the SHA-256 of the body — under a key derived from
its secret, the date, the region and the service (AWS's "Create a signed AWS API request", the
``AWS4-HMAC-SHA256`` algorithm). This module rebuilds that canonical request from what actually
arrived, never from what the client claims:

- the body hash is computed from the bytes received; an ``x-amz-content-sha256`` header that
  does not match them is refused (so is ``UNSIGNED-PAYLOAD``);
- ``host`` must be signed, and so must ``x-amz-date`` when the date comes from it;
- the credential scope must be ``<key id>/<yyyymmdd>/<region>/ses/aws4_request`` with the date of
  ``x-amz-date`` (any region: mailfate is one), and the time within :data:`MAX_SKEW` of now;
- the signature is compared in constant time.

Pure functions on a :class:`Request` value; :class:`SigV4Error` carries which refusal it is
(:class:`Refusal`), which the SES routes turn into the error shapes the SDKs parse.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from urllib.parse import quote, unquote

__all__ = [
    "ALGORITHM",
    "MAX_SKEW",
    "Claim",
    "Refusal",
    "Request",
    "SigV4Error",
    "canonical_request",
    "check_signature",
    "parse_claim",
    "signature",
    "signing_key",
    "string_to_sign",
]

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "ses"
MAX_SKEW = timedelta(minutes=5)
"""How far ``x-amz-date`` may be from the server's clock, either way (a replay is refused past it)."""
_AUTH = re.compile(
    r"AWS4-HMAC-SHA256 +Credential=(?P<cred>[^,\s]+) *, *SignedHeaders=(?P<signed>[^,\s]+) *,"
    r" *Signature=(?P<sig>[0-9a-f]{64})"
)
_AMZ_DATE = re.compile(r"\d{8}T\d{6}Z")
_HEADER_NAME = re.compile(r"[a-z0-9!#$%&'*+.^_`|~-]+")
_MAX_SIGNED = 64


class Refusal(StrEnum):
    """Why a request was refused (each SES API names it its own way)."""

    MISSING = "missing"
    """No ``Authorization`` header at all."""
    INCOMPLETE = "incomplete"
    """A header that is not a complete SigV4 authorization, or a required part left unsigned."""
    MISMATCH = "mismatch"
    """The signature is not the one the key gives for this request."""
    EXPIRED = "expired"
    """``x-amz-date`` is more than :data:`MAX_SKEW` away from now."""
    UNKNOWN_KEY = "unknown_key"
    """No active key has this access key id."""


class SigV4Error(Exception):
    def __init__(self, refusal: Refusal, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal
        self.message = message


@dataclass(frozen=True, slots=True)
class Request:
    """A request as it arrived: ``path`` and ``query`` as on the wire (still percent-encoded),
    header names in lower case (a name may repeat), the body's bytes."""

    method: str
    path: str
    query: str
    headers: Sequence[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name]


@dataclass(frozen=True, slots=True)
class Claim:
    """What the client says it signed, after the checks that need no secret."""

    key_id: str
    amz_date: str
    scope: str
    """``<yyyymmdd>/<region>/ses/aws4_request``."""
    region: str
    signed_headers: tuple[str, ...]
    signature: str
    payload_hash: str


def _incomplete(message: str) -> SigV4Error:
    return SigV4Error(Refusal.INCOMPLETE, message)


def _parse_authorization(value: str) -> tuple[str, str, str, str, tuple[str, ...], str]:
    """(key id, date, region, service, signed headers, signature) of an Authorization header."""
    match = _AUTH.fullmatch(value.strip())
    if match is None:
        if not value.startswith(ALGORITHM):
            raise _incomplete(f"Authorization header requires the {ALGORITHM} algorithm")
        raise _incomplete(
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters"
        )
    parts = match["cred"].split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise _incomplete("Credential should be scoped to a valid key id, date, region and service")
    key_id, date, region, service, _ = parts
    signed = tuple(match["signed"].split(";"))
    if len(signed) > _MAX_SIGNED or not all(_HEADER_NAME.fullmatch(h) for h in signed):
        raise _incomplete("SignedHeaders is not a list of header names")
    if list(signed) != sorted(set(signed)):
        raise _incomplete("SignedHeaders must be sorted and without repeats")
    return key_id, date, region, service, signed, match["sig"]


def _amz_time(text: str) -> datetime:
    """An X-Amz-Date (``yyyymmddThhmmssZ``, as :data:`_AMZ_DATE` matched it) in UTC; ValueError for
    a moment that does not exist — what ``strptime`` gives (a test compares), read directly when
    the digits are ASCII, at a tenth of its cost."""
    if not text.isascii():  # other Unicode digits: strptime takes some places' and not others'
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    t = text
    return datetime(
        int(t[:4]), int(t[4:6]), int(t[6:8]), int(t[9:11]), int(t[11:13]), int(t[13:15]), tzinfo=UTC
    )


def parse_claim(request: Request, now: datetime) -> Claim:
    """The request's claim, or SigV4Error for anything the secret is not needed to refuse."""
    auth = request.header("authorization")
    if not auth:
        raise SigV4Error(Refusal.MISSING, "Missing Authentication Token")
    if len(auth) > 1:
        raise _incomplete("more than one Authorization header")
    key_id, date, region, service, signed, sig = _parse_authorization(auth[0])
    if service != SERVICE:
        raise _incomplete(f"Credential should be scoped to correct service: '{SERVICE}'")
    if "host" not in signed:
        raise _incomplete("'Host' must be a signed header")
    amz_date = request.header("x-amz-date")
    if len(amz_date) != 1 or not _AMZ_DATE.fullmatch(amz_date[0]):
        raise _incomplete("a single X-Amz-Date header (yyyymmddThhmmssZ) is required")
    if "x-amz-date" not in signed:
        raise _incomplete("'X-Amz-Date' must be a signed header")
    for name in signed:
        if not request.header(name):
            raise _incomplete(f"signed header {name!r} is missing from the request")
    if date != amz_date[0][:8]:
        raise _incomplete(f"Credential should be scoped to a valid date: '{amz_date[0][:8]}'")
    try:
        when = _amz_time(amz_date[0])
    except ValueError:
        raise _incomplete(f"X-Amz-Date {amz_date[0]!r} is no date") from None
    if when < now - MAX_SKEW:
        raise SigV4Error(
            Refusal.EXPIRED,
            f"Signature expired: {amz_date[0]} is now earlier than "
            f"{(now - MAX_SKEW):%Y%m%dT%H%M%SZ} ({now:%Y%m%dT%H%M%SZ} - 5 min.)",
        )
    if when > now + MAX_SKEW:
        raise SigV4Error(
            Refusal.EXPIRED,
            f"Signature not yet current: {amz_date[0]} is still later than "
            f"{(now + MAX_SKEW):%Y%m%dT%H%M%SZ} ({now:%Y%m%dT%H%M%SZ} + 5 min.)",
        )
    body_hash = hashlib.sha256(request.body).hexdigest()
    claimed = request.header("x-amz-content-sha256")
    if claimed and (len(claimed) > 1 or claimed[0] != body_hash):
        raise SigV4Error(Refusal.MISMATCH, "The provided 'x-amz-content-sha256' header does not match")
    return Claim(
        key_id, amz_date[0], f"{date}/{region}/{service}/aws4_request", region, signed, sig, body_hash
    )


def _canonical_path(path: str) -> str:
    """Dot segments and empty segments removed, then each byte percent-encoded once more (AWS
    encodes the already encoded path again for every service but S3)."""
    segments: list[str] = []
    for seg in path.split("/"):
        if seg == "..":
            if segments:
                segments.pop()
        elif seg and seg != ".":
            segments.append(seg)
    out = "/" + "/".join(segments)
    if path.endswith("/") and segments:
        out += "/"
    return quote(out, safe="/~")


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    pairs = []
    for item in query.split("&"):
        key, _, value = item.partition("=")
        pairs.append((quote(unquote(key), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def canonical_request(request: Request, signed_headers: Sequence[str], payload_hash: str) -> str:
    headers = "".join(
        f"{name}:{','.join(' '.join(v.split()) for v in request.header(name))}\n" for name in signed_headers
    )
    return "\n".join(
        (
            request.method.upper(),
            _canonical_path(request.path),
            _canonical_query(request.query),
            headers,
            ";".join(signed_headers),
            payload_hash,
        )
    )


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


@lru_cache(maxsize=1024)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The day's key for a region and service (cached: it changes once a day per key)."""
    key = hmac.digest(("AWS4" + secret).encode(), date.encode(), "sha256")
    for part in (region, service, "aws4_request"):
        key = hmac.digest(key, part.encode("utf-8", "surrogateescape"), "sha256")
    return key


def signature(secret: str, claim: Claim, request: Request) -> str:
    """The signature ``secret`` gives ``request`` for what ``claim`` says was signed."""
    date, region, service, _ = claim.scope.split("/")
    canonical = canonical_request(request, claim.signed_headers, claim.payload_hash)
    text = string_to_sign(claim.amz_date, claim.scope, canonical)
    return hmac.new(signing_key(secret, date, region, service), text.encode(), "sha256").hexdigest()


def check_signature(secret: str, claim: Claim, request: Request) -> None:
    """SigV4Error(MISMATCH) unless the claim's signature is the one ``secret`` gives."""
    if not hmac.compare_digest(signature(secret, claim, request), claim.signature):
        raise SigV4Error(
            Refusal.MISMATCH,
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service documentation "
            "for details.",
        )
