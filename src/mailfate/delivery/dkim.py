"""DKIM signing (dkimpy): one key per sending domain, one signature per message.

Keys live in a directory as ``<domain>/<selector>.pem`` (PKCS#1 or PKCS#8 RSA private keys); a
domain with no key is sent unsigned. A key for ``example.com`` does not sign mail from
``mail.example.com``: give that domain its own folder. ``generate_key`` makes a key and the TXT
record to publish at ``<selector>._domainkey.<domain>``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import dkim

from mailfate.errors import ConfigError

__all__ = ["SIGNED_HEADERS", "DkimKey", "DkimSigner", "generate_key"]

SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"content-type",
    b"reply-to",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
)


@dataclass(frozen=True, slots=True)
class DkimKey:
    domain: str
    selector: str
    private_key: bytes


class DkimSigner:
    def __init__(self, keys: Iterable[DkimKey] = ()) -> None:
        self.keys = {k.domain.lower(): k for k in keys}

    @classmethod
    def from_directory(cls, path: Path) -> DkimSigner:
        if not path.is_dir():
            raise ConfigError(f"dkim.keys = {path}: not a directory of <domain>/<selector>.pem")
        keys = []
        for pem in sorted(path.glob("*/*.pem")):
            data = pem.read_bytes()
            if b"PRIVATE KEY" not in data:
                raise ConfigError(f"{pem}: not a PEM private key")
            keys.append(DkimKey(pem.parent.name.lower(), pem.stem, data))
        return cls(keys)

    def sign(self, raw: bytes, domain: str) -> bytes:
        """``raw`` with a DKIM-Signature header prepended, or unchanged when ``domain`` has no key."""
        key = self.keys.get(domain.lower())
        if key is None:
            return raw
        present = {
            line.split(b":", 1)[0].strip().lower() for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
        }
        headers = [h for h in SIGNED_HEADERS if h in present]
        try:
            signature = dkim.sign(
                raw,
                key.selector.encode(),
                key.domain.encode(),
                key.private_key,
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=headers,
            )
        except dkim.DKIMException as exc:
            raise ConfigError(f"DKIM key {key.selector} for {key.domain}: {exc}") from exc
        return bytes(signature) + raw


def generate_key(bits: int = 2048) -> tuple[bytes, str]:
    """(private key PEM, the TXT value to publish: ``v=DKIM1; k=rsa; p=...``)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode('ascii')}"
