"""The ``mailfate`` command as a real process for the tests: one-shot commands, and long-running
ones (``serve``, ``worker``) that print a JSON ready line and stop on SIGTERM.

Usage::

    keys = json.loads(mailfate("keys", "create", "--scope", "read", "--json", "--data-dir", d).stdout)
    with running("serve", "--data-dir", d, "--http-port", "0", "--submission-port", "-1") as ready:
        httpx.get(ready["http"] + "/v1/health")
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["clean_env", "mailfate", "running", "serve_args"]


def clean_env() -> dict[str, str]:
    """The environment without ``MAILFATE_*`` settings: each test says what it wants."""
    return {k: v for k, v in os.environ.items() if not k.startswith("MAILFATE_")}


def serve_args(data: str | os.PathLike[str], *, submission: str = "-1") -> list[str]:
    """``serve`` on ``data`` with every port free (0): the HTTP API, the inbound server, and SMTP
    submission unless ``submission`` is "-1" (off, the default) or a port."""
    return [
        "serve", "--data-dir", str(data), "--http-port", "0", "--inbound-port", "0",
        "--submission-port", submission,
    ]  # fmt: skip


def mailfate(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``mailfate ARGS`` to its end (output captured, exit status not checked)."""
    return subprocess.run(
        [sys.executable, "-m", "mailfate", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env=clean_env(),
    )


@contextlib.contextmanager
def running(*args: str) -> Iterator[dict[str, Any]]:
    """Start ``mailfate ARGS --json`` and yield its ready line; SIGTERM and wait at the end."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailfate", *args, "--json"],
        stdout=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    assert proc.stdout is not None
    try:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"mailfate {' '.join(args)} exited with {proc.wait(30)} before it was ready")
        ready: dict[str, Any] = json.loads(line)
        yield ready
    finally:
        proc.terminate()
        proc.wait(30)
        proc.stdout.close()
