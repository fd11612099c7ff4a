"""benchmarks/corpus_split.py: the fit/check split of the shared corpus and of the reply set."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load_split() -> ModuleType:
    spec = importlib.util.spec_from_file_location("corpus_split", BENCHMARKS / "corpus_split.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("corpus_split", module)
    spec.loader.exec_module(module)
    return module


split = load_split()


def test_same_path_same_part_every_time() -> None:
    paths = [f"lhost/lhost-vendor{i % 17}-{i:03d}.eml" for i in range(200)]
    first = [split.part_of(p) for p in paths]
    assert [split.part_of(p) for p in paths] == first
    assert set(first) == {"fit", "check"}
    # A Windows-style separator lands in the same part as the slash form.
    assert all(split.part_of(p.replace("/", "\\")) == part for p, part in zip(paths, first, strict=True))


def test_known_parts_do_not_move() -> None:
    """The split depends on the path only: pin a few so a change to the hashing is noticed."""
    pinned = {p: split.part_of(p) for p in ("arf/arf-01.eml", "lhost/lhost-postfix-13.eml", "rhost/x.eml")}
    again = load_split()
    assert {p: again.part_of(p) for p in pinned} == pinned


def test_about_thirty_percent_check_on_a_thousand_made_up_paths() -> None:
    paths = [f"family{i % 7}/made-up-mail-{i:04d}.eml" for i in range(1000)]
    check = sum(split.part_of(p) == "check" for p in paths)
    assert 250 <= check <= 350, check


def test_in_part_and_labels_in(tmp_path: Path) -> None:
    rows = [{"file": f"lhost/m-{i}.eml", "expected": []} for i in range(100)]
    split.write_labels(rows, tmp_path / "labels.jsonl")
    fit = split.labels_in(tmp_path, "fit")
    check = split.labels_in(tmp_path, "check")
    assert len(fit) + len(check) == 100 and split.labels_in(tmp_path, "all") == rows
    assert all(split.in_part("check", r["file"]) for r in check)
    assert all(split.in_part("all", r["file"]) for r in fit)
    assert json.loads((tmp_path / "labels.jsonl").read_text().splitlines()[0]) == rows[0]


def test_reply_set_rows_are_complete() -> None:
    data = BENCHMARKS / "data" / "documented_replies.jsonl"
    rows = [json.loads(x) for x in data.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert 150 <= len(rows) <= 300
    assert len({r["reply"] for r in rows}) == len(rows)
    from mailfate.model.causes import Cause
    from mailfate.model.reasons import Reason

    for r in rows:
        assert set(r) == {"reply", "provider", "source", "reason", "hard", "retry", "cause"}, r
        assert r["source"].startswith("http"), r
        Reason(r["reason"])
        Cause(r["cause"])
        assert not (r["hard"] and r["retry"]), r
    check = sum(split.part_of_key(r["reply"]) == "check" for r in rows)
    assert 0.2 * len(rows) <= check <= 0.4 * len(rows)
