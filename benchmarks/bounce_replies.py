"""Benchmark: SMTP replies as receivers document them, classified by mailfate and by Sisimai.

usage: python benchmarks/bounce_replies.py [--data FILE] [--lines N] [--runs N] [--skip-peer]
                                           [--json OUT]

The set is benchmarks/data/documented_replies.jsonl (see the README beside it): one reply a line,
labelled from what the receiver's page says it means. It is split 70/30 by a stable hash of the
reply text (benchmarks/corpus_split.py): rules may be written from the *fit* part; nobody tunes a
rule on the *check* part, whose figure is the generalization figure.

Prints, for mailfate (through ``mailfate bounce reply -``, the whole CLI) and for the Sisimai peer
(Debian libsisimai-perl, ``Sisimai->match`` in one perl process reading the replies on stdin):
  * per provider and overall: reason accuracy, documented dead addresses caught as hard (n of N),
    false hards (replies whose documented cause is not a dead address, marked hard), retry right,
    cause agreement (mailfate only: Sisimai has no cause and no retry);
  * the same overall for the fit part, the check part and all, and the gap check - fit;
  * replies/second of ``mailfate bounce reply -`` as a whole process on the set repeated to about
    --lines lines (start-up included), and of the Sisimai one-liner on the same input;
  * in-process ``classify_reply`` replies/second over distinct variants of the set.
Nothing here is tuned to the set.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from corpus_split import part_of_key

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data" / "documented_replies.jsonl"
DEAD_CAUSES = frozenset({"mailbox-unknown", "domain-unknown", "null-mx", "mailbox-moved"})
SISIMAI_HARD = frozenset({"userunknown", "hostunknown", "hasmoved", "notaccept"})
PERL_MATCH = (
    "use Sisimai; binmode STDIN, ':encoding(UTF-8)'; binmode STDOUT, ':encoding(UTF-8)'; $| = 0;"
    " while (my $l = <STDIN>) { chomp $l; next unless $l =~ /\\S/;"
    " my $r = Sisimai->match($l); print((defined $r ? $r : ''), \"\\n\") }"
)


def mailfate_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "mailfate"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "mailfate.cli"]


def load(path: Path) -> list[dict[str, Any]]:
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    for r in rows:
        r["part"] = part_of_key(r["reply"])
    return rows


def one_line(reply: str) -> str:
    """A reply as one input line (a documented reply never holds a newline, but be safe)."""
    return " ".join(reply.split())


def run_mailfate(lines: list[str]) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [*mailfate_cmd(), "bounce", "reply", "-"],
        input="".join(x + "\n" for x in lines).encode("utf-8"),
        capture_output=True,
        check=True,
    )
    return [json.loads(x) for x in proc.stdout.decode("utf-8").splitlines() if x.strip()]


def run_sisimai(lines: list[str]) -> list[str]:
    proc = subprocess.run(
        ["perl", "-e", PERL_MATCH],
        input="".join(x + "\n" for x in lines).encode("utf-8"),
        capture_output=True,
        check=True,
    )
    return proc.stdout.decode("utf-8").split("\n")[: len(lines)]


class Tally:
    """Counts for one group of replies."""

    def __init__(self) -> None:
        self.n = self.reason_ok = self.dead = self.dead_hard = 0
        self.alive = self.false_hard = self.retry_ok = self.cause_ok = 0

    def add(
        self, row: dict[str, Any], reason: str, hard: bool, retry: bool | None, cause: str | None
    ) -> None:
        self.n += 1
        self.reason_ok += reason == row["reason"]
        if row["hard"]:
            self.dead += 1
            self.dead_hard += hard
        elif row["cause"] not in DEAD_CAUSES:
            self.alive += 1
            self.false_hard += hard
        if retry is not None:
            self.retry_ok += retry == row["retry"]
        if cause is not None:
            self.cause_ok += cause == row["cause"]

    def pct(self, k: int, n: int | None = None) -> float:
        d = self.n if n is None else n
        return 100.0 * k / d if d else 0.0

    def figures(self, with_cause: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "n": self.n,
            "reason_pct": round(self.pct(self.reason_ok), 1),
            "dead_caught": f"{self.dead_hard}/{self.dead}",
            "false_hard": f"{self.false_hard}/{self.alive}",
        }
        if with_cause:
            out["retry_pct"] = round(self.pct(self.retry_ok), 1)
            out["cause_pct"] = round(self.pct(self.cause_ok), 1)
        return out

    def line(self, label: str, with_cause: bool) -> str:
        s = (
            f"  {label:<14} {self.n:>4}  reason {self.pct(self.reason_ok):5.1f}%"
            f"  dead caught {self.dead_hard:>3}/{self.dead:<3}"
            f"  false hards {self.false_hard:>2}/{self.alive:<3}"
        )
        if with_cause:
            s += f"  retry {self.pct(self.retry_ok):5.1f}%  cause {self.pct(self.cause_ok):5.1f}%"
        return s


def tallies(
    rows: list[dict[str, Any]], verdicts: Iterable[tuple[str, bool, bool | None, str | None]]
) -> tuple[dict[str, Tally], dict[str, Tally]]:
    """(by provider, by part: fit, check, all)."""
    by_provider: dict[str, Tally] = defaultdict(Tally)
    by_part: dict[str, Tally] = defaultdict(Tally)
    for row, (reason, hard, retry, cause) in zip(rows, verdicts, strict=True):
        by_provider[row["provider"]].add(row, reason, hard, retry, cause)
        by_part[row["part"]].add(row, reason, hard, retry, cause)
        by_part["all"].add(row, reason, hard, retry, cause)
    return by_provider, by_part


def report(
    name: str, by_provider: dict[str, Tally], by_part: dict[str, Tally], with_cause: bool
) -> dict[str, Any]:
    print(f"-- {name}: per provider (all parts)")
    for provider in sorted(by_provider, key=lambda p: (-by_provider[p].n, p)):
        print(by_provider[provider].line(provider, with_cause))
    print(f"-- {name}: overall")
    for part in ("fit", "check", "all"):
        print(by_part[part].line(part, with_cause))
    fit, check = by_part["fit"], by_part["check"]
    gap = check.pct(check.reason_ok) - fit.pct(fit.reason_ok)
    text = f"  gap check - fit: reason {gap:+.1f} points"
    if with_cause:
        text += (
            f", retry {check.pct(check.retry_ok) - fit.pct(fit.retry_ok):+.1f}"
            f", cause {check.pct(check.cause_ok) - fit.pct(fit.cause_ok):+.1f}"
        )
    print(text + " (target: check within 3 points of fit)")
    return {
        "providers": {p: t.figures(with_cause) for p, t in by_provider.items()},
        "parts": {p: by_part[p].figures(with_cause) for p in ("fit", "check", "all")},
        "reason_gap_check_minus_fit": round(gap, 1),
    }


def timed(cmd: list[str], payload: Path) -> float:
    with payload.open("rb") as stdin:
        t0 = time.perf_counter()
        subprocess.run(cmd, stdin=stdin, stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - t0


def in_process_speed(replies: list[str], rounds: int = 7) -> tuple[float, float, int]:
    """(best, median) replies/second of classify_reply over distinct variants of the set."""
    from mailfate.bounce.classify import default_classifier

    classify = default_classifier().classify_reply
    variants = [f"{r} (ref {i})" for i, r in enumerate(replies * max(1, 20_000 // max(1, len(replies))))]
    classify("550 5.1.1 warm-up")
    rates = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for text in variants:
            classify(text)
        rates.append(len(variants) / (time.perf_counter() - t0))
    return max(rates), statistics.median(rates), len(set(variants))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--lines", type=int, default=100_000, help="lines in the whole-process speed run")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--json", type=Path, help="write the figures here too")
    a = ap.parse_args()
    if not a.data.exists():
        print(f"skipped: no reply set at {a.data}")
        return 0
    rows = load(a.data)
    lines = [one_line(r["reply"]) for r in rows]
    peer = not a.skip_peer and shutil.which("perl") is not None
    if peer and subprocess.run(["perl", "-MSisimai", "-e", "1"], capture_output=True, check=False).returncode:
        print("Sisimai is not installed (Debian package libsisimai-perl): the peer is skipped")
        peer = False
    parts = {p: sum(r["part"] == p for r in rows) for p in ("fit", "check")}
    print(
        f"== {len(rows)} documented replies from {len({r['provider'] for r in rows})} providers "
        f"({parts['fit']} fit, {parts['check']} check); {sum(r['hard'] for r in rows)} documented dead "
        "addresses"
    )
    figures: dict[str, Any] = {"replies": len(rows), "fit": parts["fit"], "check": parts["check"]}

    out = run_mailfate(lines)
    if len(out) != len(rows):
        print(f"mailfate printed {len(out)} lines for {len(rows)} replies", file=sys.stderr)
        return 1
    mine = [(o["reason"], bool(o["hardbounce"]), bool(o["retry"]), str(o["cause"])) for o in out]
    figures["mailfate"] = report("mailfate", *tallies(rows, mine), with_cause=True)
    if peer:
        reasons = run_sisimai(lines)
        theirs = [(r, r in SISIMAI_HARD, None, None) for r in reasons]
        figures["sisimai"] = report("sisimai 4.25 (Sisimai->match)", *tallies(rows, theirs), with_cause=False)

    copies = max(1, -(-a.lines // len(lines)))
    total = copies * len(lines)
    with tempfile.TemporaryDirectory(prefix="mailfate-replies-") as tmp:
        payload = Path(tmp) / "replies.txt"
        payload.write_text("".join(x + "\n" for x in lines) * copies, encoding="utf-8")
        print(f"== whole process, {total} lines ({copies} copies of the set), median of {a.runs} runs")
        rates = [total / timed([*mailfate_cmd(), "bounce", "reply", "-"], payload) for _ in range(a.runs)]
        rate = statistics.median(rates)
        figures["mailfate_replies_per_sec"] = round(rate)
        runs = ", ".join(f"{r:,.0f}" for r in rates)
        print(f"  mailfate bounce reply - : {rate:10,.0f} replies/s  (runs: {runs}; target >= 50,000)")
        if peer:
            p_rates = [total / timed(["perl", "-e", PERL_MATCH], payload) for _ in range(a.runs)]
            p_rate = statistics.median(p_rates)
            figures["sisimai_replies_per_sec"] = round(p_rate)
            print(f"  sisimai match one-liner: {p_rate:10,.0f} replies/s  ({rate / p_rate:.2f}x)")
    best, median, distinct = in_process_speed(lines)
    figures["classify_reply_per_sec_best"] = round(best)
    figures["classify_reply_per_sec_median"] = round(median)
    print(
        f"== classify_reply in process: {best:,.0f} replies/s best round, {median:,.0f} median of 7, "
        f"over {distinct} distinct replies"
    )
    if a.json:
        a.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
