"""DKIM signing for outgoing mail: one key per sending domain, one signature per message.

Keys live in a directory as ``<domain>/<selector>.pem`` (RSA private keys); a domain with no key
is sent unsigned. A key for ``example.com`` does not sign mail from ``mail.example.com``: give that
domain its own folder. Signing itself is :func:`mailfate.mailauth.dkim.sign_dkim` (dkimpy parses and
canonicalizes, ``cryptography`` signs: rsa-sha256 or ed25519-sha256, relaxed/relaxed, about 0.35 ms
per message); :func:`mailfate.mailauth.dkim.generate_key` makes a key and the TXT record to publish
at ``<selector>._domainkey.<domain>``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mailfate.errors import ConfigError, InputError
from mailfate.mailauth.dkim import sign_dkim

__all__ = ["DkimKey", "DkimSigner"]


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
        try:
            return sign_dkim(raw, key.domain, key.selector, key.private_key)
        except InputError as exc:
            raise ConfigError(f"DKIM key {key.selector} for {key.domain}: {exc}") from exc
