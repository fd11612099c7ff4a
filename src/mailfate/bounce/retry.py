"""Retry advice read from a reply: whether trying again can help, and how long the receiver asks
the sender to wait.

A 4xx is transient (RFC 5321 §4.2.1) unless the receiver says in words that retrying will not
succeed; a 5xx is permanent. A receiver that names a wait ("try again in 10 minutes", "greylisted
for 300 seconds") keeps it: the schedule waits at least that long.
"""

from __future__ import annotations

import re

__all__ = ["forbids_retry", "retry_hint"]

_HINT = re.compile(
    r"(?:try|retry|again|wait|greylist\w*|deferred|resend)\D{0,30}?(\d{1,6})\s*"
    r"(seconds?|secs?|s\b|minutes?|mins?|m\b|hours?|hrs?|h\b)",
    re.IGNORECASE,
)
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


def retry_hint(text: str) -> float | None:
    """Seconds a reply asks the sender to wait ("try again in 5 minutes"), or None."""
    match = _HINT.search(text or "")
    if match is None:
        return None
    unit = match.group(2).lower().rstrip("s") or "s"
    scale = 60 if unit.startswith("m") else 3600 if unit.startswith("h") else 1
    return float(int(match.group(1)) * scale)


def forbids_retry(text: str) -> bool:
    """The receiver says in words that retrying will not succeed."""
    return bool(text) and _FORBIDS.search(text) is not None
