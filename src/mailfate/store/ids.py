"""Message ids: ``m`` + 26 lowercase Crockford base32 characters (48-bit milliseconds, 80 random
bits) — time-sortable, unguessable, safe in a VERP local part and a URL."""

from __future__ import annotations

import os
import time

__all__ = ["new_message_id"]

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def new_message_id(now_ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms & (2**48 - 1)) << 80 | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "m" + "".join(reversed(chars))
