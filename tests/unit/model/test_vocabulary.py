"""Everything that names a reason or a cause names one the vocabulary knows: the packaged data
files (bounce rules, the simulator's replies) and the reasons transports write into results."""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mailfate.delivery.limits import PUSHBACK_REASONS
from mailfate.model import Cause, Reason

SRC = Path(__file__).resolve().parents[3] / "src" / "mailfate"
REASONS = {r.value for r in Reason}
CAUSES = {c.value for c in Cause}


def _named(value: Any, where: str) -> Iterator[tuple[str, str, str]]:
    """(key, value, where) for every ``reason``/``cause`` key in a TOML document, at any depth."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in ("reason", "cause") and isinstance(inner, str):
                yield key, inner, f"{where}.{key}"
            else:
                yield from _named(inner, f"{where}.{key}")
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from _named(inner, f"{where}[{i}]")


def test_every_data_file_names_only_known_reasons_and_causes() -> None:
    seen = {"reason": 0, "cause": 0}
    unknown = []
    for path in sorted((SRC / "data").rglob("*.toml")):
        for key, value, where in _named(tomllib.loads(path.read_text("utf-8")), path.name):
            seen[key] += 1
            if value not in (REASONS if key == "reason" else CAUSES):
                unknown.append(f"{where} = {value!r}")
    assert not unknown, "unknown names:\n" + "\n".join(unknown)
    # the walk really reached the rules and the simulator's replies
    assert seen["reason"] > 400 and seen["cause"] > 300


def _literal_reasons(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """String literals passed as a result's reason: ``AttemptResult(outcome, code, status, text,
    reason, ...)``, ``reason=...`` to it, to ``no_reply`` or to ``replace``."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        if name not in ("AttemptResult", "no_reply", "replace"):
            continue
        args = [kw.value for kw in node.keywords if kw.arg == "reason"]
        if name == "AttemptResult" and len(node.args) > 4:
            args.append(node.args[4])
        for arg in args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                yield node.lineno, arg.value


def test_transports_write_only_known_reasons() -> None:
    found = []
    for path in sorted((SRC / "delivery").rglob("*.py")):
        for line, value in _literal_reasons(ast.parse(path.read_text("utf-8"))):
            found.append((f"{path.relative_to(SRC)}:{line}", value))
    assert len(found) >= 3, found  # the scan sees the transports' own verdicts
    assert [f"{where} {value!r}" for where, value in found if value not in REASONS] == []
    assert PUSHBACK_REASONS <= REASONS
