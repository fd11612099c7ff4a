"""Benchmark: ``POST /v1/messages`` of a running ``mailfate serve``, driven by wrk.

usage: python benchmarks/api_load.py [--seconds S] [--connections C] [--rate R]

Starts ``mailfate serve`` (SQLite store in a temporary directory; its workers deliver to Postfix's
``smtp-sink`` so the whole service runs, as in production), makes a ``send`` key, and drives the
API with ``wrk`` (Debian package wrk; ``bin/test`` installs it as root): C connections for S
seconds, each request a verification code to its own address. Prints requests/second, latency
percentiles (p50, p99) from wrk's own histogram, non-2xx responses, and how many messages the
store holds afterwards. With ``--rate R`` it also runs ``wrk2``-style pacing by limiting
connections (wrk has no rate option): a second run with C=8 shows latency under a lighter load.
The last line is ``key=value`` pairs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from delivery_vs_postfix import smtp_sink, write_config

LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"from": "no-reply@app.example", "to": ["user%%d.%%d@naver.test"], '
    .. '"template": "verification-code", "variables": {"code": "428913"}, "lang": "ko"}',
    counter, math.random(1, 1000000000))
  return wrk.format(nil, "/v1/messages", nil, body)
end
"""


def parse(out: str) -> dict[str, float]:
    def ms(text: str) -> float:
        value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    found: dict[str, float] = {}
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    found["rps"] = float(rps.group(1)) if rps else 0.0
    for pct in ("50", "99"):
        m = re.search(rf"\s{pct}(?:\.000)?%\s+([\d.]+(?:us|ms|s))", out)
        if m:
            found[f"p{pct}_ms"] = ms(m.group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    found["non_2xx"] = float(bad.group(1)) if bad else 0.0
    errors = re.search(r"Socket errors:.*", out)
    found["socket_errors"] = (
        float(sum(int(x) for x in re.findall(r"\d+", errors.group(0)))) if errors else 0.0
    )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--together",
        action="store_true",
        help="workers in the API process (default: `serve --no-workers` plus a `mailfate worker` process)",
    )
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is missing (Debian package wrk; bin/test installs it as root)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILFATE_")}
    with tempfile.TemporaryDirectory(prefix="mailfate-api-") as tmp, smtp_sink() as sink_port:
        folder = Path(tmp)
        config = write_config(folder, str(folder / "store.db"), sink_port, concurrency=100)
        mf = [sys.executable, "-m", "mailfate"]
        made = subprocess.run(
            [*mf, "keys", "create", "--scope", "send", "--json", "--config", str(config)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        key = json.loads(made.stdout)["key"]
        serve = subprocess.Popen(
            [
                *mf,
                "serve",
                "--config",
                str(config),
                "--http-port",
                "0",
                "--submission-port",
                "-1",
                "--inbound-port",
                "0",
                "--json",
                *([] if args.together else ["--no-workers"]),
            ],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        worker = None
        if not args.together:
            worker = subprocess.Popen(
                [*mf, "worker", "--config", str(config), "--json"], stdout=subprocess.PIPE, text=True, env=env
            )
            assert worker.stdout is not None
            worker.stdout.readline()
        assert serve.stdout is not None
        url = json.loads(serve.stdout.readline())["http"]
        script = folder / "post.lua"
        script.write_text(LUA % key, "utf-8")
        results = {}
        try:
            subprocess.run(
                [wrk, "-t1", "-c4", "-d2s", "-s", str(script), url], capture_output=True, check=True
            )
            for label, conns in (("load", args.connections), ("light", 4)):
                proc = subprocess.run(
                    [
                        wrk,
                        "-t2" if conns > 1 else "-t1",
                        f"-c{conns}",
                        f"-d{args.seconds}s",
                        "--latency",
                        "-s",
                        str(script),
                        url,
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                results[label] = parse(proc.stdout)
                r = results[label]
                print(
                    f"{label:5} {conns:3} connections: {r['rps']:7.0f} req/s, "
                    f"p50 {r.get('p50_ms', 0):5.1f} ms, "
                    f"p99 {r.get('p99_ms', 0):5.1f} ms, non-2xx {r['non_2xx']:.0f}, socket errors "
                    f"{r['socket_errors']:.0f}"
                )
        finally:
            serve.terminate()
            serve.wait(60)
            serve.stdout.close()
            if worker is not None and worker.stdout is not None:
                worker.terminate()
                worker.wait(60)
                worker.stdout.close()
    load = results.get("load", {})
    met = load.get("rps", 0) >= 1000 and load.get("p99_ms", 1e9) <= 50
    print(f"target (>= 1000 req/s sustained with p99 <= 50 ms): {'met' if met else 'NOT met'}")
    print(" ".join(f"{label}_{k}={v:.1f}" for label, r in results.items() for k, v in r.items()))


if __name__ == "__main__":
    main()
