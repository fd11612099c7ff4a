"""Terminal output: Rich for people, JSON for scripts."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

__all__ = ["REASON_STYLE", "emit_json", "err_console", "out_console"]

out_console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

REASON_STYLE = {
    "hard": "bold red",
    "soft": "yellow",
    "complaint": "magenta",
    "autoreply": "cyan",
    "delivered": "green",
    "delayed": "blue",
    "undetermined": "dim",
}


def emit_json(obj: Any) -> None:
    """One JSON document on one line of standard output."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
