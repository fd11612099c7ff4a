"""Benchmark: how many messages per second ``mailfate simulator run`` accepts, beside Postfix's smtp-sink.

usage: python benchmarks/simulator_throughput.py [--messages N] [--sessions S] [--size BYTES]
                                                 [--runs R] [--concurrency C] [--skip-sink]

Prints, in one run on this machine (loopback only, ports >= 1024 chosen by the system):
  1. messages/second of ``mailfate simulator run`` with its inbox on (the default) and, in the same
     run, with ``--no-inbox`` (and the ratio on/off); each a subprocess, maildir and journal in a
     temporary directory, recipient x@accept.mailfate.test) driven by Postfix's ``smtp-source``
     with S parallel sessions, with connection reuse (``-d``: many messages per connection, as a
     delivery engine sends) and with one connection per message; the median of R runs;
  2. the same for Postfix's ``smtp-sink`` (which stores nothing) and the ratio mailfate/sink;
  3. C concurrent SMTP connections held open at once (banner + EHLO on every one, all open, then
     one message each): how many completed, and the time;
  4. the simulator's peak RSS (VmHWM) at the end.
The last line is ``key=value`` pairs for scripts. Skips with a clear message when smtp-source or
smtp-sink (Debian package postfix; ``bin/test`` installs it as root) is missing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LO = "127.0.0.1"
DOMAIN = "accept.mailfate.test"
OPENING = 100
"""Connections being opened at the same moment (the rest wait): a burst larger than the server's
listen backlog stalls in SYN-ACK retransmits for seconds, which measures the kernel, not the server."""


def tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    path = f"/usr/sbin/{name}"
    return path if os.access(path, os.X_OK) else None


def mailfate_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "mailfate"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "mailfate.cli"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LO, 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((LO, port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {LO}:{port} after {timeout:.0f} s")


def raise_fd_limit(want: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class Simulator:
    """``mailfate simulator run --json --port 0`` as a subprocess; the ports come from its JSON line
    (``control``: serve the control port too — the inbox's API — at ``control_url``)."""

    def __init__(self, workdir: Path, inbox: bool = True, *, control: bool = False) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                *mailfate_cmd(),
                "simulator",
                "run",
                "--json",
                "--host",
                LO,
                "--port",
                "0",
                *([] if control else ["--control-port", "0"]),
                "--maildir",
                str(workdir / "maildir"),
                "--journal",
                str(workdir / "transactions.jsonl"),
                *([] if inbox else ["--no-inbox"]),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=workdir,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise SystemExit(f"mailfate simulator run did not start: {err.strip()}")
        info = json.loads(line)
        self.port = int(info["smtp"]["port"])
        self.control_url = str(info.get("control_url") or "")

    def stop(self) -> float:
        rss = peak_rss_mb(self.proc.pid)
        self.proc.send_signal(2)  # SIGINT: the clean stop
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return rss


class Sink:
    """Postfix's smtp-sink on a free loopback port (as user nobody when run as root)."""

    def __init__(self, binary: str, concurrency: int) -> None:
        self.port = free_port()
        most = str(max(256, concurrency + 64))  # smtp-sink serves 256 sessions at once by default
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        self.proc = subprocess.Popen(
            [binary, *user, "-m", most, f"{LO}:{self.port}", "1024"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_port(self.port)

    def stop(self) -> float:
        rss = peak_rss_mb(self.proc.pid)
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return rss


def drive(source: str, port: int, args: argparse.Namespace, reuse: bool) -> float:
    """Messages/second of one smtp-source run against ``port``."""
    cmd = [source, *(["-d"] if reuse else []), "-s", str(args.sessions), "-m", str(args.messages)]
    cmd += ["-l", str(args.size), "-M", "bench.test", "-f", "a@b.test", "-t", f"x@{DOMAIN}"]
    t0 = time.perf_counter()
    proc = subprocess.run([*cmd, f"{LO}:{port}"], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"smtp-source failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return int(args.messages) / elapsed


# -- concurrent connections ---------------------------------------------------------------------
async def read_reply(reader: asyncio.StreamReader) -> str:
    """One (possibly multi-line) SMTP reply; returns its last line."""
    while True:
        line = (await reader.readline()).decode("ascii", "replace")
        if not line:
            raise ConnectionError("connection closed")
        if len(line) < 4 or line[3] != "-":
            return line.rstrip()


async def expect(reader: asyncio.StreamReader, code: str) -> None:
    line = await read_reply(reader)
    if not line.startswith(code):
        raise ConnectionError(f"expected {code}, got {line!r}")


async def held_connections(port: int, count: int, timeout: float) -> tuple[int, int, float]:
    """Open ``count`` connections (banner + EHLO each, at most OPENING at a time), hold them all
    open at once, then send one message on each.

    Returns (connections opened and greeted, messages accepted, seconds for the whole run).
    """
    opened = asyncio.Event()
    greeted = 0
    body = b"Subject: held\r\nFrom: a@b.test\r\nTo: x@" + DOMAIN.encode() + b"\r\n\r\nheld open\r\n.\r\n"

    opening = asyncio.Semaphore(OPENING)

    async def one(i: int) -> bool:
        nonlocal greeted
        async with opening:
            reader, writer = await asyncio.open_connection(LO, port)
        try:
            async with opening:
                await expect(reader, "220")
                writer.write(f"EHLO c{i}.bench.test\r\n".encode())
                await expect(reader, "250")
            greeted += 1
            if greeted == count:
                opened.set()
            await opened.wait()
            for cmd, code in ((b"MAIL FROM:<a@b.test>", "250"), (f"RCPT TO:<c{i}@{DOMAIN}>".encode(), "250")):
                writer.write(cmd + b"\r\n")
                await expect(reader, code)
            writer.write(b"DATA\r\n")
            await expect(reader, "354")
            writer.write(body)
            await expect(reader, "250")
            writer.write(b"QUIT\r\n")
            await expect(reader, "221")
            return True
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    t0 = time.perf_counter()
    tasks = [asyncio.create_task(one(i)) for i in range(count)]
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    if not opened.is_set():
        opened.set()  # release the ones that did get through, so their messages are counted
        more, pending = await asyncio.wait(pending, timeout=timeout) if pending else (set(), pending)
        done |= more
    for task in pending:
        task.cancel()
    ok = sum(1 for t in done if not t.cancelled() and t.exception() is None and t.result())
    errors = {repr(t.exception()) for t in done if not t.cancelled() and t.exception() is not None}
    if errors:
        print(f"  held-connection errors ({len(errors)} kinds): {sorted(errors)[:3]}", file=sys.stderr)
    return greeted, ok, time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=500)
    parser.add_argument("--skip-sink", action="store_true", help="measure only the simulator")
    args = parser.parse_args()
    source, sink_bin = tool("smtp-source"), tool("smtp-sink")
    if source is None or sink_bin is None:
        print(
            "SKIP: smtp-source/smtp-sink not found (Debian package postfix; bin/test installs it as root)",
            file=sys.stderr,
        )
        return 0
    limit = raise_fd_limit(max(4096, 4 * args.concurrency + 256))
    print(
        f"{args.messages} messages of {args.size} bytes, {args.sessions} sessions, "
        f"median of {args.runs} runs, "
        f"{args.concurrency} held connections (fd limit {limit})"
    )
    keys = ("sim_reuse", "sim_new", "off_reuse", "off_new", "sink_reuse", "sink_new")
    rates: dict[str, list[float]] = {k: [] for k in keys}
    with tempfile.TemporaryDirectory(prefix="mailfate-simbench-") as tmp:
        sim = Simulator(Path(tmp))
        off = Simulator(Path(tmp) / "no-inbox", inbox=False)
        sink = None if args.skip_sink else Sink(sink_bin, args.concurrency)
        try:
            for _ in range(args.runs):
                rates["sim_reuse"].append(drive(source, sim.port, args, reuse=True))
                rates["sim_new"].append(drive(source, sim.port, args, reuse=False))
                rates["off_reuse"].append(drive(source, off.port, args, reuse=True))
                rates["off_new"].append(drive(source, off.port, args, reuse=False))
                if sink is not None:
                    rates["sink_reuse"].append(drive(source, sink.port, args, reuse=True))
                    rates["sink_new"].append(drive(source, sink.port, args, reuse=False))
            greeted, held_ok, held_s = asyncio.run(held_connections(sim.port, args.concurrency, 120.0))
            sink_held = (
                asyncio.run(held_connections(sink.port, args.concurrency, 120.0))
                if sink is not None
                else None
            )
            stored = sum(1 for _ in (Path(tmp) / "maildir" / DOMAIN).glob("*.eml"))
        finally:
            sim_rss = sim.stop()
            off.stop()
            sink_rss = sink.stop() if sink is not None else float("nan")
    med = {k: statistics.median(v) if v else float("nan") for k, v in rates.items()}
    print(f"simulator  reuse (-d)          {med['sim_reuse']:9.0f} msg/s")
    print(f"simulator  connection per msg  {med['sim_new']:9.0f} msg/s")
    print(f"no inbox   reuse (-d)          {med['off_reuse']:9.0f} msg/s")
    print(f"no inbox   connection per msg  {med['off_new']:9.0f} msg/s")
    print(
        f"ratio inbox on/off            reuse {med['sim_reuse'] / med['off_reuse']:.2f}   "
        f"new connection {med['sim_new'] / med['off_new']:.2f}"
    )
    if sink is not None:
        print(f"smtp-sink  reuse (-d)          {med['sink_reuse']:9.0f} msg/s")
        print(f"smtp-sink  connection per msg  {med['sink_new']:9.0f} msg/s")
        print(
            f"ratio mailfate/sink           reuse {med['sim_reuse'] / med['sink_reuse']:.2f}   "
            f"new connection {med['sim_new'] / med['sink_new']:.2f}"
        )
    print(
        f"held connections: {greeted}/{args.concurrency} greeted at once, {held_ok} messages accepted, "
        f"{held_s:.2f} s" + (f" (smtp-sink: {sink_held[1]} in {sink_held[2]:.2f} s)" if sink_held else "")
    )
    print(f"stored .eml files: {stored}; simulator peak RSS {sim_rss:.1f} MB (smtp-sink {sink_rss:.1f} MB)")
    target = med["sim_reuse"] >= 2000 and held_ok >= args.concurrency
    print(
        f"target (>= 2000 msg/s with reuse, {args.concurrency} connections): {'met' if target else 'NOT met'}"
    )
    pairs = {
        "sim_reuse_msgs_per_sec": f"{med['sim_reuse']:.0f}",
        "sim_newconn_msgs_per_sec": f"{med['sim_new']:.0f}",
        "noinbox_reuse_msgs_per_sec": f"{med['off_reuse']:.0f}",
        "noinbox_newconn_msgs_per_sec": f"{med['off_new']:.0f}",
        "inbox_ratio_reuse": f"{med['sim_reuse'] / med['off_reuse']:.2f}",
        "sink_reuse_msgs_per_sec": f"{med['sink_reuse']:.0f}",
        "sink_newconn_msgs_per_sec": f"{med['sink_new']:.0f}",
        "held_ok": str(held_ok),
        "held_seconds": f"{held_s:.2f}",
        "sim_peak_rss_mb": f"{sim_rss:.1f}",
        "n": str(args.messages),
    }
    print(" ".join(f"{k}={v}" for k, v in pairs.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
