"""Who is calling the SES endpoint: the SigV4 signature (:mod:`.sigv4`) checked against the key
its access key id names (:mod:`.ses_keys`), then the key's scope.

The server secret the AWS keys derive from is ``app.state.aws_master`` (set by the composition
root, :mod:`mailfate.runtime.serve`, from ``<data_dir>/aws.key``); without it every signed request
is refused as an unknown key. The key itself comes through the API's :class:`~.keys.KeyCache`
(a revoked key stops within its few seconds), found by the derived secret's hash and held to the
access key id the client named.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Request, Response

from mailfate.errors import InputError
from mailfate.intake.api import sigv4
from mailfate.intake.api.ses_keys import KEY_ID, secret_for
from mailfate.intake.api.state import state_of
from mailfate.model import ApiKey
from mailfate.submit.service import SuppressedError

__all__ = ["Dialect", "ScopeError", "SesError", "answer", "authenticate", "signed_request"]

_UNKNOWN = "The security token included in the request is invalid."


class ScopeError(Exception):
    """A known key without the operation's scope (SES's AccessDenied)."""


class SesError(Exception):
    """A refusal with SES's own status and error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one SES API version names and renders a refusal (v1: Query API, XML; v2: REST, JSON)."""

    render: Callable[[int, str, str], Response]
    refused: Mapping[sigv4.Refusal, str]  # a signature that does not hold
    access_denied: str  # a key without the scope
    bad_input: str  # a parameter out of shape


async def answer(dialect: Dialect, run: Callable[[], Awaitable[Response]]) -> Response:
    """``run()``'s response, or its refusal in the dialect's shape (what boto3 and the SDKs parse)."""
    try:
        return await run()
    except sigv4.SigV4Error as exc:
        return dialect.render(403, dialect.refused[exc.refusal], exc.message)
    except ScopeError as exc:
        return dialect.render(403, dialect.access_denied, str(exc))
    except SesError as exc:
        return dialect.render(exc.status, exc.code, exc.message)
    except SuppressedError as exc:
        return dialect.render(400, "MessageRejected", str(exc))
    except InputError as exc:
        return dialect.render(400, dialect.bad_input, str(exc))


def signed_request(request: Request, body: bytes) -> sigv4.Request:
    """The request as it arrived on the wire (path and query still encoded)."""
    scope = request.scope
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    headers = [(k.decode("latin-1"), v.decode("utf-8", "surrogateescape")) for k, v in scope["headers"]]
    return sigv4.Request(
        method=request.method,
        path=raw_path.decode("utf-8", "surrogateescape").partition("?")[0],
        query=scope.get("query_string", b"").decode("utf-8", "surrogateescape"),
        headers=headers,
        body=body,
    )


async def authenticate(request: Request, body: bytes, scope: str) -> ApiKey:
    """The caller's key: SigV4Error when the signature does not hold, ScopeError without ``scope``."""
    signed = signed_request(request, body)
    claim = sigv4.parse_claim(signed, datetime.now(UTC))
    master: bytes | None = getattr(request.app.state, "aws_master", None)
    if master is None or not KEY_ID.fullmatch(claim.key_id):
        raise sigv4.SigV4Error(sigv4.Refusal.UNKNOWN_KEY, _UNKNOWN)
    secret = secret_for(master, claim.key_id)
    key = await state_of(request).keys.lookup(secret)
    if key is None or key.prefix != claim.key_id:
        raise sigv4.SigV4Error(sigv4.Refusal.UNKNOWN_KEY, _UNKNOWN)
    sigv4.check_signature(secret, claim, signed)
    if not key.allows(scope):
        raise ScopeError(f"access key {key.prefix} has no {scope!r} scope")
    return key
