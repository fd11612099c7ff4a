"""Which parsers exist and in what order they are tried.

Every module in :mod:`mailfate.bounce.vendors` and :mod:`mailfate.bounce.parsers` is a parser when
it exports ``NAME: str``, ``PRIORITY: int`` and ``parse(mail: Mail) -> list[Draft] | None``.
Parsers run by ascending ``PRIORITY`` (then name); the first that returns a list wins — an empty
list means "mine, and nothing bounced" and stops the search too. Adding a vendor is adding a
module; nothing else changes.

Priorities in use: 100 ARF and other formats that announce themselves; 200-499 vendors that
recognize themselves by headers; 500 RFC 3464; 600-699 vendors recognized only by body text;
700 auto-replies; 850 old and non-standard plain-text notices (legacy); 900 last-resort heuristics.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft

__all__ = ["ParserEntry", "parsers"]

ParseFn = Callable[[Mail], "list[Draft] | None"]


@dataclass(frozen=True, slots=True)
class ParserEntry:
    name: str
    priority: int
    parse: ParseFn
    module: str


_PACKAGES = ("mailfate.bounce.parsers", "mailfate.bounce.vendors")
_CACHE: list[ParserEntry] | None = None


def _entries(package: ModuleType) -> list[ParserEntry]:
    out: list[ParserEntry] = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        name = getattr(module, "NAME", None)
        parse = getattr(module, "parse", None)
        if not isinstance(name, str) or not callable(parse):
            continue
        out.append(ParserEntry(name, int(getattr(module, "PRIORITY", 400)), parse, module.__name__))
    return out


def parsers() -> list[ParserEntry]:
    """Every parser, in the order they are tried."""
    global _CACHE  # noqa: PLW0603 - discovered once per process
    if _CACHE is None:
        found: list[ParserEntry] = []
        for pkg in _PACKAGES:
            found.extend(_entries(importlib.import_module(pkg)))
        _CACHE = sorted(found, key=lambda e: (e.priority, e.name))
    return _CACHE
