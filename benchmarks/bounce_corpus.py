"""Benchmark: mailfate's bounce classifier against Sisimai on the shared bounce corpus.

usage: python benchmarks/bounce_corpus.py [--corpus DIR] [--bench DIR] [--copies N] [--runs N]
                                          [--memory-files N] [--skip-peer] [--json OUT]

Prints, in one run on this machine:
  1. accuracy of mailfate and of the Sisimai peer (../shared/bench/sisimai_peer.pl, Debian
     libsisimai-perl), each scored by ../shared/bench/score_bounces.py on the corpus's fit part,
     its check part and all of it (benchmarks/corpus_split.py: 70/30 by a stable hash of each
     mail's path; rules are never tuned on the check part), and the gap check - fit;
  2. whole-process throughput (emails/second, start-up included) of ``mailfate bounce classify
     --json`` and of the peer over the corpus repeated --copies times (a few thousand mails), the
     median of --runs alternating runs, and the ratio; and of ``--jobs 0`` (one process per CPU:
     the figure beside Sisimai is the one-process one);
  3. peak RSS of ``mailfate bounce classify --json`` over a directory of --memory-files files;
  4. single-reply classification speed (classify_reply, distinct replies, replies/second).
The corpus is read in place; copies are symlinks in a temporary directory. Skips with a clear
message when ../shared is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from corpus_split import PARTS, labels_in, write_labels

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
MAILFATE = [sys.executable, "-m", "mailfate.cli"]


def mailfate_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "mailfate"
    return [str(exe)] if exe.exists() else [*MAILFATE]


def labels_of(corpus: Path) -> list[dict[str, object]]:
    return [
        json.loads(x) for x in (corpus / "labels.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()
    ]


def run_mailfate(target: Path, jobs: int = 1) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [*mailfate_cmd(), "bounce", "classify", "--json", "--jobs", str(jobs), str(target)],
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - t0, proc.stdout


def run_peer(bench: Path, splits: list[Path], json_out: bool) -> tuple[float, str]:
    args = (
        ["perl", str(bench / "sisimai_peer.pl")]
        + ([] if json_out else ["--no-json"])
        + [str(s) for s in splits]
    )
    t0 = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, check=True)
    return time.perf_counter() - t0, proc.stdout


def score(bench: Path, labels: Path, preds: str, workdir: Path, name: str) -> dict[str, tuple[int, int]]:
    """Score predictions against a labels file with the shared scorer: {field: (agreeing, total)}."""
    pred_file = workdir / f"{name}.jsonl"
    pred_file.write_text(preds, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, str(bench / "score_bounces.py"), str(labels), str(pred_file)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures: dict[str, tuple[int, int]] = {}
    for key in ("reason", "status", "replycode", "hardbounce"):
        m = re.search(rf"^\s+{key}\s+(\d+)/(\d+)\s+[\d.]+%", out, re.M)
        if m:
            figures[key] = (int(m.group(1)), int(m.group(2)))
    m = re.search(r"status, leaving out Sisimai's own x\.0\.9xx codes: (\d+)/(\d+)", out)
    if m:
        figures["status_real"] = (int(m.group(1)), int(m.group(2)))
    m = re.search(r"non-bounces correctly given no result: (\d+)/(\d+)", out)
    if m:
        figures["non_bounces_ok"] = (int(m.group(1)), int(m.group(2)))
    (workdir / f"{name}.score.txt").write_text(out, encoding="utf-8")
    return figures


def pct(pair: tuple[int, int]) -> float:
    return 100.0 * pair[0] / pair[1] if pair[1] else 0.0


def shown(figures: dict[str, tuple[int, int]]) -> str:
    return ", ".join(
        f"{k} {v[0]}/{v[1]}" if k == "non_bounces_ok" else f"{k} {pct(v):.1f}% ({v[0]}/{v[1]})"
        for k, v in figures.items()
    )


def score_parts(
    bench: Path, corpus: Path, preds: str, workdir: Path, name: str
) -> dict[str, dict[str, tuple[int, int]]]:
    """Scores on the fit part, the check part and the whole corpus."""
    out = {}
    for part in PARTS:
        labels = (
            corpus / "labels.jsonl"
            if part == "all"
            else write_labels(labels_in(corpus, part), workdir / f"labels-{part}.jsonl")
        )
        out[part] = score(bench, labels, preds, workdir, f"{name}-{part}")
    return out


def print_parts(name: str, parts: dict[str, dict[str, tuple[int, int]]]) -> None:
    for part in PARTS:
        print(f"  {name:<9}{part:<6}: {shown(parts[part])}")
    gaps = ", ".join(
        f"{k} {pct(parts['check'][k]) - pct(parts['fit'][k]):+.1f}"
        for k in ("reason", "hardbounce")
        if k in parts["check"] and k in parts["fit"]
    )
    print(f"  {name:<9}gap check - fit: {gaps} points (target: check within 3 points of fit)")


def relative_preds(stdout: str, corpus: Path) -> str:
    lines = []
    prefix = str(corpus) + os.sep
    for line in stdout.splitlines():
        rec = json.loads(line)
        rec["file"] = rec["file"].removeprefix(prefix)
        lines.append(json.dumps(rec))
    return "\n".join(lines) + "\n"


def make_copies(corpus: Path, labels: list[dict[str, object]], copies: int, base: Path) -> list[Path]:
    splits = []
    for k in range(copies):
        split = base / f"copy{k:03d}"
        for rec in labels:
            rel = str(rec["file"])
            (split / rel).parent.mkdir(parents=True, exist_ok=True)
            (split / rel).symlink_to(corpus / rel)
        shutil.copyfile(corpus / "labels.jsonl", split / "labels.jsonl")
        splits.append(split)
    return splits


def peak_rss_kib(cmd: list[str]) -> int:
    probe = (
        "import resource, subprocess, sys;"
        " subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True);"
        " print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *cmd], capture_output=True, text=True, check=True
    ).stdout
    return int(out.strip())


def reply_speed(corpus: Path, rounds: int = 7) -> tuple[float, float, int]:
    """(best, median) replies/second of classify_reply over distinct real diagnostics."""
    from mailfate.bounce import classify_reply, parse_bounce

    replies: list[str] = []
    for rec in labels_of(corpus):
        for r in parse_bounce((corpus / str(rec["file"])).read_bytes()):
            if r.diagnostic:
                replies.append(r.diagnostic[:400])
    # Distinct variants, so no cache could help: vary each text.
    replies = [f"{t} (ref {i})" for i, t in enumerate(replies * 5)]
    classify_reply("550 5.1.1 warm-up")
    rates = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for text in replies:
            classify_reply(None, None, text)
        rates.append(len(replies) / (time.perf_counter() - t0))
    return max(rates), statistics.median(rates), len(set(replies))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=SHARED / "corpus" / "bounces")
    ap.add_argument("--bench", type=Path, default=SHARED / "bench")
    ap.add_argument(
        "--copies", type=int, default=10, help="corpus copies in the throughput run (420 mails each)"
    )
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--memory-files", type=int, default=10_000)
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--json", type=Path, help="write the figures here too")
    a = ap.parse_args()
    if not (a.corpus / "labels.jsonl").exists():
        print(f"skipped: no bounce corpus at {a.corpus} (it lives in ../shared, beside the checkout)")
        return 0
    peer = not a.skip_peer and shutil.which("perl") is not None and (a.bench / "sisimai_peer.pl").exists()
    if (
        peer
        and subprocess.run(["perl", "-MSisimai", "-e", "1"], capture_output=True, check=False).returncode != 0
    ):
        print("Sisimai is not installed (Debian package libsisimai-perl): the peer is skipped")
        peer = False
    labels = labels_of(a.corpus)
    figures: dict[str, object] = {"emails": len(labels)}
    with tempfile.TemporaryDirectory(prefix="mailfate-bench-") as tmp:
        work = Path(tmp)
        n_parts = {p: len(labels_in(a.corpus, p)) for p in ("fit", "check")}
        print(
            f"== accuracy on {a.corpus} ({len(labels)} emails: {n_parts['fit']} fit, {n_parts['check']} "
            "check; rules are never tuned on the check part)"
        )
        _, out = run_mailfate(a.corpus)
        mine = score_parts(a.bench, a.corpus, relative_preds(out, a.corpus), work, "mailfate")
        figures["mailfate_accuracy"] = mine
        print_parts("mailfate", mine)
        if peer:
            _, out = run_peer(a.bench, [a.corpus], json_out=True)
            theirs = score_parts(a.bench, a.corpus, out, work, "sisimai")
            figures["sisimai_accuracy"] = theirs
            print_parts("sisimai", theirs)

        splits = make_copies(a.corpus, labels, a.copies, work / "copies")
        total = len(labels) * a.copies
        print(f"== throughput, whole process, {total} emails ({a.copies} copies), median of {a.runs} runs")
        mine_rates, jobs_rates, peer_rates = [], [], []
        for _ in range(a.runs):
            secs, _ = run_mailfate(work / "copies")
            mine_rates.append(total / secs)
            secs, _ = run_mailfate(work / "copies", jobs=0)
            jobs_rates.append(total / secs)
            if peer:
                secs, _ = run_peer(a.bench, splits, json_out=False)
                peer_rates.append(total / secs)
        m_rate, j_rate = statistics.median(mine_rates), statistics.median(jobs_rates)
        figures["mailfate_emails_per_sec"] = round(m_rate, 1)
        figures["mailfate_jobs_emails_per_sec"] = round(j_rate, 1)
        print(f"  mailfate : {m_rate:8.1f} emails/s  (runs: {', '.join(f'{r:.0f}' for r in mine_rates)})")
        print(
            f"  mailfate --jobs 0 ({os.cpu_count()} processes): {j_rate:8.1f} emails/s  "
            f"(runs: {', '.join(f'{r:.0f}' for r in jobs_rates)})"
        )
        if peer:
            p_rate = statistics.median(peer_rates)
            figures["sisimai_emails_per_sec"] = round(p_rate, 1)
            figures["speed_ratio"] = round(m_rate / p_rate, 2)
            figures["jobs_speed_ratio"] = round(j_rate / p_rate, 2)
            print(f"  sisimai  : {p_rate:8.1f} emails/s  (runs: {', '.join(f'{r:.0f}' for r in peer_rates)})")
            print(f"  ratio    : {m_rate / p_rate:.2f}x one process (target >= 2x, issue 12)")
            print(f"  ratio    : {j_rate / p_rate:.2f}x with --jobs 0 (Sisimai's peer runs in one process)")

        copies = -(-a.memory_files // len(labels))
        mem_dir = work / "memory"
        make_copies(a.corpus, labels, copies, mem_dir)
        n_files = len(labels) * copies
        rss = peak_rss_kib([*mailfate_cmd(), "bounce", "classify", "--json", str(mem_dir)])
        figures["peak_rss_mib"] = round(rss / 1024, 1)
        figures["memory_files"] = n_files
        print(f"== memory: peak RSS {rss / 1024:.1f} MiB over {n_files} files (target < 150 MiB)")

    best, median, distinct = reply_speed(a.corpus)
    figures["replies_per_sec_best"] = round(best)
    figures["replies_per_sec_median"] = round(median)
    print(
        f"== classify_reply: {best:,.0f} replies/s best round, {median:,.0f} median of 7, over {distinct} "
        "distinct replies (target >= 50,000)"
    )
    if a.json:
        a.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
