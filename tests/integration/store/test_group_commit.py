"""Group commit: threads that submit at once share a transaction, and each gets its own answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from mailfate.errors import InputError
from mailfate.model import NewMessage, NewSuppression, SubmitResult
from mailfate.store import Store
from mailfate.store.group import GroupCommit

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def test_a_lone_caller_commits_alone_and_at_once() -> None:
    seen: list[list[str]] = []

    def write(batch: Sequence[str], nows: Sequence[datetime]) -> list[str | Exception]:
        seen.append(list(batch))
        return [m.upper() for m in batch]

    group: GroupCommit[str, str] = GroupCommit(write)
    assert [group.submit(m, NOW) for m in "abc"] == ["A", "B", "C"]
    assert seen == [["a"], ["b"], ["c"]]


def test_concurrent_callers_share_batches_and_errors_stay_with_their_message() -> None:
    batches: list[int] = []

    def write(batch: Sequence[int], nows: Sequence[datetime]) -> list[int | Exception]:
        time.sleep(0.005)  # a commit's fsync
        batches.append(len(batch))
        return [ValueError(f"bad {n}") if n % 7 == 0 else n * 10 for n in batch]

    group: GroupCommit[int, int] = GroupCommit(write, max_batch=8)

    def call(n: int) -> int | str:
        try:
            return group.submit(n, NOW)
        except ValueError as exc:
            return str(exc)

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(call, range(1, 201)))
    assert results == [f"bad {n}" if n % 7 == 0 else n * 10 for n in range(1, 201)]
    assert sum(batches) == 200 and max(batches) <= 8
    assert len(batches) < 100  # shared: far fewer commits than submits


def test_a_failed_transaction_fails_each_of_its_callers_and_the_next_batch_still_runs() -> None:
    gate = threading.Event()
    calls = 0

    def write(batch: Sequence[str], nows: Sequence[datetime]) -> list[str | Exception]:
        nonlocal calls
        calls += 1
        if calls == 1:
            gate.wait(5)  # the others queue behind this one
            raise OSError("disk full")
        return list(batch)

    group: GroupCommit[str, str] = GroupCommit(write)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(group.submit, "first", NOW)
        time.sleep(0.05)
        rest = [pool.submit(group.submit, m, NOW) for m in ("x", "y", "z")]
        time.sleep(0.05)
        gate.set()
        with pytest.raises(OSError, match="disk full"):
            first.result(5)
        assert sorted(f.result(5) for f in rest) == ["x", "y", "z"]  # the lead passed on


@pytest.fixture
def store(store_url: str) -> Store:
    return Store.open(store_url)


def test_threads_submitting_at_once_each_get_their_message_in_fewer_transactions(store: Store) -> None:
    def send(i: int) -> SubmitResult:
        key = f"signup-{i % 150}"  # 50 retries of a key another thread may be sending right now
        return store.queue.submit(
            NewMessage("no-reply@app.example", (f"u{i}@example.org",), b"x", idempotency_key=key), NOW
        )

    try:
        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(send, range(200)))
        by_key: dict[str, set[str]] = {}
        for i, r in enumerate(results):
            by_key.setdefault(f"signup-{i % 150}", set()).add(r.message_id)
        assert all(len(ids) == 1 for ids in by_key.values())  # one message per key
        assert sum(r.created for r in results) == 150
        assert store.stats.counts().get("queued", 0) == 150
        assert store.queue.submit_transactions < 200
        with pytest.raises(InputError, match="recipient"):
            store.queue.submit(NewMessage("no-reply@app.example", (), b"x"), NOW)
    finally:
        store.close()


def test_a_batch_keeps_each_message_s_keys_and_suppressions(store: Store) -> None:
    try:
        store.suppressions.suppress(NewSuppression("app.example", "gone@example.org", "userunknown"), at=NOW)
        store.suppressions.suppress(NewSuppression("*", "complainer@example.org", "complaint"), at=NOW)
        store.suppressions.suppress(
            NewSuppression("other.example", "elsewhere@example.org", "userunknown"), at=NOW
        )
        first = store.queue.submit(
            NewMessage("a@app.example", ("x@example.org",), b"x", idempotency_key="k0"), NOW
        )

        def msg(to: tuple[str, ...], key: str | None = None) -> NewMessage:
            return NewMessage("no-reply@app.example", to, b"x", idempotency_key=key)

        batch = [
            msg(("gone@example.org", "ok@example.org")),
            msg(("complainer@example.org",)),
            msg(("elsewhere@example.org",)),  # suppressed for another sending domain only
            msg(("y@example.org",), key="k0"),  # sent before
            msg(("z@example.org",), key="k1"),
            msg(("z@example.org",), key="k1"),  # the same key twice in one batch
        ]
        results = store.queue.submit_many(batch, NOW)
        assert all(isinstance(r, SubmitResult) for r in results)
        r = [x for x in results if isinstance(x, SubmitResult)]
        assert [a for a, *_ in r[0].suppressed] == ["gone@example.org"]
        assert [(a, why) for a, why, _ in r[1].suppressed] == [("complainer@example.org", "complaint")]
        assert r[2].suppressed == () and r[2].created
        assert (r[3].message_id, r[3].created) == (first.message_id, False)
        assert r[4].created and (r[5].message_id, r[5].created) == (r[4].message_id, False)
        view = store.messages.message(r[0].message_id)
        assert view is not None
        assert sorted((x.address, x.fate) for x in view.recipients) == [
            ("gone@example.org", "suppressed"),
            ("ok@example.org", "queued"),
        ]
        assert {e.type for e in view.events} == {"queued", "suppressed"}
    finally:
        store.close()
