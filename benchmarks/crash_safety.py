"""Benchmark: kill -9 the workers and the API server under load, count what was lost.

usage: python benchmarks/crash_safety.py [--n N] [--seed S] [--lease SECONDS] [--timeout SECONDS]
                                         [--serve-seconds S] [--skip-pg] [--skip-serve] [--json OUT]

Everything runs on 127.0.0.1 and in a temporary folder:

1. Delivery. N messages are queued (every fourth one has two recipients, so there are N * 5/4
   (message, recipient) pairs, each with its own address), then ``mailfate worker`` processes
   deliver them to the simulator's ``accept.mailfate.test`` (a :class:`SimulatorThread` in this
   process, so it outlives the workers), whose journal names every (Message-ID, recipient) it
   accepted. At three delivered counts drawn with ``--seed`` (plus a random delay) every worker is
   SIGKILLed; the recipients ``sending`` in the store at that moment are read ("in flight"), and
   the workers are started again. The run ends when no recipient is queued, sending or deferred
   (or at ``--timeout``). Then:

   - lost: queued messages missing from the store, recipients ``delivered`` that the receiver
     never accepted, and recipients that ended in any other fate than ``delivered`` — must be 0;
   - stuck: recipients still queued, sending or deferred — must be 0;
   - duplicates: recipients the receiver accepted more than once, beside "in flight" (the union
     of the recipients sending at each kill). Delivery is at-least-once, so duplicates are
     allowed only among the recipients in flight at a kill: duplicates <= in flight, and a
     duplicate that was not in flight at any kill is reported (a lease taken over too early).

   On SQLite with one worker, then on PostgreSQL with two workers (a throwaway server started as
   ``tests/support/postgres.py`` does; skipped with a message when PostgreSQL is not installed or
   cannot start).
2. API. ``mailfate serve`` (SQLite, workers on) gets ``POST /v1/messages`` from 8 threads for
   ``--serve-seconds`` while it is SIGKILLed three times (at moments drawn with ``--seed``) and
   started again on the same port. Every message answered 202 must be in the store afterwards;
   requests that got no answer (connection dropped mid-request) or were refused (server down)
   are counted.

The default N is 3,000: the default run takes under a minute on a 2-core machine. The
throwaway PostgreSQL runs with synchronous_commit=off (the store warns about it): only workers
are killed here, never the database server, so that does not change the figures. Exit status 1
when anything was lost or stuck, or a 202 is missing from the store.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support.postgres for the PostgreSQL run
LO = "127.0.0.1"
DOMAIN = "accept.mailfate.test"
OPEN_FATES = ("queued", "sending", "deferred")
VERP_SECRET = "crash-safety-benchmark-verp-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LO, 0))
        return int(sock.getsockname()[1])


def clean_env() -> dict[str, str]:
    """The environment without ``MAILFATE_*`` settings (as tests/support/serve.py does)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("MAILFATE_")}


def write_config(folder: Path, url: str, sim_port: int, lease: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mailfate.toml"
    path.write_text(
        f'data_dir = "{folder / "data"}"\n[store]\nurl = "{url}"\n'
        f"[delivery]\nlease = {lease}\nconcurrency = 50\nbatch = 50\n"
        f'[transports.simulator]\ntype = "simulator"\nhost = "{LO}"\nport = {sim_port}\n'
        f'[verp]\nsecret = "{VERP_SECRET}"\n'
        "[inbound]\nport = 0\n",
        "utf-8",
    )
    return path


class Proc:
    """A ``mailfate worker`` or ``mailfate serve`` process, started and waited for (ready line)."""

    def __init__(self, args: list[str], log: Path, cwd: Path) -> None:
        self.log = open(log, "ab")  # noqa: SIM115 - closed in stop()/kill()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mailfate", *args, "--json"],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=clean_env(),
            cwd=cwd,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self._close()
            tail = log.read_text("utf-8", "replace")[-2000:]
            raise SystemExit(f"mailfate {args[0]} exited with {self.proc.wait(30)} before ready:\n{tail}")
        self.ready: dict[str, Any] = json.loads(line)

    def _close(self) -> None:
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.log.close()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self._close()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(30)
        self._close()


def sim_config() -> Any:
    from mailfate.simulator.config import load_config

    return load_config(overrides={"server": {"banner_delay": 0}})


def received_pairs(journal: Path) -> Counter[tuple[str, str]]:
    """(Message-ID without <>, recipient) -> how many times the simulator accepted it."""
    got: Counter[tuple[str, str]] = Counter()
    if not journal.exists():
        return got
    with journal.open(encoding="utf-8") as lines:
        for line in lines:
            entry = json.loads(line)
            if entry.get("event") != "transaction" or entry.get("outcome") != "accepted":
                continue
            mid = (entry.get("message_id") or "").strip().strip("<>")
            for rcpt in entry.get("rcpts", []):
                if 200 <= int(rcpt["reply"]["code"]) < 300:
                    got[(mid, str(rcpt["rcpt"]).strip("<>").lower())] += 1
    return got


# -- 1. delivery -------------------------------------------------------------------------------


@dataclass
class DeliveryRun:
    store: str
    workers: int
    messages: int
    recipients: int
    seconds: float = 0.0
    timed_out: bool = False
    in_flight_at_kill: list[int] = field(default_factory=list)
    in_flight: int = 0
    """Distinct recipients sending at one kill or more."""
    received: int = 0
    """(message, recipient) pairs the receiver accepted at least once."""
    duplicates: int = 0
    """Pairs accepted more than once."""
    extra_copies: int = 0
    duplicates_not_in_flight: int = 0
    lost: int = 0
    lost_missing_from_store: int = 0
    lost_delivered_not_received: int = 0
    lost_other_fate: int = 0
    stuck: int = 0
    fates: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.stuck == 0


def queue_messages(store: Any, settings: Any, n: int) -> dict[str, tuple[str, list[str]]]:
    """N messages in batches of 200; store id -> (Message-ID without <>, recipients)."""
    from mailfate.client import Client

    client = Client(store, settings=settings)
    out: dict[str, tuple[str, list[str]]] = {}
    batch: list[Any] = []

    def flush() -> None:
        results = store.queue.submit_many(batch, datetime.now(UTC))
        for msg, result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                raise SystemExit(f"queueing failed: {result}")
            out[result.message_id] = (msg.header_message_id.strip().strip("<>"), list(msg.recipients))
        batch.clear()

    for i in range(n):
        to = [f"u{i}@{DOMAIN}"] + ([f"u{i}b@{DOMAIN}"] if i % 4 == 0 else [])
        batch.append(client.prepare(from_="no-reply@app.example", to=to, subject=f"crash {i}", text="x"))
        if len(batch) == 200:
            flush()
    if batch:
        flush()
    return out


def sending_now(store: Any) -> dict[int, str]:
    """Recipient id -> lease owner, of the recipients ``sending`` now."""
    from sqlalchemy import select

    from mailfate.store.tables import recipients

    r = recipients.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(r.id, r.lease_owner).where(r.fate == "sending")).all()
    return {int(row.id): str(row.lease_owner) for row in rows}


def run_delivery(label: str, url: str, workers: int, args: argparse.Namespace, folder: Path) -> DeliveryRun:
    from sqlalchemy import select

    from mailfate.config import load_settings
    from mailfate.simulator.runtime import SimulatorThread
    from mailfate.store import Store
    from mailfate.store.tables import recipients

    rng = random.Random(args.seed)
    journal = folder / "journal.jsonl"
    with SimulatorThread(sim_config(), maildir=None, journal=journal) as sim:
        config = write_config(folder, url, sim.port, args.lease)
        store = Store.open(url)
        try:
            queued = queue_messages(store, load_settings(config), args.n)
            total = sum(len(rcpts) for _, rcpts in queued.values())
            run = DeliveryRun(label, workers, len(queued), total)
            print(
                f"{label}: {len(queued)} messages, {total} recipients queued; {workers} worker(s)", flush=True
            )
            # one kill in each third of [8%, 85%] of the deliveries, so that the kills stay apart
            marks = [int(total * rng.uniform(0.08 + k * 0.26, 0.08 + (k + 1) * 0.26)) for k in range(3)]
            delays = [rng.uniform(0.0, 0.3) for _ in marks]
            wargs = ["worker", "--config", str(config)]
            started = time.monotonic()
            procs = [Proc(wargs, folder / "worker.log", folder) for _ in range(workers)]
            flight: set[int] = set()
            dead: set[str] = set()  # lease owners killed before: their leases are not new in flight
            for mark, delay in zip(marks, delays, strict=True):
                while (
                    store.stats.counts().get("delivered", 0) < mark
                    and time.monotonic() - started < args.timeout
                ):
                    time.sleep(0.01)
                time.sleep(delay)
                for p in procs:
                    p.proc.send_signal(signal.SIGKILL)
                for p in procs:
                    p.kill()
                now_sending = sending_now(store)
                fresh = {rid for rid, owner in now_sending.items() if owner not in dead}
                run.in_flight_at_kill.append(len(fresh))
                flight |= now_sending.keys()
                dead |= set(now_sending.values())
                delivered = store.stats.counts().get("delivered", 0)
                print(
                    f"  kill -9 at {delivered}/{total} delivered: {len(fresh)} in flight"
                    f" ({len(now_sending) - len(fresh)} more still leased by workers killed before)",
                    flush=True,
                )
                procs = [Proc(wargs, folder / "worker.log", folder) for _ in range(workers)]
            while True:
                counts = store.stats.counts()
                if not any(counts.get(f, 0) for f in OPEN_FATES):
                    break
                if time.monotonic() - started > args.timeout:
                    run.timed_out = True
                    break
                time.sleep(0.05)
            run.seconds = time.monotonic() - started
            for p in procs:
                p.stop()
            with store.engine.connect() as conn:
                rows = conn.execute(
                    select(recipients.c.id, recipients.c.message_id, recipients.c.address, recipients.c.fate)
                ).all()
        finally:
            store.close()
    got = received_pairs(journal)
    by_pair = {}
    for row in rows:
        mid = queued.get(row.message_id, ("", []))[0]
        by_pair[(mid, row.address.lower())] = (int(row.id), row.fate)
    run.fates = dict(Counter(row.fate for row in rows))
    stored_messages = {row.message_id for row in rows}
    run.lost_missing_from_store = sum(len(r) for m, (_, r) in queued.items() if m not in stored_messages)
    run.lost_other_fate = sum(1 for row in rows if row.fate not in (*OPEN_FATES, "delivered"))
    run.lost_delivered_not_received = sum(
        1 for pair, (_, fate) in by_pair.items() if fate == "delivered" and got[pair] == 0
    )
    run.lost = run.lost_missing_from_store + run.lost_other_fate + run.lost_delivered_not_received
    run.stuck = sum(1 for row in rows if row.fate in OPEN_FATES)
    run.received = sum(1 for pair in by_pair if got[pair] > 0)
    twice = [pair for pair, n in got.items() if n > 1]
    run.duplicates = len(twice)
    run.extra_copies = sum(got[p] - 1 for p in twice)
    run.in_flight = len(flight)
    run.duplicates_not_in_flight = sum(1 for p in twice if p not in by_pair or by_pair[p][0] not in flight)
    unknown = [p for p in got if p not in by_pair]
    if unknown:
        print(f"  {len(unknown)} accepted pairs match no recipient in the store, e.g. {unknown[:3]}")
    return run


def run_postgres(args: argparse.Namespace, folder: Path) -> DeliveryRun | str:
    """The delivery run on a throwaway PostgreSQL with two workers, or why it was skipped."""
    try:
        from tests.support.postgres import PostgresServer, pg_bin
    except ImportError as exc:
        return f"PostgreSQL skipped: tests/support/postgres.py cannot be imported ({exc})"
    if pg_bin() is None:
        return "PostgreSQL skipped: not installed (Debian package postgresql; bin/test installs it as root)"
    try:
        server = PostgresServer().start()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        return f"PostgreSQL skipped: the server did not start ({exc}; initdb runs as user postgres when root)"
    try:
        return run_delivery("PostgreSQL", server.new_database(), 2, args, folder)
    finally:
        server.stop()


# -- 2. the API --------------------------------------------------------------------------------


@dataclass
class ServeRun:
    seconds: float
    kills: int = 0
    requests: int = 0
    accepted_202: int = 0
    present: int = 0
    missing: int = 0
    no_answer: int = 0
    """Sent, and the connection closed (or timed out) before an answer."""
    refused: int = 0
    """The connection was refused: the server was down."""
    other_status: dict[str, int] = field(default_factory=dict)
    restart_seconds: list[float] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.missing == 0 and self.accepted_202 > 0


class Load:
    """Threads POSTing messages until stopped; the ids answered 202 and what the others got."""

    def __init__(self, base: str, key: str, threads: int) -> None:
        self.base, self.key = base, key
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ids: list[str] = []
        self.no_answer = self.refused = self.requests = 0
        self.other: Counter[str] = Counter()
        self.threads = [threading.Thread(target=self._loop, args=(t,), daemon=True) for t in range(threads)]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def join(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(60)

    def _loop(self, number: int) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {self.key}"}
        i = 0
        with httpx.Client(base_url=self.base, headers=headers, timeout=15) as http:
            while not self.stop.is_set():
                i += 1
                body = {
                    "from": "no-reply@app.example",
                    "to": [f"t{number}-{i}@{DOMAIN}"],
                    "subject": f"api {number}-{i}",
                    "text": "x",
                }
                try:
                    answer = http.post("/v1/messages", json=body)
                except httpx.ConnectError:
                    with self.lock:
                        self.refused += 1
                        self.requests += 1
                    time.sleep(0.02)
                    continue
                except httpx.TransportError:
                    with self.lock:
                        self.no_answer += 1
                        self.requests += 1
                    continue
                with self.lock:
                    self.requests += 1
                    if answer.status_code == 202:
                        self.ids.append(answer.json()["message_id"])
                    else:
                        self.other[str(answer.status_code)] += 1


def run_serve(args: argparse.Namespace, folder: Path) -> ServeRun:
    from sqlalchemy import select

    from mailfate.simulator.runtime import SimulatorThread
    from mailfate.store import Store
    from mailfate.store.tables import messages

    rng = random.Random(args.seed + 1)
    url = str(folder / "store.db")
    run = ServeRun(args.serve_seconds)
    with SimulatorThread(sim_config(), maildir=None, journal=None) as sim:
        config = write_config(folder, url, sim.port, args.lease)
        create = ["keys", "create", "--scope", "send", "--json", "--config", str(config)]
        made = subprocess.run(
            [sys.executable, "-m", "mailfate", *create],
            capture_output=True,
            text=True,
            check=True,
            env=clean_env(),
            cwd=folder,
        )
        key = json.loads(made.stdout)["key"]
        port = free_port()
        sargs = ["serve", "--config", str(config), "--http-port", str(port)]
        sargs += ["--submission-port", "-1", "--inbound-port", "0"]
        server = Proc(sargs, folder / "serve.log", folder)
        load = Load(f"http://{LO}:{port}", key, args.threads)
        # one kill in each third of [15%, 85%] of the load, so that the kills stay apart
        moments = [
            rng.uniform(0.15 + k * 0.7 / 3, 0.15 + (k + 1) * 0.7 / 3) * args.serve_seconds for k in range(3)
        ]
        print(
            f"serve: POST /v1/messages from {args.threads} threads for {args.serve_seconds:g} s", flush=True
        )
        started = time.monotonic()
        load.start()
        for at in moments:
            time.sleep(max(0.0, started + at - time.monotonic()))
            with load.lock:
                so_far = len(load.ids)
            server.kill()
            run.kills += 1
            down = time.monotonic()
            server = Proc(sargs, folder / "serve.log", folder)
            run.restart_seconds.append(time.monotonic() - down)
            print(
                f"  kill -9 after {so_far} 202s; ready again in {run.restart_seconds[-1]:.1f} s", flush=True
            )
        time.sleep(max(0.0, started + args.serve_seconds - time.monotonic()))
        load.join()
        server.stop()
    run.requests, run.no_answer, run.refused = load.requests, load.no_answer, load.refused
    run.other_status = dict(load.other)
    run.accepted_202 = len(load.ids)
    store = Store.open(url)
    try:
        found: set[str] = set()
        with store.engine.connect() as conn:
            for start in range(0, len(load.ids), 500):
                chunk = load.ids[start : start + 500]
                found.update(conn.execute(select(messages.c.id).where(messages.c.id.in_(chunk))).scalars())
    finally:
        store.close()
    run.present = len(found)
    run.missing = len(set(load.ids) - found)
    return run


# -- output ------------------------------------------------------------------------------------


def show(runs: list[DeliveryRun], skipped: list[str], serve: ServeRun | None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(150, Console().width))
    table = Table(title="kill -9 during delivery (3 kills)")
    for name in (
        "store",
        "workers",
        "recipients",
        "in flight at each kill",
        "in flight (all)",
        "received",
        "duplicates",
        "dup. not in flight",
        "lost",
        "stuck",
        "seconds",
        "",
    ):
        table.add_column(name, justify="left" if name in ("store", "") else "right")
    for r in runs:
        verdict = "[green]ok[/]" if r.ok and r.duplicates <= r.in_flight else "[red]FAIL[/]"
        if r.ok and r.duplicates_not_in_flight:
            verdict = "[yellow]ok (dup. outside flight)[/]"
        table.add_row(
            r.store,
            str(r.workers),
            str(r.recipients),
            " / ".join(map(str, r.in_flight_at_kill)),
            str(r.in_flight),
            str(r.received),
            str(r.duplicates),
            str(r.duplicates_not_in_flight),
            str(r.lost),
            str(r.stuck),
            f"{r.seconds:.1f}" + (" timeout" if r.timed_out else ""),
            verdict,
        )
    console.print(table)
    for r in runs:
        if r.lost:
            console.print(
                f"{r.store}: lost = {r.lost_missing_from_store} missing from the store + "
                f"{r.lost_delivered_not_received} delivered but not received + {r.lost_other_fate} "
                f"in another fate; fates {r.fates}"
            )
        if r.duplicates > r.in_flight or r.duplicates_not_in_flight:
            console.print(
                f"[yellow]{r.store}: {r.duplicates_not_in_flight} recipient(s) received twice were not "
                "sending at any kill: a lease was taken over while its attempt was still running[/]"
            )
    for line in skipped:
        console.print(line)
    if serve is not None:
        table = Table(title=f"kill -9 of mailfate serve under API load ({serve.kills} kills)")
        for name in (
            "requests",
            "202s",
            "present",
            "missing",
            "no answer",
            "refused",
            "other",
            "restart s",
            "",
        ):
            table.add_column(name, justify="right" if name else "left")
        table.add_row(
            str(serve.requests),
            str(serve.accepted_202),
            str(serve.present),
            str(serve.missing),
            str(serve.no_answer),
            str(serve.refused),
            ", ".join(f"{k}: {v}" for k, v in serve.other_status.items()) or "0",
            " / ".join(f"{s:.1f}" for s in serve.restart_seconds),
            "[green]ok[/]" if serve.ok else "[red]FAIL[/]",
        )
        console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=3000, help="messages queued for each delivery run")
    parser.add_argument("--seed", type=int, default=13, help="draws the kill moments")
    parser.add_argument("--lease", type=float, default=5.0, help="the workers' delivery.lease, seconds")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds for each delivery run")
    parser.add_argument("--serve-seconds", type=float, default=20.0, help="length of the API load")
    parser.add_argument("--threads", type=int, default=8, help="threads POSTing to the API")
    parser.add_argument("--skip-pg", action="store_true", help="SQLite only")
    parser.add_argument("--skip-serve", action="store_true", help="no API run")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the figures to OUT as JSON")
    args = parser.parse_args()
    runs: list[DeliveryRun] = []
    skipped: list[str] = []
    serve: ServeRun | None = None
    with tempfile.TemporaryDirectory(prefix="mailfate-crash-") as tmp:
        folder = Path(tmp)
        runs.append(run_delivery("SQLite", str(folder / "sqlite" / "store.db"), 1, args, folder / "sqlite"))
        if args.skip_pg:
            skipped.append("PostgreSQL skipped: --skip-pg")
        else:
            pg = run_postgres(args, folder / "pg")
            if isinstance(pg, str):
                skipped.append(pg)
                print(pg, flush=True)
            else:
                runs.append(pg)
        if not args.skip_serve:
            serve = run_serve(args, folder / "serve")
    show(runs, skipped, serve)
    ok = all(r.ok for r in runs) and (serve is None or serve.ok)
    if args.json:
        out = {
            "n": args.n,
            "seed": args.seed,
            "lease": args.lease,
            "delivery": [asdict(r) | {"ok": r.ok} for r in runs],
            "skipped": skipped,
            "serve": asdict(serve) | {"ok": serve.ok} if serve is not None else None,
            "ok": ok,
        }
        args.json.write_text(json.dumps(out, indent=2) + "\n", "utf-8")
    with contextlib.suppress(BrokenPipeError):
        sys.stdout.flush()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
