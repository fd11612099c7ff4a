"""The error tree of mailfate.

::

    MailfateError
    ├─ ConfigError            bad settings or rule files: never retried, never swallowed
    ├─ InputError(ValueError) the caller's fault
    └─ ParseError(ValueError) the right kind of input, but malformed (keeps the raw bytes)

Replies and verdicts are values, not exceptions: a 5xx SMTP reply is a classification.
"""

from __future__ import annotations

__all__ = ["ConfigError", "InputError", "MailfateError", "ParseError"]


class MailfateError(Exception):
    """Base of every error mailfate raises."""


class ConfigError(MailfateError):
    """A configuration or rule file is wrong; the message says how to fix it."""


class InputError(MailfateError, ValueError):
    """The caller passed something unusable."""


class ParseError(MailfateError, ValueError):
    """Input of the right kind that cannot be parsed; ``raw`` keeps what was given."""

    def __init__(self, message: str, *, parser: str = "", raw: bytes = b"") -> None:
        super().__init__(message)
        self.parser = parser
        self.raw = raw

    def __str__(self) -> str:
        base = super().__str__()
        return f"{self.parser}: {base}" if self.parser else base
