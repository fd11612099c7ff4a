"""Waiting for a message and reading the verification code in it (``simulator wait``, the fixture).

The semantics, the same for ``mailfate simulator wait``, ``GET /api/v1/mailfate/newest`` and
``inbox.wait()`` in pytest: the newest **unread** message whose envelope recipients or To/Cc/Bcc
headers hold the address (exactly, case-insensitive) counts, whether it arrived before or after
the wait started; the wait marks it read, so the next wait for the same address waits for the
next message. ``since`` (a time) also leaves out messages accepted before it.

:func:`find_code` finds the code: the first run of 4 to 8 digits (not part of a longer number)
in the text body, else in the HTML (tags removed), else in the subject; or the first match of
a pattern (its first group when it has one).
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mailfate.simulator.inbox import Attempt, Inbox, StoredMessage
from mailfate.simulator.mime import Detail

if TYPE_CHECKING:
    from mailfate.simulator.runtime import SimulatorThread

__all__ = ["CODE_PATTERN", "SyncInbox", "WaitTimeout", "find_code", "newest_for"]

CODE_PATTERN = r"(?<!\d)\d{4,8}(?!\d)"
_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)


class WaitTimeout(TimeoutError):
    """No matching message (or no code in it) before the timeout."""


def find_code(detail: Detail, pattern: str | None = None) -> str | None:
    """The verification code in a message (see the module docstring), or ``None``."""
    regex = re.compile(pattern or CODE_PATTERN)
    html_text = _TAG.sub(" ", detail.html) if detail.html else ""
    for text in (detail.text, html_text, detail.summary.subject):
        m = regex.search(text) if text else None
        if m:
            return m.group(1) if m.groups() and m.group(1) is not None else m.group(0)
    return None


def _addressed_to(msg: StoredMessage, address: str) -> bool:
    if address in msg.rcpts_lower:
        return True
    s = msg.summary()
    return any(a.address.lower() == address for a in (*s.to, *s.cc, *s.bcc))


def newest_for(
    inbox: Inbox, to: str, *, unread: bool = True, since: datetime | None = None
) -> StoredMessage | None:
    """The newest message for ``to`` (unread ones only unless told otherwise), or ``None``."""
    address = to.strip().lower()
    for msg in inbox.newest():
        if since is not None and msg.created < since:
            break
        if (not unread or not msg.read) and _addressed_to(msg, address):
            return msg
    return None


class SyncInbox:
    """The inbox of a :class:`~mailfate.simulator.runtime.SimulatorThread`, for synchronous tests."""

    def __init__(self, sim: SimulatorThread, inbox: Inbox) -> None:
        self._sim = sim
        self.inbox = inbox

    def messages(self, query: str = "", limit: int = 50) -> list[StoredMessage]:
        """Newest first; a Mailpit search query when given."""
        page = self.inbox.search(query, 0, limit) if query else self.inbox.list(0, limit)
        return page.messages

    def attempts(self, to: str | None = None) -> list[Attempt]:
        return self.inbox.attempts(to)

    def set_rules(self, rules: list[dict[str, Any]]) -> None:
        """Replace the run-time rules (see :mod:`mailfate.simulator.rules`)."""
        self._sim.simulator.rules.set(rules)

    def clear(self) -> int:
        return self.inbox.delete(None)

    def wait(
        self,
        to: str,
        *,
        code: bool = False,
        timeout: float = 10.0,
        pattern: str | None = None,
        since: datetime | None = None,
    ) -> Any:
        """The newest unread message for ``to`` (marked read), or with ``code=True`` the code in it.

        Raises :class:`WaitTimeout` after ``timeout`` seconds. With ``code=True`` a message without
        a code is marked read and the wait goes on for the next one.
        """
        deadline = time.monotonic() + timeout
        version = self.inbox.version
        while True:
            msg = newest_for(self.inbox, to, since=since)
            if msg is not None:
                self.inbox.mark_read([msg.id])
                if not code:
                    return msg
                found = find_code(msg.detail(), pattern)
                if found is not None:
                    return found
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                what = "a verification code" if code else "a message"
                raise WaitTimeout(f"no unread message with {what} for {to} after {timeout:g} s")
            version = self.inbox.wait_change(version, min(left, 0.5))
