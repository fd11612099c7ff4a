"""Benchmark a change: run one benchmark on an earlier commit and on the working tree, in turns.

usage: python benchmarks/before_after.py --base REV [--rounds R] [--keys K1,K2] -- BENCHMARK [ARGS...]

``BENCHMARK`` is a script of this folder (``api_load.py --seconds 10``). The earlier commit is
checked out in a temporary git worktree; each round runs the benchmark once with that tree's
``src/`` first on ``PYTHONPATH`` (the processes it starts, ``python -m mailfate …``, run the old
code) and once with this tree's — alternating, so the machine's noise falls on both alike. The
benchmark script itself is this tree's in both runs: the same measurement of two versions of the
code — unless ``--own-script``: then each tree runs its own copy of the benchmark (for a change
that moved an API the benchmark calls in process, so this tree's script cannot drive the old
code). Each run's last line of ``key=value`` pairs is read; the medians per key and the ratio
after/before are printed. The last line is ``key=value`` pairs (``<key>_before``, ``<key>_after``,
``<key>_ratio``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def figures(output: str) -> dict[str, float]:
    """The ``key=value`` pairs of the last line that has any."""
    for line in reversed(output.splitlines()):
        pairs = dict(p.split("=", 1) for p in line.split() if "=" in p)
        values: dict[str, float] = {}
        for key, value in pairs.items():
            try:
                values[key] = float(value)
            except ValueError:
                continue
        if values:
            return values
    return {}


def run(tree: Path, command: list[str], *, own_script: bool = False) -> dict[str, float]:
    scripts = tree / "benchmarks" if own_script else HERE
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tree / "src"), str(scripts)]))
    proc = subprocess.run(
        [sys.executable, str(scripts / command[0]), *command[1:]],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{command[0]} on {tree} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return figures(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", required=True, help="the commit to compare with (a tag, a hash, HEAD~3)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keys", default="", help="only these keys, comma-separated (default: all)")
    parser.add_argument(
        "--own-script", action="store_true", help="each tree runs its own copy of the benchmark script"
    )
    parser.add_argument("benchmark", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = [a for a in args.benchmark if a != "--"]
    if not command:
        parser.error("name the benchmark to run after --")
    with tempfile.TemporaryDirectory(prefix="mailfate-before-") as tmp:
        before = Path(tmp) / "tree"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(before), args.base], check=True
        )
        try:
            runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
            for i in range(args.rounds):
                for label, tree in (("before", before), ("after", ROOT)):
                    result = run(tree, command, own_script=args.own_script)
                    runs[label].append(result)
                    shown = " ".join(f"{k}={v:g}" for k, v in result.items())
                    print(f"round {i + 1} {label:6} {shown}", flush=True)
        finally:
            remove = ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)]
            subprocess.run(remove, check=False)
    keys = [k for k in runs["after"][0] if not args.keys or k in args.keys.split(",")]
    line = []
    print(f"\n{'key':28} {'before':>12} {'after':>12} {'after/before':>13}   (medians of {args.rounds})")
    for key in keys:
        b = statistics.median(r[key] for r in runs["before"] if key in r)
        a = statistics.median(r[key] for r in runs["after"] if key in r)
        ratio = a / b if b else float("nan")
        print(f"{key:28} {b:12.2f} {a:12.2f} {ratio:13.2f}")
        line += [f"{key}_before={b:.3f}", f"{key}_after={a:.3f}", f"{key}_ratio={ratio:.3f}"]
    print(" ".join(line))


if __name__ == "__main__":
    main()
