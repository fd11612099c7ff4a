"""Retry advice read from a reply: whether trying again can help, and how long the receiver asks
the sender to wait.

A 4xx is transient (RFC 5321 §4.2.1) unless the receiver says in words that retrying will not
succeed; a 5xx is permanent. A receiver that names a wait ("try again in 10 minutes", "greylisted
for 300 seconds") keeps it: the schedule waits at least that long.
"""

from __future__ import annotations

import re

__all__ = ["forbids_retry", "retry_hint"]

_WAIT = re.compile(r"(\d{1,6})\s*(seconds?|secs?|s\b|minutes?|mins?|m\b|hours?|hrs?|h\b)")
_ASKS = re.compile(r"(?:try|retry|again|wait|greylist\w*|deferred|resend)\D{0,30}$")
"""A wait is the receiver's request when one of these words comes up to 30 characters before it."""
_FORBIDS = re.compile(
    r"retry(?:ing)? (?:will|would) not (?:succeed|help|work)"
    r"|will not succeed"
    r"|(?:please )?do not (?:retry|resend|try again)"
    r"|don'?t (?:retry|resend|try again)"
    r"|no (?:further )?retr(?:y|ies) (?:will be|is) (?:made|attempted)"
    r"|(?:this|the) (?:error|failure) is permanent"
    r"|permanent(?:ly)? (?:error|failure)[^.]{0,40}not (?:be )?retr",
    re.IGNORECASE,
)


_HINT_WORDS = ("try", "again", "wait", "list", "deferred", "resend")


def retry_hint(text: str) -> float | None:
    """Seconds a reply asks the sender to wait ("try again in 5 minutes"), or None."""
    if not text:
        return None
    low = text if text.islower() else text.lower()
    if not any(w in low for w in _HINT_WORDS):
        return None
    for match in _WAIT.finditer(low):
        if _ASKS.search(low, max(0, match.start() - 60), match.start()) is None:
            continue
        unit = match.group(2).rstrip("s") or "s"
        scale = 60 if unit.startswith("m") else 3600 if unit.startswith("h") else 1
        return float(int(match.group(1)) * scale)
    return None


_FORBID_HINTS = (
    "not succeed",
    "not help",
    "not work",
    "do not",
    "don't",
    "dont ",
    "no retr",
    "no further",
    "permanent",
)
"""Substrings one of which every match of the pattern contains: most replies skip the regex."""


def forbids_retry(text: str) -> bool:
    """The receiver says in words that retrying will not succeed."""
    if not text:
        return False
    low = text if text.islower() else text.lower()
    return any(h in low for h in _FORBID_HINTS) and _FORBIDS.search(low) is not None
