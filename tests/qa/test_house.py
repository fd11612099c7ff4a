"""The house's floors (``../shared/STYLE.md`` §0, issue 14), read from the source with ``ast``.

Each package imports only downward::

    errors ← model ← bounce, mailauth, config ← store ← submit, tracking ← client
        ← delivery, intake (siblings: neither imports the other) ← web ← runtime ← cli

``simulator`` (the receiver knows nothing of the sender) and ``doctor`` (diagnosis reads evidence
without sending) stand apart: nothing on the sending path imports them. ``model`` and ``bounce``
import nothing of ours but ``model`` and ``errors``; ``delivery`` and ``intake`` get the store's
repositories handed in and do not import ``store``; ``intake``, ``web`` and ``cli`` do not import
``delivery`` (the runtime wires the worker).

What still breaks a rule is listed in ``KNOWN`` — the debt, written down. The test fails on a new
break (naming the file and line) and on a listed one that is gone (so the list only shrinks).
The same for functions over 80 lines (``LONG``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "mailfate"

RANK: dict[str, float] = {
    "errors": 0,
    "model": 1,
    "bounce": 2,
    "mailauth": 2,
    "config": 2,
    "store": 3,
    "submit": 4,
    "tracking": 4,
    "client": 5,
    "simulator": 5,
    "doctor": 5,
    "delivery": 6,
    "intake": 6,
    "django": 6,  # the Django adapter: EMAIL_BACKEND over the client, webhooks as signals
    "web": 7,
    "runtime": 8,
    "cli": 9,
    "__init__": 8.5,  # the package: re-exports the client and the bounce API; the CLI reads its version
    "__main__": 10,
}
APART = {"simulator", "doctor"}
ADAPTERS = {"django"}  # frameworks' glue: on top of the client, nothing of ours imports it
SENDING_PATH = {"store", "submit", "tracking", "client", "delivery", "intake"}
ONLY_VOCABULARY = {"model", "bounce"}
NO_STORE = {"delivery", "intake"}
NO_DELIVERY = {"intake", "web", "cli"}

KNOWN: set[tuple[str, str]] = set()
"""(file under src/mailfate, the package it may not import) still to fix."""

LONG: set[tuple[str, str]] = set()
"""(file under src/mailfate, function) over 80 lines still to split."""


def _package(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 or rel.stem != "__init__" else "__init__"


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "mailfate":
                yield getattr(node, "lineno", 0), parts[1] if len(parts) > 1 else "__init__"


def _why(importer: str, imported: str) -> str | None:
    if imported == importer:
        return None
    if importer in ONLY_VOCABULARY and imported not in {"model", "errors"}:
        return f"{importer} imports only model and errors"
    if importer in NO_DELIVERY and imported == "delivery":
        return f"{importer} does not import delivery (the runtime wires the worker)"
    if importer in NO_STORE and imported == "store":
        return f"{importer} gets the store's repositories handed in, it does not import store"
    if imported in ADAPTERS:
        return f"{imported} is an adapter for a framework: nothing of ours imports it"
    if importer in SENDING_PATH and imported in APART:
        return f"{imported} stands apart from the sending path"
    if RANK[imported] > RANK[importer]:
        return f"{importer} (floor {RANK[importer]}) imports {imported} (floor {RANK[imported]}): an arrow up"
    if RANK[imported] == RANK[importer] and imported not in APART:
        return f"{importer} and {imported} are siblings: neither imports the other"
    return None


def test_every_import_goes_down() -> None:
    breaks: dict[tuple[str, str], str] = {}
    for path in sorted(SRC.rglob("*.py")):
        importer = _package(path)
        for line, imported in _imports(path):
            why = _why(importer, imported)
            key = (str(path.relative_to(SRC)), imported)
            if why is not None and key not in breaks:
                breaks[key] = f"{key[0]}:{line}: {why}"
    new = sorted(breaks[k] for k in breaks.keys() - KNOWN)
    assert not new, "imports that break the floors:\n" + "\n".join(new)
    fixed = sorted(f"{f} -> {p}" for f, p in KNOWN - breaks.keys())
    assert not fixed, "fixed, remove from KNOWN:\n" + "\n".join(fixed)


def test_no_function_over_80_lines() -> None:
    long: dict[tuple[str, str], int] = {}
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > 80:
                    long[(str(path.relative_to(SRC)), node.name)] = lines
    new = sorted(f"{f}: {name} ({long[(f, name)]} lines)" for f, name in long.keys() - LONG)
    assert not new, "functions over 80 lines:\n" + "\n".join(new)
    fixed = sorted(f"{f}: {name}" for f, name in LONG - long.keys())
    assert not fixed, "split, remove from LONG:\n" + "\n".join(fixed)


def test_the_rules_catch_what_they_should() -> None:
    assert _why("delivery", "intake") and _why("intake", "delivery")  # siblings
    assert _why("intake", "cli") and _why("store", "tracking")  # arrows up
    assert _why("model", "store") and _why("bounce", "mailauth")
    assert _why("delivery", "store") and _why("delivery", "simulator")
    assert _why("cli", "delivery") and _why("web", "doctor") is None and _why("runtime", "delivery") is None
    assert _why("bounce", "model") is None and _why("tracking", "store") is None
    assert _why("cli", "django") and _why("django", "client") is None and _why("django", "delivery")
