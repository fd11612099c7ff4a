"""DKIM (RFC 6376) through dkimpy: verify every signature of a message, sign, make keys.

Signing uses dkimpy's parser and canonicalization and ``cryptography`` for the signature.

dkimpy asks DNS through a ``dnsfunc``; ours goes through the injected resolver and returns
``str`` (multi-string TXT joined). A DNS timeout must not look like "no key": the function
raises a private exception dkimpy does not catch, and the signature's result is ``temperror``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

import dkim as dkimpy
import dns.resolver
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from dkim.canonicalization import Relaxed

from mailfate.errors import ConfigError, InputError
from mailfate.mailauth.dns import DnsStatus, Lookup, lookup_txt, make_resolver
from mailfate.mailauth.threads import in_thread

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

_SigningKey: TypeAlias = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey

_FIELD = b"DKIM-Signature"
_NEVER_SIGNED = frozenset(bytes(name) for name in dkimpy.DKIM.SHOULD_NOT)  # RFC 6376 5.4.1
_DNS_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?", re.ASCII)
_FIELD_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")  # RFC 5322 ftext: printable, no colon
_WIDTH = 78  # columns of a folded DKIM-Signature line
_KEY_CACHE_SIZE = 64

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


verify_dkim_async = in_thread(verify_dkim)


def sign_dkim(
    message: bytes,
    domain: str,
    selector: str,
    private_key_pem: bytes | str,
    *,
    headers: Sequence[str] | None = None,
) -> bytes:
    """``message`` with a ``DKIM-Signature`` (relaxed/relaxed) prepended.

    rsa-sha256 with an RSA key, ed25519-sha256 (RFC 8463) with an Ed25519 key; either as an
    unencrypted PEM private key (PKCS#1 or PKCS#8). ``headers``: the fields to sign (default
    :data:`DEFAULT_SIGNED_HEADERS` present in the message; From is always signed; a name given
    twice signs two instances, bottom-up). ``InputError`` for a bad key or message.

    dkimpy parses and canonicalizes, ``cryptography`` signs: dkimpy's own RSA is pure Python
    (about 6.5 ms per RSA-2048 signature against 0.35 ms here). Each PEM is parsed once, then
    its key is cached.
    """
    pem = private_key_pem.encode("ascii") if isinstance(private_key_pem, str) else private_key_pem
    key = _signing_key(pem)
    if not (_DNS_NAME.fullmatch(domain) and _DNS_NAME.fullmatch(selector)):
        raise InputError(f"cannot DKIM-sign for {domain!r} ({selector!r}): not a domain and a selector")
    wanted = list(headers) if headers is not None else list(DEFAULT_SIGNED_HEADERS)
    if not any(h.lower() == "from" for h in wanted):
        wanted.insert(0, "From")
    bad = [h for h in wanted if not _FIELD_NAME.fullmatch(h)]
    if bad:
        raise InputError(f"cannot DKIM-sign header fields named {bad!r}")
    try:
        fields, body = dkimpy.rfc822_parse(message)
    except (dkimpy.DKIMException, IndexError) as exc:  # IndexError: a folded line before any field
        raise InputError(f"cannot DKIM-sign for {domain} ({selector}): not a message ({exc!r})") from exc
    include = [h.lower().encode("ascii") for h in wanted]
    if headers is None:
        present = {bytes(name).lower() for name, _ in fields}
        include = [h for h in include if h in present]
        if b"from" not in include:
            raise InputError(f"cannot DKIM-sign for {domain} ({selector}): the message has no From")
    refused = sorted(set(include) & _NEVER_SIGNED)
    if refused:
        raise InputError(f"the {refused[0].decode()} header field must not be DKIM-signed")

    ascii_domain = domain.encode("ascii")
    algorithm = b"ed25519-sha256" if isinstance(key, ed25519.Ed25519PrivateKey) else b"rsa-sha256"
    body_hash = hashlib.sha256(Relaxed.canonicalize_body(body)).digest()
    tags = [
        b"v=1",
        b"a=" + algorithm,
        b"c=relaxed/relaxed",
        b"d=" + ascii_domain,
        b"i=@" + ascii_domain,
        b"q=dns/txt",
        b"s=" + selector.encode("ascii"),
        b"t=%d" % int(time.time()),
        b"h=" + b" : ".join(include),
        b"bh=" + base64.b64encode(body_hash),
    ]
    # b= starts a line of its own, as dkimpy does: refolding by a relay then leaves the tags
    # before it alone. Its value and the white space inside it are left out of the hash.
    value = _fold(tags) + b";\r\n b="
    # RFC 6376 3.7: the signed fields (each name bottom-up) then this field with b= empty and no
    # final CRLF, all in relaxed form, as the verifier will rebuild them.
    signed = Relaxed.canonicalize_headers([*dkimpy.select_headers(fields, include), (_FIELD, value)])
    data = b"".join(name + b":" + text for name, text in signed).removesuffix(b"\r\n")
    try:
        if isinstance(key, ed25519.Ed25519PrivateKey):
            signature = key.sign(hashlib.sha256(data).digest())  # RFC 8463: Ed25519 over the SHA-256
        else:
            signature = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    except ValueError as exc:  # an RSA modulus too short for a SHA-256 DigestInfo
        raise InputError(f"cannot DKIM-sign for {domain} ({selector}): {exc}") from exc
    return _FIELD + b":" + value + _fold_b64(base64.b64encode(signature)) + b"\r\n" + message


@functools.lru_cache(maxsize=_KEY_CACHE_SIZE)
def _signing_key(pem: bytes) -> _SigningKey:
    """The key in ``pem``, parsed once: a worker signs every message with the same few keys."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:  # TypeError: encrypted key
        raise InputError(f"not a usable unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise InputError(f"DKIM signs with RSA or Ed25519 keys, not {type(key).__name__}")
    return key


def _fold(tags: list[bytes]) -> bytes:
    """``tags`` as a header value (with its leading space), folded at spaces only."""
    lines = [b""]
    column = len(_FIELD) + 1
    for word in b"; ".join(tags).split(b" "):
        if lines[-1] and column + 1 + len(word) > _WIDTH:
            lines.append(b"")
            column = 0
        lines[-1] += b" " + word
        column += 1 + len(word)
    return b"\r\n".join(lines)


def _fold_b64(text: bytes) -> bytes:
    """The b= value that follows ``" b="``, folded into lines of :data:`_WIDTH` columns."""
    first = _WIDTH - len(b" b=")
    rest = [text[i : i + _WIDTH - 1] for i in range(first, len(text), _WIDTH - 1)]
    return b"\r\n ".join([text[:first], *rest])


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
