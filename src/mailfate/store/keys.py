"""API keys: made here, shown once, stored as SHA-256 hashes with their scopes.

A key is ``mf_`` + 40 characters of base32 (200 random bits): far too much entropy for a guess,
so a plain SHA-256 (not a slow password hash) is the right storage, as for other API tokens; the
lookup is by hash, so no key is ever compared in Python.

An AWS key (``mailfate keys create --aws``) is stored the same way: its secret is derived from a
server secret and its access key id (the ``prefix``), never stored (:meth:`Keys.add_key`).
"""

from __future__ import annotations

import base64
import os
from datetime import datetime

from sqlalchemy import select, update

from mailfate.errors import InputError
from mailfate.model.keys import SCOPES, ApiKey, hash_key
from mailfate.store.database import Repository
from mailfate.store.tables import api_keys

__all__ = ["SCOPES", "ApiKey", "Keys", "hash_key"]


class Keys(Repository):
    """API keys: made, found, listed, revoked."""

    def create_key(self, scopes: set[str] | frozenset[str], *, at: datetime, name: str = "") -> str:
        """A new key (returned once, never stored in clear)."""
        unknown = set(scopes) - set(SCOPES)
        if not scopes or unknown:
            raise InputError(
                f"scopes: one or more of {', '.join(SCOPES)}"
                + (f"; not {sorted(unknown)}" if unknown else "")
            )
        key = "mf_" + base64.b32encode(os.urandom(25)).decode("ascii").lower()
        self.add_key(key, prefix=key[:10], scopes=scopes, at=at, name=name)
        return key

    def add_key(
        self, key: str, *, prefix: str, scopes: set[str] | frozenset[str], at: datetime, name: str = ""
    ) -> None:
        """Store a key made elsewhere by its hash, found again by ``prefix`` (``keys list``,
        ``keys revoke``): an AWS key's secret is derived from its access key id, which is its
        prefix (:mod:`mailfate.intake.api.ses_keys`)."""
        unknown = set(scopes) - set(SCOPES)
        if not scopes or unknown or not 0 < len(prefix) <= 16:
            raise InputError(
                f"a key needs a prefix of 1 to 16 characters and scopes from {', '.join(SCOPES)}"
            )
        with self.engine.begin() as conn:
            conn.execute(
                api_keys.insert().values(
                    name=name,
                    prefix=prefix,
                    hash=hash_key(key),
                    scopes=",".join(sorted(scopes)),
                    created_at=at,
                )
            )

    def find_key(self, key: str) -> ApiKey | None:
        """The key's record when it exists and is not revoked."""
        with self.reader.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.hash == hash_key(key))).one_or_none()
        if row is None or row.revoked_at is not None:
            return None
        return ApiKey(
            row.id, row.name, row.prefix, frozenset(row.scopes.split(",")), row.created_at, row.revoked_at
        )

    def find_key_by_id(self, key_id: int) -> tuple[ApiKey, str] | None:
        """The key's record and its stored hash when it exists and is not revoked.

        The dashboard signs its session cookies with the stored hash (:mod:`mailfate.web.session`):
        a revoked key's sessions end with it.
        """
        if not 0 < key_id < 2**63:
            return None
        with self.reader.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).one_or_none()
        if row is None or row.revoked_at is not None:
            return None
        key = ApiKey(
            row.id, row.name, row.prefix, frozenset(row.scopes.split(",")), row.created_at, row.revoked_at
        )
        return key, str(row.hash)

    def list_keys(self) -> list[ApiKey]:
        with self.reader.connect() as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.id)).all()
        return [
            ApiKey(r.id, r.name, r.prefix, frozenset(r.scopes.split(",")), r.created_at, r.revoked_at)
            for r in rows
        ]

    def revoke_key(self, prefix: str, *, at: datetime) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(api_keys)
                .where(api_keys.c.prefix == prefix, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
        return bool(result.rowcount)
