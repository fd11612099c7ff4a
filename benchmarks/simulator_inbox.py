"""Benchmark: how fast the simulator's inbox API answers with 10,000 stored messages.

usage: python benchmarks/simulator_inbox.py [--messages N] [--requests R] [--sessions S]

Starts ``mailfate simulator run`` (a subprocess, loopback, free ports, maildir in a temporary
directory), sends N messages over SMTP (S pipelined sessions; recipients user0..user999 at
accept.mailfate.test, subjects and bodies with a few words each), then times R requests of each
kind over one keep-alive HTTP connection:

  1. ``GET /api/v1/messages`` (the first page of 50),
  2. ``GET /api/v1/search?query=to:userNNN@accept.mailfate.test`` (a different user each time),
  3. ``GET /api/v1/search?query=WORD`` (free text over addresses, subjects and bodies),
  4. ``GET /api/v1/message/{ID}`` (a random message, parsed in full).

Prints p50/p99/max in milliseconds for each, the first (cold) search separately (it parses every
summary once), and whether every p99 meets the target of 20 ms. The last line is ``key=value``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from simulator_throughput import LO, Simulator

DOMAIN = "accept.mailfate.test"
WORDS = ["invoice", "welcome", "password", "verify", "receipt", "shipping", "newsletter", "security", "order"]
TARGET_MS = 20.0


def body(i: int) -> bytes:
    rnd = random.Random(i)
    words = " ".join(rnd.choice(WORDS) for _ in range(12))
    subject = f"{rnd.choice(WORDS).title()} #{i}"
    return (
        f"From: Shop <shop{i % 7}@app.example>\r\nTo: user{i % 1000}@{DOMAIN}\r\nSubject: {subject}\r\n"
        f"Message-ID: <m{i}@app.example>\r\n\r\n"
        f"Hello user{i % 1000},\r\n{words}\r\nYour code is {100000 + i}\r\n"
    ).encode()


async def session(port: int, numbers: list[int]) -> None:
    reader, writer = await asyncio.open_connection(LO, port)

    async def reply() -> bytes:
        while True:
            line = await reader.readline()
            if not line:
                raise ConnectionError("closed")
            if line[3:4] != b"-":
                return line

    await reply()
    writer.write(b"EHLO bench.example\r\n")
    await reply()
    for i in numbers:
        writer.write(f"MAIL FROM:<b@app.example>\r\nRCPT TO:<user{i % 1000}@{DOMAIN}>\r\nDATA\r\n".encode())
        for _ in range(3):
            await reply()
        writer.write(body(i) + b".\r\n")
        line = await reply()
        if not line.startswith(b"250"):
            raise ConnectionError(line)
    writer.write(b"QUIT\r\n")
    await reply()
    writer.close()


async def fill(port: int, n: int, sessions: int) -> None:
    await asyncio.gather(*(session(port, list(range(s, n, sessions))) for s in range(sessions)))


def timed(client: httpx.Client, paths: list[str]) -> list[float]:
    out = []
    for path in paths:
        t0 = time.perf_counter()
        r = client.get(path)
        out.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"GET {path}: HTTP {r.status_code} {r.text[:200]}")
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--sessions", type=int, default=20)
    args = parser.parse_args()
    rnd = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="mailfate-inboxbench-") as tmp:
        sim = Simulator(Path(tmp), control=True)
        port, url = sim.port, sim.control_url
        try:
            t0 = time.perf_counter()
            asyncio.run(fill(port, args.messages, args.sessions))
            fill_s = time.perf_counter() - t0
            with httpx.Client(base_url=url, timeout=60) as client:
                total = client.get("/api/v1/info").json()["Messages"]
                cold = timed(client, [f"/api/v1/search?query=to:user1@{DOMAIN}"])[0]
                ids = [
                    m["ID"] for m in client.get(f"/api/v1/messages?limit={args.messages}").json()["messages"]
                ]
                n = args.requests
                results = {
                    "list": timed(client, ["/api/v1/messages"] * n),
                    "search_to": timed(
                        client,
                        [f"/api/v1/search?query=to:user{rnd.randrange(1000)}@{DOMAIN}" for _ in range(n)],
                    ),
                    "search_text": timed(
                        client, [f"/api/v1/search?query={rnd.choice(WORDS)}" for _ in range(n)]
                    ),
                    "message": timed(client, [f"/api/v1/message/{rnd.choice(ids)}" for _ in range(n)]),
                }
        finally:
            sim.stop()
    print(
        f"{total} messages stored in {fill_s:.1f} s ({args.messages / fill_s:.0f} msg/s over SMTP); "
        f"{n} requests each"
    )
    print(f"first search (cold: parses every summary once): {cold:.0f} ms")
    met = True
    pairs = {"messages": str(total), "cold_search_ms": f"{cold:.1f}"}
    for name, values in results.items():
        p50, p99 = statistics.median(values), pct(values, 99)
        met = met and p99 <= TARGET_MS
        print(f"{name:12s} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   max {max(values):6.2f} ms")
        pairs[f"{name}_p50_ms"], pairs[f"{name}_p99_ms"] = f"{p50:.2f}", f"{p99:.2f}"
    print(f"target (p99 <= {TARGET_MS:g} ms for each): {'met' if met else 'NOT met'}")
    print(" ".join(f"{k}={v}" for k, v in pairs.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
