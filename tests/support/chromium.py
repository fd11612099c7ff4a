"""Debian's Chromium, headless, driven by Playwright: for the tests that look at a page."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.debian import not_installed

__all__ = ["CHROMIUM", "FLAGS", "headless_chromium", "needs_chromium"]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason=not_installed("Chromium", "chromium"),
)
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


def headless_chromium() -> Iterator[Any]:
    """A launched browser for a fixture to yield from (closed after); skips without Playwright."""
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()
