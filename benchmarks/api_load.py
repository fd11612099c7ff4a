"""Benchmark: ``POST /v1/messages`` of a running ``mailfate serve``, driven by wrk.

usage: python benchmarks/api_load.py [--seconds S] [--connections C] [--together] [--ses]

Starts ``mailfate serve`` (SQLite store in a temporary directory; its workers deliver to Postfix's
``smtp-sink`` so the whole service runs, as in production), makes a ``send`` key, and drives the
API with ``wrk`` (Debian package wrk; ``bin/test`` installs it as root): C connections for S
seconds, each request a verification code to its own address. Prints requests/second, latency
percentiles (p50, p99) from wrk's own histogram, non-2xx responses, and how many messages the
store holds afterwards, and the CPU time per request of the API process and of the worker process
(``api_cpu_ms``, ``worker_cpu_ms``: from /proc, what each request costs whatever else the machine
is doing — on a busy machine a steadier comparison than requests/second). With ``--rate R`` it
also runs ``wrk2``-style pacing by limiting connections (wrk has no rate option): a second run
with C=8 shows latency under a lighter load.
The last line is ``key=value`` pairs.

``--ses`` adds the same two runs against the SES endpoint (``POST /v2/email/outbound-emails``,
SESv2 ``SendEmail`` with Simple content), signed with an AWS key from ``keys create --aws`` —
SigV4 checking included — and prints them beside the ``/v1`` figures. wrk's Lua has no HMAC or
SHA-256, so the requests are *pre-signed*: just before each SES run, botocore's own signer signs
``S x 3000`` requests, each with its own body (its own recipient), all with the current
``x-amz-date`` (well within the server's 5-minute window), written to a file that the Lua script
replays, each wrk thread taking every other one. Should a run outlast the pool, the script starts
over (the same signed request again: still valid, a duplicate message); ``replayed`` says how many.
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


SES_LUA = """
local requests = {}
local position = 0
local step = 1

function setup(thread)
  thread:set("offset", SES_THREADS_SEEN or 0)
  SES_THREADS_SEEN = (SES_THREADS_SEEN or 0) + 1
end

function init(args)
  local file = io.open("%s", "rb")
  local data = file:read("*a")
  file:close()
  local at = 1
  while at <= #data do
    local nl = string.find(data, "\\n", at, true)
    local size = tonumber(string.sub(data, at, nl - 1))
    requests[#requests + 1] = string.sub(data, nl + 1, nl + size)
    at = nl + size + 1
  end
  position = tonumber(wrk.thread:get("offset")) or 0
  step = %d
end

request = function()
  position = position + step
  return requests[(position - 1) %% #requests + 1]
end
"""


def presign(path: Path, url: str, key_id: str, secret: str, count: int) -> None:
    """``count`` SESv2 SendEmail requests, each to its own address, signed now by botocore, as raw
    HTTP/1.1 requests (``<size>\\n<bytes>`` records) for :data:`SES_LUA`."""
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    signer = botocore.auth.SigV4Auth(Credentials(key_id, secret), "ses", "eu-west-1")
    host = url.removeprefix("http://")
    target = url + "/v2/email/outbound-emails"
    with path.open("wb") as out:
        for n in range(count):
            body = json.dumps(
                {
                    "FromEmailAddress": "no-reply@app.example",
                    "Destination": {"ToAddresses": [f"ses{n}.{os.getpid()}@naver.test"]},
                    "Content": {
                        "Simple": {
                            "Subject": {"Data": "Your code"},
                            "Body": {"Text": {"Data": "Your code is 428913"}},
                        }
                    },
                    "EmailTags": [{"Name": "flow", "Value": "signup"}],
                }
            ).encode()
            request = AWSRequest(
                method="POST", url=target, data=body, headers={"Content-Type": "application/json"}
            )
            signer.add_auth(request)
            head = f"POST /v2/email/outbound-emails HTTP/1.1\r\nHost: {host}\r\n" + "".join(
                f"{k}: {v}\r\n" for k, v in request.headers.items()
            )
            raw = head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body
            out.write(f"{len(raw)}\n".encode() + raw)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far; 0 where /proc is not there."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(
    wrk: str, script: Path, url: str, conns: int, seconds: int, *, pids: dict[str, int]
) -> dict[str, float]:
    """wrk's figures, and the CPU milliseconds per request each of ``pids`` (``api``, ``worker``)
    used meanwhile: less at the mercy of a busy machine than requests/second."""
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    proc = subprocess.run(
        [
            wrk,
            "-t2" if conns > 1 else "-t1",
            f"-c{conns}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    found = parse(proc.stdout)
    total = re.search(r"(\d+) requests in", proc.stdout)
    found["requests"] = float(total.group(1)) if total else 0.0
    for name, pid in pids.items():
        used = cpu_seconds(pid) - before[name]
        found[f"{name}_cpu_ms"] = 1000 * used / found["requests"] if found["requests"] else 0.0
    return found


def line(label: str, conns: int, r: dict[str, float]) -> str:
    cpu = "".join(
        f", {name} CPU {r[f'{name}_cpu_ms']:.2f} ms/req"
        for name in ("api", "worker")
        if f"{name}_cpu_ms" in r
    )
    return (
        f"{label:9} {conns:3} connections: {r['rps']:7.0f} req/s, "
        f"p50 {r.get('p50_ms', 0):5.1f} ms, p99 {r.get('p99_ms', 0):5.1f} ms, "
        f"non-2xx {r['non_2xx']:.0f}, socket errors {r['socket_errors']:.0f}{cpu}"
    )


def ses_runs(
    wrk: str,
    folder: Path,
    url: str,
    aws: dict[str, str],
    pids: dict[str, int],
    *,
    connections: int,
    seconds: int,
) -> dict[str, dict[str, float]]:
    """The SES runs (load, light), each on requests signed just before it."""
    results = {}
    for label, conns in (("ses_load", connections), ("ses_light", 4)):
        pool = folder / f"{label}.requests"
        count = seconds * 3000
        presign(pool, url, aws["aws_access_key_id"], aws["aws_secret_access_key"], count)
        script = folder / f"{label}.lua"
        script.write_text(SES_LUA % (pool, 2 if conns > 1 else 1), "utf-8")
        r = run_wrk(wrk, script, url, conns, seconds, pids=pids)
        r["replayed"] = max(0.0, r["requests"] - count)
        results[label] = r
    return results


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
    parser.add_argument(
        "--ses", action="store_true", help="also drive the SES endpoint (SigV4-signed SESv2 SendEmail)"
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
        aws: dict[str, str] = {}
        if args.ses:
            aws = json.loads(
                subprocess.run(
                    [*mf, "keys", "create", "--aws", "--scope", "send", "--json", "--config", str(config)],
                    capture_output=True,
                    text=True,
                    check=True,
                    env=env,
                ).stdout
            )
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
        results: dict[str, dict[str, float]] = {}
        pids = {"api": serve.pid, **({"worker": worker.pid} if worker is not None else {})}
        try:
            subprocess.run(
                [wrk, "-t1", "-c4", "-d2s", "-s", str(script), url], capture_output=True, check=True
            )
            for label, conns in (("load", args.connections), ("light", 4)):
                results[label] = run_wrk(wrk, script, url, conns, args.seconds, pids=pids)
            if args.ses:
                results.update(
                    ses_runs(wrk, folder, url, aws, pids, connections=args.connections, seconds=args.seconds)
                )
            for label, conns in (("load", args.connections), ("light", 4)):
                print(line(f"v1 {label}", conns, results[label]))
                if args.ses:
                    r = results[f"ses_{label}"]
                    print(line(f"ses {label}", conns, r) + f", replayed {r['replayed']:.0f}")
        finally:
            serve.terminate()
            serve.wait(60)
            serve.stdout.close()
            if worker is not None and worker.stdout is not None:
                worker.terminate()
                worker.wait(60)
                worker.stdout.close()
    for label in ("load", "ses_load") if args.ses else ("load",):
        load = results.get(label, {})
        met = load.get("rps", 0) >= 1000 and load.get("p99_ms", 1e9) <= 50
        print(f"{label}: target (>= 1000 req/s sustained with p99 <= 50 ms): {'met' if met else 'NOT met'}")
    print(
        " ".join(
            f"{label}_{k}={v:.3f}" if k.endswith("cpu_ms") else f"{label}_{k}={v:.1f}"
            for label, r in results.items()
            for k, v in r.items()
        )
    )


if __name__ == "__main__":
    main()
