"""The store on SQLite and PostgreSQL: submit, claim with leases, results, late reports, suppressions."""

from __future__ import annotations

import functools
import itertools
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from mailfate.errors import InputError
from mailfate.model import (
    AttemptRecord,
    AttemptResult,
    EventType,
    Fate,
    Hold,
    NewEvent,
    NewMessage,
    NewSuppression,
    fate_of,
    fold_step,
)
from mailfate.store import Store, StoreError
from mailfate.store.sqlite_writes import claim_sqlite

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
OK = AttemptResult("delivered", 250, "2.0.0", "Ok: queued as ABC", "delivered", False)
GREY = AttemptResult("deferred", 451, "4.7.1", "Greylisted", "spamdetected", False)
UNKNOWN = AttemptResult("bounced", 550, "5.1.1", "User unknown", "userunknown", True)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store.open(store_url)
    yield s
    s.close()


def new(*to: str, key: str | None = None, deadline: datetime | None = None) -> NewMessage:
    return NewMessage(
        "no-reply@app.example",
        to,
        b"Subject: x\r\n\r\nbody\r\n",
        subject="x",
        idempotency_key=key,
        deadline=deadline,
    )


def consistent(store: Store, message_id: str) -> None:
    """The cached fate of every recipient is the fold of its events."""
    view = store.messages.message(message_id)
    assert view is not None
    for r in view.recipients:
        evs = [fold_step(e.type, e.data) for e in view.events if e.recipient_id == r.id]
        if r.fate != "sending":
            assert fate_of(evs) == r.fate, (r, evs)


def test_submit_queues_every_recipient_once_and_idempotency_returns_the_same_message(store: Store) -> None:
    first = store.queue.submit(new("Kim@Naver.TEST", "Kim@naver.test", "lee@daum.test", key="signup-1"), NOW)
    again = store.queue.submit(new("other@x.test", key="signup-1"), NOW)
    assert first.created and not again.created and again.message_id == first.message_id
    view = store.messages.message(first.message_id)
    assert view is not None
    assert [r.address for r in view.recipients] == ["Kim@naver.test", "lee@daum.test"]
    assert [e.type for e in view.events] == ["queued", "queued"]
    assert view.fate == "queued" and bytes(store.queue.raw(first.message_id)).startswith(b"Subject: x")


def test_claim_leases_due_recipients_and_a_lost_lease_is_claimed_again(store: Store) -> None:
    mid = store.queue.submit(new("a@x.test", "b@y.test"), NOW).message_id
    claimed = store.queue.claim(10, now=NOW, lease=60, owner="w1")
    assert {c.address for c in claimed} == {"a@x.test", "b@y.test"} and all(c.attempts == 1 for c in claimed)
    assert store.queue.claim(10, now=NOW + timedelta(seconds=30), lease=60, owner="w2") == []
    again = store.queue.claim(10, now=NOW + timedelta(seconds=61), lease=60, owner="w2")  # w1 died
    assert {c.recipient_id for c in again} == {c.recipient_id for c in claimed}
    assert all(c.attempts == 2 and c.message_id == mid for c in again)


def test_two_workers_claiming_at_once_never_share_a_recipient(store: Store) -> None:
    for i in range(60):
        store.queue.submit(new(f"u{i}@x.test"), NOW)
    got: list[list[int]] = []
    barrier = threading.Barrier(3)

    def worker(name: str) -> None:
        barrier.wait()
        mine: list[int] = []
        while batch := store.queue.claim(7, now=NOW, lease=60, owner=name):
            mine += [c.recipient_id for c in batch]
        got.append(mine)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    flat = [rid for mine in got for rid in mine]
    assert len(flat) == 60 and len(set(flat)) == 60


def test_the_sqlite3_claim_reads_what_the_sqlalchemy_claim_reads(tmp_path: Path) -> None:
    """SQLite claims through the sqlite3 driver; PostgreSQL through SQLAlchemy. On twin stores
    (one SQLite file, copied) both claims lease the same recipients and read the same messages
    and suppressions: due and not yet due, deferred, a lost lease, a deadline, a suppression for
    one sending domain and one for all, an address in another case."""
    first = Store.open(tmp_path / "a.db")
    try:
        soon = NOW + timedelta(minutes=10)
        first.queue.submit(new("a@x.test", "B@Y.test", deadline=soon), NOW)
        first.queue.submit(new("c@z.test"), NOW + timedelta(seconds=5))
        first.queue.submit(new("later@x.test"), NOW + timedelta(hours=1))
        lost = first.queue.submit(new("lost@x.test"), NOW - timedelta(minutes=5)).message_id
        first.queue.claim(1, now=NOW - timedelta(minutes=5), lease=60, owner="gone")  # its lease ran out
        first.suppressions.suppress(NewSuppression("*", "b@y.test", "hard_bounce"), at=NOW)
        first.suppressions.suppress(NewSuppression("app.example", "c@z.test", "complaint"), at=NOW)
        first.suppressions.suppress(NewSuppression("other.example", "a@x.test", "complaint"), at=NOW)
        with (
            closing(sqlite3.connect(tmp_path / "a.db")) as one,
            closing(sqlite3.connect(tmp_path / "b.db")) as two,
        ):
            one.backup(two)
        second = Store.open(tmp_path / "b.db")
        try:
            at = NOW + timedelta(seconds=30)
            direct = first.db.sqlite_write(claim_sqlite, 10, at, 60.0, "w", what="claim from")
            through = second.queue._claim_rows(10, at, 60.0, "w")
        finally:
            second.close()
        assert sorted(direct[0]) == sorted(through[0])
        assert direct[1:] == through[1:]
        assert {row[2] for row in direct[0]} == {"a@x.test", "B@y.test", "c@z.test", "lost@x.test"}
        assert any(row[1] == lost and row[4] == 2 for row in direct[0])  # its second attempt
        scopes = {("*", "b@y.test"), ("app.example", "c@z.test"), ("other.example", "a@x.test")}
        assert set(direct[2]) == scopes
        assert {info[3] for info in direct[1].values()} == {soon, None}
    finally:
        first.close()


def test_results_move_fates_and_a_late_dsn_turns_delivered_into_bounced(store: Store) -> None:
    mid = store.queue.submit(new("a@x.test", "b@y.test", "c@z.test"), NOW).message_id
    a, b, c = sorted(store.queue.claim(10, now=NOW, lease=60, owner="w"), key=lambda x: x.address)
    later = NOW + timedelta(minutes=5)
    store.queue.record_attempts(
        [
            AttemptRecord(a.recipient_id, OK, NOW),
            AttemptRecord(b.recipient_id, GREY, NOW, later),
            AttemptRecord(c.recipient_id, UNKNOWN, NOW),
        ]
    )
    view = store.messages.message(mid)
    assert view is not None
    assert [(r.fate, r.last_code) for r in view.recipients] == [
        ("delivered", 250),
        ("deferred", 451),
        ("bounced", 550),
    ]
    assert view.fate == "deferred" and view.recipients[1].next_attempt_at == later
    assert store.queue.claim(10, now=NOW, lease=60, owner="w") == []
    assert [x.recipient_id for x in store.queue.claim(10, now=later, lease=60, owner="w")] == [b.recipient_id]
    store.messages.append_event(
        NewEvent(mid, a.recipient_id, EventType.BOUNCED, NOW, {"status": "5.1.1"}, reason="userunknown")
    )
    store.messages.append_event(
        NewEvent(mid, c.recipient_id, EventType.COMPLAINED, NOW)
    )  # not delivered: no complaint fate
    view = store.messages.message(mid)
    assert view is not None
    assert [r.fate for r in view.recipients] == ["bounced", "sending", "bounced"]
    consistent(store, mid)


def test_expiry_with_the_last_reason(store: Store) -> None:
    mid = store.queue.submit(new("a@x.test", deadline=NOW + timedelta(minutes=1)), NOW).message_id
    [a] = store.queue.claim(1, now=NOW, lease=60, owner="w")
    store.queue.record_attempts([AttemptRecord(a.recipient_id, GREY, NOW, None, expire=True)])
    view = store.messages.message(mid)
    assert view is not None
    assert view.fate == "expired" and [e.type for e in view.events] == ["queued", "attempt", "expired"]
    assert view.events[-1].data["last_reason"] == "spamdetected"
    consistent(store, mid)


def test_suppressed_recipients_are_refused_with_reason_and_date(store: Store) -> None:
    assert store.suppressions.suppress(NewSuppression("app.example", "Kim@naver.test", "userunknown"), at=NOW)
    assert not store.suppressions.suppress(
        NewSuppression("app.example", "kim@naver.test", "complaint"), at=NOW
    )
    store.suppressions.suppress(NewSuppression("*", "lee@daum.test", "complaint"), at=NOW)
    result = store.queue.submit(new("kim@naver.test", "lee@daum.test", "park@x.test"), NOW)
    assert [(a, r) for a, r, _ in result.suppressed] == [
        ("kim@naver.test", "userunknown"),
        ("lee@daum.test", "complaint"),
    ]
    view = store.messages.message(result.message_id)
    assert view is not None
    assert [r.fate for r in view.recipients] == ["suppressed", "suppressed", "queued"]
    assert view.events[0].data["reason"] == "userunknown"
    other = store.queue.submit(NewMessage("x@other.example", ("kim@naver.test",), b"x"), NOW)
    assert not other.suppressed  # scoped to app.example
    assert store.suppressions.unsuppress(
        "app.example", "kim@naver.test"
    ) and not store.suppressions.unsuppress("app.example", "kim@naver.test")
    assert [s.address for s in store.suppressions.suppressions()] == ["lee@daum.test"]


def test_queue_summary_and_counts(store: Store) -> None:
    mid = store.queue.submit(new("a@naver.test", "b@naver.test", "c@gmail.test"), NOW).message_id
    claimed = store.queue.claim(10, now=NOW, lease=60, owner="w")
    store.queue.record_attempts(
        [
            AttemptRecord(c.recipient_id, GREY, NOW, NOW + timedelta(minutes=5))
            for c in claimed
            if c.domain == "naver.test"
        ]
    )
    rows = {r.domain: r for r in store.stats.queue_summary(NOW)}
    assert (rows["naver.test"].deferred, rows["gmail.test"].sending) == (2, 1)
    assert rows["naver.test"].top_reasons == (("spamdetected", 2, "Greylisted"),)
    assert store.stats.counts() == {"deferred": 2, "sending": 1}
    assert store.queue.due_in(NOW) == pytest.approx(60)
    assert store.messages.find_recipient(mid, "A@NAVER.test") == claimed[0].recipient_id


def test_unknown_recipient_for_an_event_is_an_input_error(store: Store) -> None:
    mid = store.queue.submit(new("a@x.test"), NOW).message_id
    with pytest.raises(InputError):
        store.messages.append_event(NewEvent(mid, 999_999, EventType.BOUNCED, NOW))
    assert store.messages.message("m" + "0" * 26) is None


def test_a_full_database_is_a_store_error_and_nothing_is_half_written(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "full.db")
    try:
        mid = store.queue.submit(new("a@x.test"), NOW).message_id
        with store.engine.connect() as conn:
            pages = conn.execute(text("PRAGMA page_count")).scalar()
        big = NewMessage("no-reply@app.example", tuple(f"u{i}@x.test" for i in range(200)), b"x" * 400_000)

        def shrink(dbapi_conn: object, _: object) -> None:
            cursor = dbapi_conn.cursor()  # type: ignore[attr-defined]
            cursor.execute(f"PRAGMA max_page_count={int(pages or 0) + 5}")
            cursor.close()

        from sqlalchemy import event

        store.engine.dispose()
        event.listen(store.engine, "connect", shrink)
        with pytest.raises(StoreError, match="full"):
            store.queue.submit(big, NOW)
        assert store.stats.counts() == {"queued": 1}  # the failed submit left nothing behind
        assert store.messages.message(mid) is not None
    finally:
        store.close()


def test_open_twice_is_a_noop_and_a_bad_url_is_a_clear_error(tmp_path: Path) -> None:
    Store.open(tmp_path / "s.db").close()
    Store.open(tmp_path / "s.db").close()
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro" / "s.db").mkdir()  # a directory where the file should be
    with pytest.raises(StoreError):
        Store.open(tmp_path / "ro" / "s.db")


_REPORT_FATES = {EventType.BOUNCED: Fate.BOUNCED, EventType.COMPLAINED: Fate.COMPLAINED}


def test_a_report_stored_at_any_moment_of_the_attempts_gives_the_fate_of_the_events(store: Store) -> None:
    """A greylisted first attempt, then a 250; a DSN or a complaint about the delivery is stored at
    each moment it can be — while an attempt is on its way (leased), between the attempts, after
    the 250 — as when it reaches ``serve`` before the worker (another process) writes its batch.
    The cached fate is always the fold of the stored events, the worker's own result is never taken
    for a lost lease, and nothing stays leased."""
    moments = ("leased 1", "deferred", "leased 2", "delivered")
    for where in [*((m,) for m in moments), *itertools.product(moments, repeat=2)]:
        for kinds in itertools.product(_REPORT_FATES, repeat=len(where)):
            mid = store.queue.submit(new("kim@example.org"), NOW).message_id
            [rid] = [r.id for r in store.messages.message(mid).recipients]  # type: ignore[union-attr]

            def report(moment: str, rid: int = rid, mid: str = mid, plan: tuple[Any, ...] = ()) -> None:
                for at, kind in plan:
                    if at == moment:
                        store.messages.append_event(
                            NewEvent(mid, rid, kind, NOW, {"status": "5.1.1"}, reason="userunknown")
                        )

            report = functools.partial(report, plan=tuple(zip(where, kinds, strict=True)))

            claimed = store.queue.claim(1, now=NOW, lease=60, owner="w")
            report("leased 1")
            store.queue.record_attempts([AttemptRecord(rid, GREY, NOW, next_attempt_at=NOW)], owner="w")
            report("deferred")
            claimed = store.queue.claim(1, now=NOW + timedelta(seconds=1), lease=60, owner="w")
            report("leased 2")
            if claimed:  # no second attempt once a report has decided
                store.queue.record_attempts([AttemptRecord(rid, OK, NOW + timedelta(seconds=1))], owner="w")
            report("delivered")
            view = store.messages.message(mid)
            assert view is not None
            [recipient] = view.recipients
            expected = Fate.BOUNCED if EventType.BOUNCED in kinds else Fate.COMPLAINED
            assert recipient.fate == expected, (where, kinds)
            assert not any(e.data.get("lease_lost") for e in view.events), (where, kinds)
            consistent(store, mid)
    assert store.queue.claim(10, now=NOW + timedelta(hours=1), lease=60, owner="w") == []


def test_a_worker_that_lost_its_lease_cannot_expire_suppress_or_hold_the_recipient(store: Store) -> None:
    mid = store.queue.submit(new("kim@example.org"), NOW).message_id
    [first] = store.queue.claim(1, now=NOW, lease=5, owner="w1")
    [second] = store.queue.claim(
        1, now=NOW + timedelta(seconds=10), lease=60, owner="w2"
    )  # w1's lease ran out
    rid = first.recipient_id
    assert second.recipient_id == rid
    at = NOW + timedelta(seconds=11)
    store.messages.append_event(
        NewEvent(mid, rid, EventType.EXPIRED, at, {"why": "deadline"}, reason="expired"), owner="w1"
    )
    store.messages.append_event(
        NewEvent(mid, rid, EventType.SUPPRESSED, at, {"reason": "x"}, reason="suppressed"), owner="w1"
    )
    assert not store.queue.hold(Hold(mid, rid, at, at + timedelta(minutes=5), {}), owner="w1")
    view = store.messages.message(mid)
    assert view is not None
    assert view.recipients[0].fate == "sending"  # still w2's
    assert [e.data.get("lease_lost") for e in view.events if e.type in ("expired", "suppressed")] == [
        True,
        True,
    ]
    store.queue.record_attempts([AttemptRecord(rid, OK, at)], owner="w2")
    assert store.messages.recipient(rid).fate == "delivered"  # type: ignore[union-attr]
    consistent(store, mid)
    # the owner itself settles it
    mid2 = store.queue.submit(new("lee@example.org"), NOW).message_id
    [mine] = store.queue.claim(1, now=NOW, lease=60, owner="w1")
    store.messages.append_event(
        NewEvent(mid2, mine.recipient_id, EventType.EXPIRED, at, {}, reason="expired"), owner="w1"
    )
    assert store.messages.recipient(mine.recipient_id).fate == "expired"  # type: ignore[union-attr]
