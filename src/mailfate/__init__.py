"""mailfate: send transactional mail, follow every message to its fate.

The public surface is what ``__all__`` names; every other module is private and may move.
"""

from __future__ import annotations

from mailfate.bounce import (
    BounceRecord,
    Classification,
    Kind,
    Reason,
    classify_reply,
    parse_bounce,
)
from mailfate.errors import ConfigError, InputError, MailfateError, ParseError

__all__ = [
    "BounceRecord",
    "Classification",
    "ConfigError",
    "InputError",
    "Kind",
    "MailfateError",
    "ParseError",
    "Reason",
    "classify_reply",
    "parse_bounce",
]

__version__ = "0.1.0"
