"""Benchmark: the dashboard's and the search's server time with 1,000,000 messages in the store.

usage: python benchmarks/dashboard_load.py [--messages N] [--days D] [--repeat R] [--keep DIR]

Fills a SQLite store (the embedded default) with N messages (default 1,000,000) spread over D days
(default 30) to ~520 recipient domains (Naver, Gmail, Daum, … and 500 company domains), with the
outcomes seen in practice: most delivered at once, some greylisted or rate-limited then delivered,
hard bounces, expiries, suppressions, complaints, a few still deferred. The rows are written with
the sqlite3 module in bulk (setting up, not measured); the events are then folded into the hourly
rollups (measured: events per second), and ``mailfate serve --no-workers`` is started on the store
as a real process. Each page is requested R times (default 15, after 2 warm-ups) over loopback:
the round trip bounds the server time from above. Prints median, p95 and max per page, then the
same overview computed the way it was before the rollups (aggregating events and recipients), as
the baseline: the ratio is the point of the rollups. Target: every page ≤ 200 ms.
The last line is ``key=value`` pairs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from mailfate.model import RollupQuery
from mailfate.store import Store, new_message_id

BIG = [("naver.com", 30), ("gmail.com", 25), ("daum.net", 10), ("hanmail.net", 5), ("kakao.com", 3),
       ("outlook.com", 3), ("yahoo.com", 2)]  # fmt: skip
DEFER = [("greylisting", 451, "4.7.1", "Greylisted, try again in 5 minutes"),
         ("speeding", 421, "4.7.0", "Too many messages, slow down"),
         ("authfailure", 451, "4.7.26", "SPF softfail, try again later"),
         ("blocked", 450, "4.7.1", "Client host rejected: access denied")]  # fmt: skip


def ts(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def fill(path: Path, n: int, days: int, seed: int = 7) -> dict[str, str]:
    """Write ``n`` messages; returns a few ids and addresses to look up."""
    rnd = random.Random(seed)
    domains = [d for d, _ in BIG] + [f"corp{i}.co.kr" for i in range(500)]
    weights = [w for _, w in BIG] + [22 / 500] * 500
    picks = rnd.choices(domains, weights, k=n)
    now = datetime.now(UTC) - timedelta(hours=2)  # the last events (retries, complaints) stay in the past
    start = now - timedelta(days=days)
    step = (now - start) / n
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    msgs: list[tuple[object, ...]] = []
    rcpts: list[tuple[object, ...]] = []
    evs: list[tuple[object, ...]] = []
    sups: list[tuple[object, ...]] = []
    samples: dict[str, str] = {}

    def flush() -> None:
        conn.executemany("INSERT INTO messages VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", msgs)
        conn.executemany(
            "INSERT INTO recipients (id, message_id, address, domain, fate, attempts, next_attempt_at,"
            " lease_until, lease_owner, last_reason, last_code, last_status, last_text, updated_at,"
            " remote_id) VALUES (?,?,?,?,?,?,?,NULL,NULL,?,?,?,?,?,NULL)",
            rcpts,
        )
        conn.executemany(
            "INSERT INTO events (message_id, recipient_id, at, type, outcome, reason, data)"
            " VALUES (?,?,?,?,?,?,?)",
            evs,
        )
        conn.executemany(
            "INSERT OR IGNORE INTO suppressions (scope, address, reason, detail, source_message_id,"
            " created_at) VALUES (?,?,?,?,?,?)",
            sups,
        )
        for rows in (msgs, rcpts, evs, sups):
            rows.clear()

    for i in range(n):
        created = start + step * i
        mid = new_message_id(int(created.timestamp() * 1000))
        rid = i + 1
        domain = picks[i]
        address = f"user{i}@{domain}"
        r = rnd.random()
        queued = json.dumps({"category": "transactional"})
        evs.append((mid, rid, ts(created), "queued", None, None, queued))
        at = created
        attempts = 0
        last: tuple[str, int, str, str] | None = None
        if r < 0.01:
            fate = "suppressed"
            evs.append(
                (mid, rid, ts(at), "suppressed", None, "userunknown", json.dumps({"reason": "userunknown"}))
            )
        else:
            defers = 0
            if 0.85 <= r < 0.97:
                defers = rnd.randint(1, 3)
            for _ in range(defers):
                last = rnd.choice(DEFER)
                at += timedelta(seconds=rnd.uniform(0.2, 2) if attempts == 0 else rnd.uniform(300, 1800))
                attempts += 1
                data = {"outcome": "deferred", "code": last[1], "status": last[2], "text": last[3],
                        "reason": last[0], "hardbounce": False}  # fmt: skip
                evs.append((mid, rid, ts(at), "attempt", "deferred", last[0], json.dumps(data)))
            if 0.92 <= r < 0.94:
                fate = "expired"
                at += timedelta(hours=2)
                evs.append((mid, rid, ts(at), "expired", None, last[0] if last else "expired", "{}"))
            elif 0.94 <= r < 0.96 and created > now - timedelta(hours=6):
                fate = "deferred"
            elif 0.96 <= r < 0.99:
                fate = "bounced"
                at += timedelta(seconds=rnd.uniform(0.2, 2))
                attempts += 1
                last = ("userunknown", 550, "5.1.1", "User unknown")
                data = {"outcome": "bounced", "code": 550, "status": "5.1.1", "text": "User unknown",
                        "reason": "userunknown", "hardbounce": True}  # fmt: skip
                evs.append((mid, rid, ts(at), "attempt", "bounced", "userunknown", json.dumps(data)))
                sups.append(("app.example", address, "userunknown", "550 5.1.1", mid, ts(at)))
            else:
                fate = "delivered"
                at += timedelta(seconds=rnd.uniform(0.2, 5) if defers == 0 else rnd.uniform(300, 1800))
                attempts += 1
                last = ("delivered", 250, "2.0.0", "Ok: queued")
                data = {"outcome": "delivered", "code": 250, "status": "2.0.0", "text": "Ok: queued",
                        "reason": "delivered", "hardbounce": False}  # fmt: skip
                evs.append((mid, rid, ts(at), "attempt", "delivered", "delivered", json.dumps(data)))
                if rnd.random() < 0.002:
                    fate = "complained"
                    evs.append((mid, rid, ts(at + timedelta(hours=1)), "complained", None, "feedback", "{}"))
        subject = f"Your verification code: {rnd.randint(100000, 999999)}"
        msgs.append((mid, ts(created), "App <no-reply@app.example>", "app.example", subject, "transactional",
                     '["signup"]', None, None, ts(created + timedelta(days=5)), f"<{mid}@app.example>", 900,
                     b"Subject: code\r\n\r\n123456\r\n", fate))  # fmt: skip
        nxt = ts(at + timedelta(minutes=30)) if fate == "deferred" else None
        rcpts.append((rid, mid, address, domain, fate, attempts, nxt, last[0] if last else None,
                      last[1] if last else None, last[2] if last else None, last[3] if last else None,
                      ts(at)))  # fmt: skip
        if i % 500 == 0 and domain == "naver.com":
            samples.setdefault("address", address)
            samples["message_id"] = mid
        if i % 50_000 == 49_999:
            flush()
            print(f"  {i + 1:,} messages written", file=sys.stderr, flush=True)
    flush()
    if "hard_bounce" in {row[1] for row in conn.execute("PRAGMA table_info(recipients)")}:
        # written with the fate since migration 0010; every bounce here is a 550 user unknown: hard
        conn.execute("UPDATE recipients SET hard_bounce = 1 WHERE fate = 'bounced'")
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return samples


def timed(client: httpx.Client, path: str, repeat: int) -> tuple[float, float, float]:
    for _ in range(2):
        assert client.get(path).status_code == 200, path
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], times[-1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--keep", type=Path, help="Keep the data directory here (reused when it holds a store)."
    )
    args = parser.parse_args()
    data = args.keep or Path(tempfile.mkdtemp(prefix="mailfate-dash-"))
    db = data / "mailfate.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILFATE_")}
    samples_file = data / "samples.json"
    if not samples_file.exists():
        data.mkdir(parents=True, exist_ok=True)
        Store.open(db).close()  # the schema
        t0 = time.perf_counter()
        samples = fill(db, args.messages, args.days)
        samples_file.write_text(json.dumps(samples))
        print(f"filled {args.messages:,} messages in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    samples = json.loads(samples_file.read_text())
    store = Store.open(db)
    backlog = store.rollups.rollup_backlog()
    t0 = time.perf_counter()
    store.rollups.catch_up_rollups(datetime.now(UTC) + timedelta(seconds=1))
    fold_s = time.perf_counter() - t0
    fold_rate = backlog / fold_s if backlog and fold_s else 0.0
    if backlog:
        print(f"folded {backlog:,} events into the rollups in {fold_s:.1f} s ({fold_rate:,.0f}/s)")

    now = datetime.now(UTC)
    t0 = time.perf_counter()
    store.stats.activity_since(now - timedelta(hours=24))
    store.stats.domain_stats()
    store.stats.counts()
    naive_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    from mailfate.tracking.overview import DOMAIN_GROUPS, SERIES_GROUPS, domain_health, overview

    since = now - timedelta(hours=24)
    overview(store.rollups.rollup_sums(RollupQuery(since, by=SERIES_GROUPS)), since, now)
    domain_health(store.rollups.rollup_sums(RollupQuery(since, by=DOMAIN_GROUPS)))
    store.stats.open_counts()
    rollup_ms = (time.perf_counter() - t0) * 1000
    key = store.keys.create_key({"read"}, at=now, name="bench")
    store.close()

    proc = subprocess.Popen(
        [sys.executable, "-m", "mailfate", "serve", "--data-dir", str(data), "--http-port", "0",
         "--submission-port", "-1", "--no-workers", "--inbound-port", "0", "--json"],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    url = json.loads(proc.stdout.readline())["http"]
    pages = [
        "/", "/?window=7d", "/domains", "/domains?window=7d", "/events", "/messages",
        f"/messages?q={samples['address']}", "/messages?domain=naver.com&fate=bounced",
        "/messages?fate=complained", "/messages?reason=greylisting",
        "/messages?reason=blocked&domain=naver.com", f"/messages/{samples['message_id']}",
        "/suppressions", "/alerts", "/v1/messages?domain=gmail.com&fate=expired", "/v1/stats",
    ]  # fmt: skip
    results: dict[str, tuple[float, float, float]] = {}
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
            for path in pages:
                results[path] = timed(client, path, args.repeat)
    finally:
        proc.terminate()
        proc.wait(30)
        proc.stdout.close()
    print(f"{'page':<48} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for path, (med, p95, worst) in results.items():
        print(f"{path[:48]:<48} {med:>10.1f} {p95:>8.1f} {worst:>8.1f}")
    worst_p95 = max(p95 for _, p95, _ in results.values())
    dash = [p for p in results if not p.startswith("/v1/stats")]
    worst_dash = max(results[p][1] for p in dash)
    print(
        f"overview in process: from the rollups {rollup_ms:.1f} ms, by aggregating events and recipients "
        f"{naive_ms:.0f} ms ({naive_ms / max(rollup_ms, 0.001):.0f}× slower)"
    )
    print(
        f"messages={args.messages} fold_events_per_s={fold_rate:.0f} worst_dashboard_p95_ms={worst_dash:.1f} "
        f"worst_p95_ms={worst_p95:.1f} rollup_overview_ms={rollup_ms:.1f} naive_overview_ms={naive_ms:.0f} "
        f"target_ms=200 met={'yes' if worst_dash <= 200 else 'no'}"
    )


if __name__ == "__main__":
    main()
