"""Benchmark: wall time of ``check_domain`` (``mailfate doctor domain``) against a local DNS server.

usage: python benchmarks/doctor_domain.py [--runs R] [--timeout SECONDS] [--json]

Prints, in one run on this machine (loopback only):
  1. the wall time of ``check_domain`` for a clean domain served by a real Knot DNS server (Debian
     package knot) with 10 sending IPs, 5 DNSBL zones, two DKIM selectors (RSA 2048 and ed25519), a
     custom MAIL FROM domain and a local MTA-STS policy fetch: the median and the worst of R runs
     (target: ≤ 2 s);
  2. the wall time against a DNS server that never answers (a bound UDP socket), with the given
     --timeout (target: ≤ timeout + 1 s).
``--json`` prints one JSON document instead. Skips with a clear message when knotd is missing.
"""

from __future__ import annotations

import argparse
import base64
import json
import socket
import statistics
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support.knot: the Knot runner the tests use

from tests.support.knot import KnotServer, knot_available, zone_text  # noqa: E402

from mailfate.doctor.domain import PolicyFetchError, check_domain  # noqa: E402

DOMAIN = "bench.test"
IPS = [f"192.0.2.{n}" for n in range(10, 20)]
LISTS = [f"bl{n}.test" for n in range(5)]
POLICY = "version: STSv1\nmode: enforce\nmx: mx.bench.test\nmax_age: 604800\n"


def _txt(value: str) -> str:
    return " ".join(f'"{value[i : i + 255]}"' for i in range(0, len(value), 255))


def _keys() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    ed = ed25519.Ed25519PrivateKey.generate().public_key()
    raw = ed.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return (
        f"v=DKIM1; k=rsa; p={base64.b64encode(spki).decode()}",
        f"v=DKIM1; k=ed25519; p={base64.b64encode(raw).decode()}",
    )


def zones() -> dict[str, str]:
    rsa_txt, ed_txt = _keys()
    hosts = "".join(f"m{n} IN A 192.0.2.{n}\n" for n in range(10, 20))
    ptrs = "".join(f"{n} IN PTR m{n}.bench.test.\n" for n in range(10, 20))
    out = {
        DOMAIN: zone_text(
            DOMAIN,
            '@ IN TXT "v=spf1 include:_spf.bench.test -all"\n'
            '_spf IN TXT "v=spf1 ip4:192.0.2.0/27 mx -all"\n'
            "@ IN MX 10 mx.bench.test.\nmx IN A 192.0.2.25\n"
            '_dmarc IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@bench.test"\n'
            f"rsa._domainkey IN TXT {_txt(rsa_txt)}\ned._domainkey IN TXT {_txt(ed_txt)}\n"
            '_mta-sts IN TXT "v=STSv1; id=1"\n_smtp._tls IN TXT "v=TLSRPTv1; rua=mailto:tls@bench.test"\n'
            'default._bimi IN TXT "v=BIMI1; l=https://bench.test/l.svg; a=https://bench.test/a.pem"\n'
            'bounce IN MX 10 mx.bench.test.\nbounce IN TXT "v=spf1 ip4:192.0.2.0/27 -all"\n' + hosts,
        ),
        "2.0.192.in-addr.arpa": zone_text("2.0.192.in-addr.arpa", ptrs),
    }
    for zone in LISTS:
        out[zone] = zone_text(zone, '15.2.0.192 IN A 127.0.0.2\n15.2.0.192 IN TXT "listed"\n')
    return out


def fetch(url: str, timeout: float) -> str:
    if url != f"https://mta-sts.{DOMAIN}/.well-known/mta-sts.txt":
        raise PolicyFetchError(f"not served: {url}")
    return POLICY


def run_once(nameserver: str, timeout: float) -> tuple[float, int, int]:
    started = time.monotonic()
    report = check_domain(
        DOMAIN,
        ips=IPS,
        selectors=["rsa", "ed"],
        nameserver=nameserver,
        timeout=timeout,
        dnsbl_zones=LISTS,
        mail_from=f"bounce.{DOMAIN}",
        fetch_policy=fetch,
    )
    return time.monotonic() - started, report.queries, len(report.findings)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--timeout", type=float, default=2.0, help="check_domain's timeout for the silent run"
    )
    parser.add_argument("--json", action="store_true", help="one JSON document instead of text")
    args = parser.parse_args()
    if not knot_available():
        print("skipped: Knot DNS (knotd) is not installed; apt-get install knot", file=sys.stderr)
        return 0
    with KnotServer(zones()) as server:
        times, queries, findings = [], 0, 0
        for _ in range(args.runs):
            took, queries, findings = run_once(server.address, timeout=5.0)
            times.append(took)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent_took, _, silent_findings = run_once(f"127.0.0.1:{silent.getsockname()[1]}", args.timeout)
    result = {
        "ips": len(IPS),
        "dnsbl_zones": len(LISTS),
        "runs": args.runs,
        "median_seconds": round(statistics.median(times), 3),
        "worst_seconds": round(max(times), 3),
        "dns_queries": queries,
        "findings": findings,
        "target_seconds": 2.0,
        "silent_timeout": args.timeout,
        "silent_seconds": round(silent_took, 3),
        "silent_target_seconds": args.timeout + 1.0,
        "silent_findings": silent_findings,
    }
    result["ok"] = result["worst_seconds"] <= 2.0 and silent_took <= args.timeout + 1.0
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"check_domain, {len(IPS)} IPs x {len(LISTS)} DNSBLs against Knot: median "
            f"{result['median_seconds']} s, worst {result['worst_seconds']} s over {args.runs} runs "
            f"({queries} DNS queries, {findings} findings; target <= 2 s)"
        )
        print(
            f"check_domain against a DNS server that never answers, --timeout {args.timeout:g}: "
            f"{result['silent_seconds']} s (target <= {args.timeout + 1:g} s)"
        )
        print(" ".join(f"{k}={v}" for k, v in result.items()))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
