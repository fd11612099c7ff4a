"""API keys as the HTTP API sees them: a short-lived cache in front of the store's lookup."""

import asyncio
import time

from mailfate.intake.ports import KeyRepository
from mailfate.model.keys import ApiKey, hash_key

__all__ = ["KEY_CACHE_SECONDS", "KeyCache"]

KEY_CACHE_SECONDS = 5.0
"""How long the API trusts a key lookup: a revoked key stops working within this time."""


class KeyCache:
    """The key for a secret, from the store at most every ``ttl`` seconds (a revocation takes that
    long), kept by the secret's hash; the whole cache is dropped past ``limit`` entries."""

    def __init__(self, store: KeyRepository, *, ttl: float = KEY_CACHE_SECONDS, limit: int = 10_000) -> None:
        self.store = store
        self.ttl = ttl
        self.limit = limit
        self._keys: dict[str, tuple[float, ApiKey | None]] = {}

    async def lookup(self, secret: str) -> ApiKey | None:
        digest = hash_key(secret)
        hit = self._keys.get(digest)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        found = await asyncio.to_thread(self.store.find_key, secret)
        if len(self._keys) > self.limit:
            self._keys.clear()
        self._keys[digest] = (time.monotonic() + self.ttl, found)
        return found
