"""VERP addresses: the envelope sender names the message and the recipient, with an HMAC tag.

``b-<message id>-<recipient id in base 32>-<tag>@<verp domain>``, all lowercase base32 so that a
receiver that changes the case of the local part does not break it; the tag is the first 13
base32 characters (65 bits) of HMAC-SHA256 over ``message id:recipient id``. A bounce addressed
to anything else — a forged or mangled address — decodes to None.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

__all__ = ["VerpCodec"]

_B32 = "abcdefghijklmnopqrstuvwxyz234567"
_MESSAGE_ID = re.compile(r"^m[0-9a-hjkmnp-tv-z]{26}$")


def _b32(value: int) -> str:
    out = []
    while True:
        out.append(_B32[value & 31])
        value >>= 5
        if not value:
            return "".join(reversed(out))


def _unb32(text: str) -> int | None:
    value = 0
    for ch in text:
        i = _B32.find(ch)
        if i < 0:
            return None
        value = value * 32 + i
    return value


class VerpCodec:
    def __init__(self, secret: bytes, domain: str, prefix: str = "b") -> None:
        if len(secret) < 16:
            raise ValueError("VERP secret: at least 16 bytes")
        self.secret = secret
        self.domain = domain.lower().rstrip(".")
        self.prefix = prefix.lower()

    def _tag(self, message_id: str, recipient_id: int) -> str:
        mac = hmac.new(self.secret, f"{message_id}:{recipient_id}".encode(), hashlib.sha256).digest()
        return base64.b32encode(mac).decode("ascii").lower()[:13]

    def encode(self, message_id: str, recipient_id: int) -> str:
        if not _MESSAGE_ID.fullmatch(message_id) or recipient_id < 0:
            raise ValueError(f"not a store message id / recipient id: {message_id!r}, {recipient_id!r}")
        local = f"{self.prefix}-{message_id}-{_b32(recipient_id)}-{self._tag(message_id, recipient_id)}"
        return f"{local}@{self.domain}"

    def decode(self, address: str) -> tuple[str, int] | None:
        if not isinstance(address, str) or len(address) > 320:
            return None
        local, at, domain = address.strip().strip("<>").rpartition("@")
        if not at or domain.lower().rstrip(".") != self.domain:
            return None
        parts = local.lower().split("-")
        if len(parts) != 4 or parts[0] != self.prefix or not _MESSAGE_ID.fullmatch(parts[1]):
            return None
        if not 1 <= len(parts[2]) <= 13:
            return None
        recipient_id = _unb32(parts[2])
        if recipient_id is None or not hmac.compare_digest(parts[3], self._tag(parts[1], recipient_id)):
            return None
        return parts[1], recipient_id
