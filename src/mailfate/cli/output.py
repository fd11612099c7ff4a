"""Terminal output: Rich for people, JSON for scripts — and errors, said once for both.

Every error a command reports goes through :func:`error`: for people one line on standard error
(``error: ...``, markup escaped), under ``--json`` one JSON object on standard error,
``{"error": "...", "exit_code": N}``, and the process exits with ``N`` (:data:`EXIT_CODES`).
"""

from __future__ import annotations

import errno
import json
import re
import sys
from collections.abc import Iterable
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

__all__ = [
    "EXIT_CODES",
    "REASON_STYLE",
    "emit_json",
    "err_console",
    "error",
    "json_errors",
    "out_console",
    "port_in_use",
    "port_problem",
]

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

EXIT_CODES: dict[int, str] = {
    0: "done",
    1: "the command ran and the answer is no: `doctor` found an error, `send` was refused for every "
    "recipient, `keys revoke` or `suppression remove` found nothing to remove, `webhooks verify` found "
    "the signature invalid; also an unexpected failure (a bug: please report it)",
    2: "the command could not run: a usage or input error, a bad configuration, a store that does not "
    "exist, a port in use, a server that cannot start",
    130: "interrupted (Ctrl-C)",
}
"""What each exit code of ``mailfate`` means (README, "Exit codes")."""

_JSON_ARGV = False
"""``--json`` was on the command line (set by :func:`mailfate.cli.app.main`): for errors raised
before a command's options are parsed."""


def emit_json(obj: Any) -> None:
    """One JSON document on one line of standard output."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


def json_errors(argv: Iterable[str] | None = None) -> bool:
    """Whether errors are JSON: ``--json`` is on the command line (``argv``, given once by
    :func:`mailfate.cli.app.main`, and remembered for the process)."""
    global _JSON_ARGV  # noqa: PLW0603 - the one process-wide switch, set by main
    if argv is not None:
        _JSON_ARGV = "--json" in list(argv)
    return _JSON_ARGV


def error(message: str, code: int = 2, **extra: Any) -> typer.Exit:
    """Report ``message`` on standard error — a line for people, a JSON object under ``--json`` —
    and return the ``typer.Exit`` to raise (``raise error(...)``)."""
    if json_errors():
        sys.stderr.write(
            json.dumps({"error": message, "exit_code": code, **extra}, ensure_ascii=False, default=str) + "\n"
        )
    else:
        err_console.print(f"[red]error:[/] {escape(message)}", soft_wrap=True)
    return typer.Exit(code)


def port_in_use(port: int, component: str, flag: str) -> str:
    """The sentence for a port another process holds: "port 2526 (the inbound server,
    `--inbound-port`) is in use" — the component that wanted it and the flag that moves it."""
    return f"port {port} ({component}, `{flag}`) is in use"


_BOUND = (re.compile(r"\('[^']*', (\d+)"), re.compile(r"\[[^\]]*\]:(\d+)"), re.compile(r":(\d+)\b"))


def port_problem(exc: OSError, ports: dict[int, tuple[str, str]]) -> str:
    """What to tell the user about ``exc`` raised while starting servers. ``ports``: each port this
    command asked for → (the component, its flag). A port in use names the component and the flag
    (every candidate when the error does not say which port); anything else is "cannot start: ..."."""
    text = str(exc)
    in_use = exc.errno == errno.EADDRINUSE or "address already in use" in text.lower()
    if not in_use:
        return f"cannot start: {text}"
    wanted = {port: what for port, what in ports.items() if port > 0}
    for pattern in _BOUND:
        for found in pattern.findall(text):
            if int(found) in wanted:
                component, flag = wanted[int(found)]
                return f"{port_in_use(int(found), component, flag)}: stop what holds it or choose another"
    if len(wanted) == 1:  # the error does not say which, but only one port was asked for
        [(port, (component, flag))] = wanted.items()
        return f"{port_in_use(port, component, flag)}: stop what holds it or choose another"
    if wanted:
        each = "; ".join(f"{port} ({component}, `{flag}`)" for port, (component, flag) in wanted.items())
        return f"a port is in use ({text}); this command listens on {each}"
    return f"a port is in use: {text}"
