"""DKIM (RFC 6376) through dkimpy: verify every signature of a message, sign, make keys.

dkimpy asks DNS through a ``dnsfunc``; ours goes through the injected resolver and returns
``str`` (multi-string TXT joined). A DNS timeout must not look like "no key": the function
raises a private exception dkimpy does not catch, and the signature's result is ``temperror``.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import dkim as dkimpy
import dns.resolver

from mailfate.errors import ConfigError, InputError
from mailfate.mailauth.dns import DnsStatus, Lookup, lookup_txt, make_resolver

__all__ = [
    "DEFAULT_SIGNED_HEADERS",
    "DkimResult",
    "generate_key",
    "sign_dkim",
    "verify_dkim",
    "verify_dkim_async",
]

DkimVerdict = Literal["pass", "fail", "none", "temperror", "permerror"]

DEFAULT_SIGNED_HEADERS: tuple[str, ...] = (
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "Reply-To",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
)

_QUIET = logging.getLogger("mailfate.mailauth.dkim.dkimpy")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


@dataclass(frozen=True, slots=True)
class DkimResult:
    """The verdict on one DKIM-Signature (or ``none`` when the message has none)."""

    result: DkimVerdict
    domain: str = ""
    """The signing domain (``d=``)."""
    selector: str = ""
    """``s=``"""
    reason: str = ""

    @property
    def passed(self) -> bool:
        return self.result == "pass"


class _DnsTemporary(Exception):
    """Raised inside dkimpy's key lookup; dkimpy lets it through (it only catches its own)."""


def _dnsfunc(resolver: dns.resolver.Resolver, seen: dict[str, Lookup]) -> Callable[..., str]:
    def dnsfunc(name: bytes | str, timeout: float = 5) -> str:
        text = name.decode("ascii", "replace") if isinstance(name, bytes) else name
        text = text.rstrip(".")
        answer = lookup_txt(resolver, text)
        seen[text] = answer
        if answer.status is DnsStatus.TEMPERROR:
            raise _DnsTemporary(f"{text}: {answer.error}")
        keys = [r for r in answer.records if "p=" in r]
        return (keys or list(answer.records) or [""])[0]

    return dnsfunc


def _tag(value: bytes, tag: str) -> str:
    match = re.search(rb"(?:^|;)\s*" + tag.encode() + rb"\s*=\s*([^;]*)", value)
    if match is None:
        return ""
    return re.sub(rb"\s+", b"", match.group(1)).decode("ascii", "replace")


def verify_dkim(message: bytes, resolver: dns.resolver.Resolver | None) -> list[DkimResult]:
    """One :class:`DkimResult` per DKIM-Signature, top first; ``[none]`` for an unsigned message.

    Never raises for any input: a malformed message or signature is a ``permerror`` result.
    """
    resolver = resolver or make_resolver(None)
    try:
        verifier = dkimpy.DKIM(message, logger=_QUIET)
    except Exception as exc:  # dkimpy's parser raises assorted errors on garbage
        return [DkimResult("permerror", reason=f"unparsable message: {exc}")]
    signatures = [value for name, value in verifier.headers if name.lower() == b"dkim-signature"]
    if not signatures:
        return [DkimResult("none", reason="no DKIM-Signature")]
    return [_verify_one(message, index, value, resolver) for index, value in enumerate(signatures)]


def _verify_one(message: bytes, index: int, header: bytes, resolver: dns.resolver.Resolver) -> DkimResult:
    domain, selector = _tag(header, "d").lower(), _tag(header, "s")
    seen: dict[str, Lookup] = {}
    try:
        verifier = dkimpy.DKIM(message, logger=_QUIET)
        ok = verifier.verify(idx=index, dnsfunc=_dnsfunc(resolver, seen))
    except _DnsTemporary as exc:
        return DkimResult("temperror", domain, selector, f"key lookup failed: {exc}")
    except dkimpy.ValidationError as exc:
        text = str(exc)
        verdict: DkimVerdict = "fail" if "body hash mismatch" in text else "permerror"
        return DkimResult(verdict, domain, selector, text)
    except dkimpy.DKIMException as exc:
        return DkimResult("permerror", domain, selector, str(exc) or type(exc).__name__)
    except Exception as exc:  # dkimpy on hostile input: never let it escape
        return DkimResult("permerror", domain, selector, f"{type(exc).__name__}: {exc}")
    if ok:
        return DkimResult("pass", domain, selector, "signature verified")
    key = next(iter(seen.values()), None)
    if key is not None and not key.records:
        return DkimResult("permerror", domain, selector, f"no key at {selector}._domainkey.{domain}")
    if key is None:
        return DkimResult("permerror", domain, selector, "signature not checked")
    return DkimResult("fail", domain, selector, "signature did not verify")


async def verify_dkim_async(message: bytes, resolver: dns.resolver.Resolver | None) -> list[DkimResult]:
    """:func:`verify_dkim` in a worker thread."""
    return await asyncio.to_thread(verify_dkim, message, resolver)


def sign_dkim(
    message: bytes,
    domain: str,
    selector: str,
    private_key_pem: bytes | str,
    *,
    headers: Sequence[str] | None = None,
) -> bytes:
    """``message`` with a ``DKIM-Signature`` (rsa-sha256, relaxed/relaxed) prepended.

    ``headers``: the fields to sign (default :data:`DEFAULT_SIGNED_HEADERS` present in the
    message; From is always signed). ``InputError`` for a bad key or message.
    """
    key = private_key_pem.encode("ascii") if isinstance(private_key_pem, str) else private_key_pem
    wanted = list(headers) if headers is not None else list(DEFAULT_SIGNED_HEADERS)
    if not any(h.lower() == "from" for h in wanted):
        wanted.insert(0, "From")
    try:
        signer = dkimpy.DKIM(message, logger=_QUIET)
        present = {bytes(name).decode("ascii", "replace").lower() for name, _ in signer.headers}
        include = [h.lower().encode("ascii") for h in wanted if h.lower() in present or headers is not None]
        signature = signer.sign(
            selector.encode("ascii"),
            domain.encode("ascii"),
            key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=include,
        )
    except (dkimpy.DKIMException, UnicodeError, ValueError) as exc:
        raise InputError(f"cannot DKIM-sign for {domain} ({selector}): {exc}") from exc
    return bytes(signature) + message


def generate_key(bits: int = 2048) -> tuple[bytes, str]:
    """A new RSA key: ``(private key PEM, DNS TXT value "v=DKIM1; k=rsa; p=…")``.

    Uses the ``openssl`` command (ConfigError when it is missing).
    """
    if bits < 1024:
        raise InputError(f"DKIM keys under 1024 bits are refused by verifiers (asked {bits})")
    openssl = shutil.which("openssl")
    if openssl is None:
        raise ConfigError("generating DKIM keys needs the openssl command: install openssl")
    try:
        private = subprocess.run(
            [openssl, "genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits}"],
            capture_output=True,
            check=True,
            timeout=120,
        ).stdout
        public_der = subprocess.run(
            [openssl, "pkey", "-pubout", "-outform", "DER"],
            input=private,
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    except (subprocess.SubprocessError, OSError) as exc:
        raise ConfigError(f"openssl could not generate a DKIM key: {exc}") from exc
    return private, f"v=DKIM1; k=rsa; p={base64.b64encode(public_der).decode('ascii')}"


def txt_strings(value: str, size: int = 255) -> list[str]:
    """``value`` cut into ≤255-byte TXT strings (a 2048-bit key does not fit in one)."""
    return [value[i : i + size] for i in range(0, len(value), size)] or [""]
