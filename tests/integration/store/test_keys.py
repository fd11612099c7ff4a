"""API keys by id: what the dashboard's session cookie needs (the record and its stored hash)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from mailfate.store import Store
from mailfate.store.keys import hash_key

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store.open(store_url)
    yield s
    s.close()


def test_a_key_by_id_gives_its_record_and_stored_hash_until_it_is_revoked(store: Store) -> None:
    key = store.keys.create_key({"read"}, at=NOW, name="dash")
    record = store.keys.find_key(key)
    assert record is not None
    found = store.keys.find_key_by_id(record.id)
    assert found is not None
    assert found[0] == record and found[0].scopes == frozenset({"read"})
    assert found[1] == hash_key(key)
    for missing in (record.id + 1, 0, -1, 2**63, 2**63 - 1):
        assert store.keys.find_key_by_id(missing) is None
    assert store.keys.revoke_key(key[:10], at=NOW)
    assert store.keys.find_key_by_id(record.id) is None
