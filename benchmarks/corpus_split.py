"""The shared bounce corpus split in two by a stable hash of each mail's path: a *fit* part (70%)
that rule work may look at, and a *check* part (30%) that nobody tunes against.

A mail's part depends only on its relative path (``lhost/lhost-postfix-13.eml``), so the split is
the same on every machine and in every run, and a mail added upstream joins a part without moving
the others. ``corpus_diff.py`` shows disagreements on the fit part only (unless ``--part check`` or
``--part all`` is asked for); ``bounce_corpus.py`` prints the figures of both parts. A rule is never
added for a check mail: the check figure is the generalization figure.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

Part = Literal["fit", "check"]
CHECK_PERCENT = 30
PARTS: tuple[str, ...] = ("fit", "check", "all")


def part_of_key(key: str) -> Part:
    """``"fit"`` or ``"check"`` for any stable key (a path, a reply text), by the first 8 bytes of
    its SHA-256."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return "check" if int.from_bytes(digest[:8], "big") % 100 < CHECK_PERCENT else "fit"


def part_of(relative_path: str) -> Part:
    """``"fit"`` or ``"check"`` for a corpus path (``\\`` and ``/`` separators alike)."""
    return part_of_key(relative_path.replace("\\", "/"))


def in_part(part: str, key: str) -> bool:
    """Whether a key belongs to ``part`` (fit, check or all)."""
    return part == "all" or part_of_key(key) == part


def labels_in(corpus: Path, part: str = "all") -> list[dict[str, Any]]:
    """The label rows of ``corpus/labels.jsonl`` in ``part`` (fit, check or all)."""
    rows = [
        json.loads(x) for x in (corpus / "labels.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()
    ]
    if part == "all":
        return rows
    return [r for r in rows if part_of(str(r["file"])) == part]


def write_labels(rows: list[dict[str, Any]], path: Path) -> Path:
    """Write label rows as a labels.jsonl the scorer reads."""
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path
