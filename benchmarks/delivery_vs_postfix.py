"""Benchmark: the delivery engine beside Postfix, to the same smtp-sink, in one run.

usage: python benchmarks/delivery_vs_postfix.py [--n N] [--shared DIR] [--skip-postfix] [--pg]
                                                [--latency-seconds S] [--big N]

Prints, on this machine (loopback only):
  1. Postfix (``../shared/bench/postfix_peer.sh``, MODE=normal and MODE=drain; needs root): end-to-end
     and delivery-only messages/second, and the smtp-source → smtp-sink ceiling;
  2. mailfate end to end, with the store's durable default (SQLite ``synchronous=FULL``: each
     acknowledged message and each recorded result is on disk, as Postfix's queue files are): an
     application process submits N messages of ``--size`` bytes to 5
     recipient domains with ``mailfate.Client.send`` while a ``mailfate worker`` process delivers
     them to Postfix's ``smtp-sink`` (relay transport, no TLS) — timed from the first submit to the
     last 250 recorded in the store;
  3. mailfate delivery-only: the N messages are queued first, then the worker starts — timed from
     its ready line to the last 250;
  4. with ``--pg``: (2) and (3) on a PostgreSQL server started for the run, durable (fsync and
     synchronous_commit on, as Postfix fsyncs its queue files), with one worker and with two;
  5. latency of one verification code at 50 messages/second (submit → 250 at the receiver): p50, p99;
  6. with ``--big N``: N queued messages, the worker's peak RSS while it drains them, and the time
     of ``Store.message`` (what ``mailfate trace`` reads) for one message among them.
The last line is ``key=value`` pairs for scripts, ending with ``ratio=`` (end-to-end mailfate /
Postfix) and ``drain_ratio=`` (delivery-only).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support.postgres for --pg
DOMAINS = ("naver.test", "gmail.test", "daum.test", "yahoo.test", "outlook.test")
LO = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LO, 0))
        return int(sock.getsockname()[1])


def tool(name: str) -> str | None:
    found = shutil.which(name) or (f"/usr/sbin/{name}" if os.access(f"/usr/sbin/{name}", os.X_OK) else None)
    return found


@contextlib.contextmanager
def smtp_sink() -> Iterator[int]:
    sink = tool("smtp-sink")
    if sink is None:
        raise SystemExit("smtp-sink is missing (Debian package postfix; bin/test installs it as root)")
    port = free_port()
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    proc = subprocess.Popen(
        [sink, *user, f"{LO}:{port}", "1024"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(200):
        with contextlib.suppress(OSError), socket.create_connection((LO, port), timeout=0.2):
            break
        time.sleep(0.02)
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def postfix(shared: Path, n: int, mode: str, runs: int = 1) -> dict[str, float]:
    script = shared / "bench" / "postfix_peer.sh"
    if not script.exists() or os.geteuid() != 0:
        return {}
    env = {
        **os.environ,
        "MODE": mode,
        "RUNS": str(runs),
        "SINK_PORT": str(free_port()),
        "PF_PORT": str(free_port()),
        "GREY_PORT": str(free_port()),
    }
    proc = subprocess.run(
        ["bash", str(script), str(n)], capture_output=True, text=True, env=env, check=False, timeout=900
    )
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    values = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", last)}
    if not values:
        print(f"postfix_peer.sh ({mode}) failed: {proc.stderr.strip()[-400:]}", file=sys.stderr)
    return values


def write_config(folder: Path, url: str, sink_port: int, concurrency: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mailfate.toml"
    path.write_text(
        f'data_dir = "{folder / "data"}"\n[store]\nurl = "{url}"\n'
        f'[delivery]\ntransport = "sink"\nconcurrency = {concurrency}\nbatch = 200\n'
        f'[transports.sink]\ntype = "relay"\nhost = "{LO}"\nport = {sink_port}\ntls = "off"\n'
        "[inbound]\nport = 0\n",
        "utf-8",
    )
    return path


class Worker:
    """A ``mailfate worker`` process; ``ready`` is the monotonic time of its ready line."""

    def __init__(self, config: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILFATE_")}
        cmd = [sys.executable, "-m", "mailfate", "worker", "--config", str(config), "--json"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
        assert self.proc.stdout is not None
        self.proc.stdout.readline()
        self.ready = time.time()
        self.peak_rss = 0.0
        self._watch = threading.Thread(target=self._rss, daemon=True)
        self._watch.start()

    def _rss(self) -> None:
        while self.proc.poll() is None:
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_rss = max(self.peak_rss, int(line.split()[1]) / 1024)
            time.sleep(0.5)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        assert self.proc.stdout is not None
        self.proc.stdout.close()


def wait_delivered(store: object, n: int, timeout: float = 900) -> float:
    """The wall-clock time by which ``n`` recipients are delivered."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if store.stats.counts().get("delivered", 0) >= n:  # type: ignore[attr-defined]
            return time.time()
        time.sleep(0.05)
    raise SystemExit(f"timeout: {store.stats.counts()} after {timeout} s")  # type: ignore[attr-defined]


def body(size: int) -> str:
    line = "This is a benchmark message for the delivery engine. 0123456789 abcdefghij\n"
    return (line * (size // len(line) + 1))[: max(0, size - 300)]


def submit_all(client: Any, n: int, size: int, start: int = 0) -> None:
    text = body(size)
    for i in range(start, start + n):
        client.send(
            from_="bench@app.example",
            to=f"user{i}@{DOMAINS[i % len(DOMAINS)]}",
            subject=f"bench {i}",
            text=text,
        )


SUBMITTER = f"""
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from mailfate.client import Client
from mailfate.config import load_settings
url, text = sys.argv[1], sys.argv[4]
start, count, threads = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[5])
domains = {DOMAINS!r}
with Client(url, settings=load_settings(None)) as client:
    def send(i):
        to = f"user{{i}}@{{domains[i % len(domains)]}}"
        client.send(from_="bench@app.example", to=to, subject=f"bench {{i}}", text=text)
    print(time.time(), flush=True)  # the first submit starts now (as Postfix's timer starts at injection)
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(send, range(start, start + count)):
            pass
"""


def submit_parallel(
    url: str, n: int, size: int, processes: int, *, start: int = 0, threads: int = 10
) -> float:
    """N messages through ``Client.send`` from ``processes`` application processes of ``threads``
    threads each (Postfix's peer injects through 10 concurrent SMTP sessions); the wall-clock time
    of the first submit (process start-up is not counted, as smtp-source's is not)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILFATE_")}
    share = [n // processes + (1 if i < n % processes else 0) for i in range(processes)]
    procs, offset = [], start
    for count in share:
        cmd = [sys.executable, "-c", SUBMITTER, url, str(offset), str(count), body(size), str(threads)]
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True))
        offset += count
    starts = []
    for proc in procs:
        assert proc.stdout is not None
        starts.append(float(proc.stdout.readline()))
    for proc in procs:
        if proc.wait() != 0:
            raise SystemExit("a submitting process failed")
        assert proc.stdout is not None
        proc.stdout.close()
    return min(starts)


def run_mailfate(
    url: str,
    n: int,
    size: int,
    sink_port: int,
    folder: Path,
    *,
    submitters: int = 1,
    workers: int = 1,
    threads: int = 10,
) -> tuple[float, float]:
    """(end-to-end msgs/s, delivery-only msgs/s) on the store at ``url``, with ``workers`` worker
    processes (each with concurrency 100 // workers, so the receiver sees the same parallelism)."""
    from mailfate.client import Client
    from mailfate.config import load_settings
    from mailfate.store import Store

    config = write_config(folder, url, sink_port, concurrency=100 // workers)
    settings = load_settings(config)
    store = Store.open(url)
    client = Client(store, settings=settings)
    procs = [Worker(config) for _ in range(workers)]
    started = submit_parallel(url, n, size, submitters, threads=threads)
    done = wait_delivered(store, n)
    e2e = n / (done - started)
    for worker in procs:
        worker.stop()
    submit_all(client, n, size, start=n)
    procs = [Worker(config) for _ in range(workers)]
    done = wait_delivered(store, 2 * n)
    drain = n / (done - min(w.ready for w in procs))
    for worker in procs:
        worker.stop()
    store.close()
    return e2e, drain


def run_latency(url: str, seconds: float, sink_port: int, folder: Path) -> tuple[float, float, int]:
    from mailfate.client import Client
    from mailfate.config import load_settings
    from mailfate.store import Store

    config = write_config(folder, url, sink_port, concurrency=20)
    store = Store.open(url)
    client = Client(store, settings=load_settings(config))
    worker = Worker(config)
    ids = []
    count = int(seconds * 50)
    next_at = time.monotonic()
    for i in range(count):
        ids.append(
            client.send(
                from_="bench@app.example",
                to=f"code{i}@{DOMAINS[i % 5]}",
                template="verification-code",
                variables={"code": f"{i:06d}"},
            ).message_id
        )
        next_at += 0.02
        time.sleep(max(0.0, next_at - time.monotonic()))
    wait_delivered(store, count)
    worker.stop()
    latencies = []
    for mid in ids:
        view = store.messages.message(mid)
        assert view is not None
        done = next(e.at for e in view.events if e.type == "attempt" and e.data.get("outcome") == "delivered")
        latencies.append((done - view.created_at).total_seconds() * 1000)
    store.close()
    latencies.sort()
    return statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1], count


def run_big(url: str, n: int, sink_port: int, folder: Path) -> tuple[float, float, float]:
    """(peak worker RSS MB while draining n, Store.message ms median, msgs/s)."""
    from datetime import UTC, datetime

    from mailfate.model import NewMessage
    from mailfate.store import Store

    config = write_config(folder, url, sink_port, concurrency=100)
    store = Store.open(url)
    raw = b"From: bench@app.example\r\nSubject: big\r\n\r\n" + body(1024).encode()
    now = datetime.now(UTC)
    mids = [
        store.queue.submit(NewMessage("bench@app.example", (f"u{i}@{DOMAINS[i % 5]}",), raw), now).message_id
        for i in range(n)
    ]
    worker = Worker(config)
    done = wait_delivered(store, n, timeout=3600)
    rate = n / (done - worker.ready)
    worker.stop()
    times = []
    for mid in mids[:: max(1, n // 50)]:
        t = time.perf_counter()
        store.messages.message(mid)
        times.append((time.perf_counter() - t) * 1000)
    store.close()
    return worker.peak_rss, statistics.median(times), rate


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--skip-postfix", action="store_true")
    parser.add_argument("--runs", type=int, default=1, help="median of this many runs (each side)")
    parser.add_argument("--pg", action="store_true", help="also measure on PostgreSQL")
    parser.add_argument("--latency-seconds", type=float, default=10.0)
    parser.add_argument("--big", type=int, default=0, help="queue this many, measure RSS and trace time")
    parser.add_argument(
        "--threads",
        type=int,
        default=10,
        help="threads per application process calling Client.send (Postfix's peer injects through 10 "
        "concurrent SMTP sessions; concurrent submits share one commit)",
    )
    parser.add_argument(
        "--submitters",
        type=int,
        default=1,
        help="application processes calling Client.send (more contend for SQLite's one write lock)",
    )
    args = parser.parse_args()
    out: dict[str, float] = {"n": args.n}
    if not args.skip_postfix:
        if os.geteuid() != 0 or not (args.shared / "bench" / "postfix_peer.sh").exists():
            print("Postfix peer skipped: needs root and ../shared/bench/postfix_peer.sh (--shared DIR)")
        else:
            print(
                f"Postfix 3.7 peer, {args.n} messages (postfix_peer.sh, MODE=normal then drain) ...",
                flush=True,
            )
            normal = postfix(args.shared, args.n, "normal", args.runs)
            drain = postfix(args.shared, args.n, "drain", args.runs)
            if normal:
                out["postfix_e2e"] = normal.get("postfix_msgs_per_sec", 0)
                out["sink_ceiling"] = normal.get("sink_ceiling_msgs_per_sec", 0)
                rate, ceiling = out["postfix_e2e"], out["sink_ceiling"]
                print(f"postfix    end to end     {rate:8.0f} msg/s   (sink ceiling {ceiling:.0f})")
            if drain:
                out["postfix_drain"] = drain.get("postfix_msgs_per_sec", 0)
                print(f"postfix    delivery only  {out['postfix_drain']:8.0f} msg/s")
    with tempfile.TemporaryDirectory(prefix="mailfate-bench-") as tmp, smtp_sink() as sink_port:
        folder = Path(tmp)
        pairs = [
            run_mailfate(
                str(folder / f"sqlite{r}" / "store.db"),
                args.n,
                args.size,
                sink_port,
                folder / f"sqlite{r}",
                submitters=args.submitters,
                threads=args.threads,
            )
            for r in range(args.runs)
        ]
        e2e = statistics.median(p[0] for p in pairs)
        drain_rate = statistics.median(p[1] for p in pairs)
        out["mailfate_e2e"], out["mailfate_drain"] = e2e, drain_rate
        print(
            f"mailfate   end to end     {e2e:8.0f} msg/s   (SQLite, synchronous=FULL: durable like Postfix; "
            f"Client.send from {args.submitters} process(es) × {args.threads} threads, one worker; "
            f"median of {args.runs})"
        )
        print(f"mailfate   delivery only  {drain_rate:8.0f} msg/s   (SQLite)")
        if args.pg:
            from tests.support.postgres import PostgresServer

            server = PostgresServer(durable=True).start()  # fsync and synchronous_commit on
            try:
                for workers in (1, 2):
                    runs = [
                        run_mailfate(
                            server.new_database(),
                            args.n,
                            args.size,
                            sink_port,
                            folder / f"pg{workers}-{r}",
                            submitters=args.submitters,
                            workers=workers,
                            threads=args.threads,
                        )
                        for r in range(args.runs)
                    ]
                    e2e_pg = statistics.median(p[0] for p in runs)
                    drain_pg = statistics.median(p[1] for p in runs)
                    tag = "" if workers == 1 else f"_w{workers}"
                    out[f"mailfate_pg_e2e{tag}"], out[f"mailfate_pg_drain{tag}"] = e2e_pg, drain_pg
                    where = f"PostgreSQL, fsync + synchronous_commit on, {workers} worker(s)"
                    print(f"mailfate   end to end     {e2e_pg:8.0f} msg/s   ({where})")
                    print(f"mailfate   delivery only  {drain_pg:8.0f} msg/s   ({where})")
            finally:
                server.stop()
        if args.latency_seconds > 0:
            p50, p99, count = run_latency(
                str(folder / "lat" / "store.db"), args.latency_seconds, sink_port, folder / "lat"
            )
            out["latency_p50_ms"], out["latency_p99_ms"] = p50, p99
            print(f"latency at 50 msg/s, {count} verification codes: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        if args.big:
            rss, trace_ms, rate = run_big(
                str(folder / "big" / "store.db"), args.big, sink_port, folder / "big"
            )
            out["big_worker_rss_mb"], out["big_trace_ms"], out["big_drain_msgs_per_sec"] = rss, trace_ms, rate
            print(
                f"{args.big} queued: worker peak RSS {rss:.0f} MB, drained at {rate:.0f} msg/s, "
                f"Store.message {trace_ms:.1f} ms (median)"
            )
    if out.get("postfix_e2e"):
        out["ratio"] = out["mailfate_e2e"] / out["postfix_e2e"]
    if out.get("postfix_drain"):
        out["drain_ratio"] = out["mailfate_drain"] / out["postfix_drain"]
    if out.get("postfix_e2e") and out.get("mailfate_pg_e2e"):
        out["pg_ratio"] = out["mailfate_pg_e2e"] / out["postfix_e2e"]
    if out.get("postfix_drain") and out.get("mailfate_pg_drain"):
        out["pg_drain_ratio"] = out["mailfate_pg_drain"] / out["postfix_drain"]
    if "ratio" in out:
        print(
            f"ratio mailfate/postfix: end to end {out['ratio']:.2f} (target 1.5), delivery only "
            f"{out.get('drain_ratio', 0):.2f} (target 1.0)"
        )
    if "pg_ratio" in out:
        print(
            f"ratio on PostgreSQL, one worker: end to end {out['pg_ratio']:.2f} (target 1.2), delivery only "
            f"{out.get('pg_drain_ratio', 0):.2f} (target 1.0)"
        )
    print(" ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
