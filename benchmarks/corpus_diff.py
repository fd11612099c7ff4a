"""Developer tool: where mailfate and the bounce corpus labels disagree, email by email.

usage: python benchmarks/corpus_diff.py [--corpus DIR] [--part fit|check|all] [--source NAME ...]
                                        [--family F ...] [--only-wrong]
                                        [--fields reason,status,replycode,hardbounce]

Prints, for each labelled email (filtered by Sisimai source module or family), the expected items
and mailfate's, and marks disagreements; ends with per-field agreement over the selection. The
corpus stays in ../shared; nothing is copied.

Only the *fit* part of the corpus is shown unless --part check or --part all is given (see
corpus_split.py): rules are written from fit mails, and the check part, which nobody tunes rules on,
stays the measure of how well they generalize.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from corpus_split import PARTS, part_of
from mailfate.bounce import parse_bounce
from mailfate.errors import ParseError

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "bounces"
FIELDS = ("reason", "status", "replycode", "hardbounce")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument(
        "--part",
        choices=PARTS,
        default="fit",
        help="which part of the corpus to show (default fit; nobody tunes rules on the check part)",
    )
    ap.add_argument("--source", nargs="*", default=[], help="Sisimai source module names (labels 'source')")
    ap.add_argument("--family", nargs="*", default=[])
    ap.add_argument("--file", nargs="*", default=[], help="substrings of file names")
    ap.add_argument("--only-wrong", action="store_true")
    ap.add_argument("--fields", default="reason,status,replycode,hardbounce")
    a = ap.parse_args()
    labels = a.corpus / "labels.jsonl"
    if not labels.exists():
        print(f"skipped: no bounce corpus at {a.corpus} (it lives in ../shared, beside the checkout)")
        return 0
    if a.part != "fit":
        print(
            f"WARNING: showing {'the check part' if a.part == 'check' else 'all parts, the check part too'}:"
            " do not write or tune a rule from a check mail; its figure is the generalization figure.",
            file=sys.stderr,
        )
    fields = [f for f in a.fields.split(",") if f]
    sources = {s.lower() for s in a.source}
    agree: Counter[str] = Counter()
    n = 0
    for line in labels.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        if a.part != "all" and part_of(rec["file"]) != a.part:
            continue
        if sources and rec["source"].lower() not in sources:
            continue
        if a.family and rec["family"] not in a.family:
            continue
        if a.file and not any(s in rec["file"] for s in a.file):
            continue
        raw = (a.corpus / rec["file"]).read_bytes()
        try:
            got = [r for r in parse_bounce(raw)]
            err = ""
        except ParseError as exc:
            got, err = [], str(exc)
        exp = rec["expected"]
        lines = []
        wrong = len(got) != len(exp)
        for i in range(max(len(exp), len(got))):
            e = exp[i] if i < len(exp) else None
            g = got[i] if i < len(got) else None
            gd = (
                {
                    "reason": str(g.reason),
                    "status": g.status,
                    "replycode": g.replycode,
                    "hardbounce": g.hardbounce,
                }
                if g
                else None
            )
            if e is not None:
                n += 1
                for f in FIELDS:
                    if gd is not None and gd[f] == e[f]:
                        agree[f] += 1
            bad = [f for f in fields if e is None or gd is None or gd[f] != e[f]]
            wrong = wrong or bool(bad)
            es = (
                f"{e['reason']:<15} {e['status']:<8} {e['replycode']:<4} {'H' if e['hardbounce'] else 's'}"
                if e
                else "-"
            )
            gs = (
                f"{gd['reason']:<15} {gd['status']:<8} {gd['replycode']:<4} "
                f"{'H' if gd['hardbounce'] else 's'}"
                f"  [{g.parser} / {g.rule_id}] {g.recipient}"
                if g and gd
                else "-"
            )
            mark = "  " if not bad else "XX"
            lines.append(f"   {mark} exp {es} | got {gs}")
            if g and bad:
                lines.append(f"        diag: {g.diagnostic[:300]}")
        if a.only_wrong and not wrong:
            continue
        print(f"{rec['file']}  ({rec['source']}){'  ERROR ' + err if err else ''}")
        print("\n".join(lines))
    print()
    print(f"{a.part} part, {n} expected items")
    for f in FIELDS:
        print(f"{f:<10} {agree[f]}/{n} {100.0 * agree[f] / max(n, 1):.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
