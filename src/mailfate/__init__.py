"""mailfate: send transactional mail, follow every message to its fate.

The public surface is what ``__all__`` names; every other module is private and may move. The
vocabulary (:class:`Reason`, :class:`Kind`, :class:`Cause`, :class:`Evidence`, :class:`SmtpReply`)
comes from :mod:`mailfate.model`, the bounce API from :mod:`mailfate.bounce`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailfate.bounce import BounceRecord, Classification, classify_reply, parse_bounce
from mailfate.errors import ConfigError, InputError, MailfateError, ParseError
from mailfate.model import Cause, Evidence, Kind, Reason, SmtpReply, parse_reply

if TYPE_CHECKING:
    from mailfate.client import Client, Sent, SuppressedError

__all__ = [
    "BounceRecord",
    "Cause",
    "Classification",
    "Client",
    "ConfigError",
    "Evidence",
    "InputError",
    "Kind",
    "MailfateError",
    "ParseError",
    "Reason",
    "Sent",
    "SmtpReply",
    "SuppressedError",
    "classify_reply",
    "parse_bounce",
    "parse_reply",
]

__version__ = "0.1.0"

_LAZY = {"Client", "Sent", "SuppressedError"}


def __getattr__(name: str) -> object:
    """The client (and with it SQLAlchemy) is imported on first use, not by ``import mailfate``."""
    if name in _LAZY:
        from mailfate import client

        return getattr(client, name)
    raise AttributeError(f"module 'mailfate' has no attribute {name!r}")
