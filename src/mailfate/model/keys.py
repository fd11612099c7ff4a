"""API keys as values: their scopes, a key's record (never the key itself) and the hash it is found by.

A key is ``mf_`` + 40 characters of base32 (200 random bits): far too much entropy for a guess,
so a plain SHA-256 (not a slow password hash) is the right storage, as for other API tokens.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

__all__ = ["SCOPES", "ApiKey", "hash_key"]

SCOPES = ("send", "read", "admin")


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    name: str
    prefix: str
    scopes: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None

    def allows(self, scope: str) -> bool:
        """Whether the key may call a route of ``scope`` (``admin`` may call every route)."""
        return scope in self.scopes or "admin" in self.scopes


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()
