"""mailfate: send transactional mail, follow every message to its fate.

The public surface is what ``__all__`` names; every other module is private and may move.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailfate.bounce import (
    BounceRecord,
    Classification,
    Kind,
    Reason,
    classify_reply,
    parse_bounce,
)
from mailfate.errors import ConfigError, InputError, MailfateError, ParseError

if TYPE_CHECKING:
    from mailfate.client import Client, Sent, SuppressedError

__all__ = [
    "BounceRecord",
    "Classification",
    "Client",
    "ConfigError",
    "InputError",
    "Kind",
    "MailfateError",
    "ParseError",
    "Reason",
    "Sent",
    "SuppressedError",
    "classify_reply",
    "parse_bounce",
]

__version__ = "0.1.0"

_LAZY = {"Client", "Sent", "SuppressedError"}


def __getattr__(name: str) -> object:
    """The client (and with it SQLAlchemy) is imported on first use, not by ``import mailfate``."""
    if name in _LAZY:
        from mailfate import client

        return getattr(client, name)
    raise AttributeError(f"module 'mailfate' has no attribute {name!r}")
