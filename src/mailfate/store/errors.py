"""The store's error: a database that cannot be opened or written, with what to do about it."""

from __future__ import annotations

from mailfate.errors import MailfateError

__all__ = ["StoreError"]


class StoreError(MailfateError):
    """The store could not be opened or written; nothing was half-written. ``fix`` says what to do."""

    def __init__(self, message: str, *, fix: str = "") -> None:
        super().__init__(f"{message} — {fix}" if fix else message)
        self.fix = fix
