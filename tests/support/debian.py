"""Why a test that needs a Debian package is skipped, said truthfully for who runs it."""

from __future__ import annotations

import os

__all__ = ["not_installed"]


def not_installed(what: str, package: str) -> str:
    """The skip reason for ``what`` (Debian package ``package``) missing."""
    if os.geteuid() == 0:
        return (
            f"{what} (Debian package {package}) is not installed, and bin/test could not install it "
            "although it ran as root: see its warning (no network, or the dpkg lock held too long)"
        )
    return f"{what} (Debian package {package}) is not installed: run bin/test as root to install it"
