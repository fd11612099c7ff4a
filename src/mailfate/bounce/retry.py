"""How long a reply asks the sender to wait.

A receiver that names a wait ("try again in 10 minutes", "greylisted for 300 seconds") keeps it: the
schedule waits at least that long. Whether to retry at all is the classifier's advice
(``Classifier.advise``): a 4xx is transient (RFC 5321 §4.2.1) unless the reply says retrying will
not succeed (the ``retry-forbidden`` cause rule's phrases), a 5xx is permanent.
"""

from __future__ import annotations

import re

__all__ = ["retry_hint"]

_WAIT = re.compile(r"(\d{1,6})\s*(seconds?|secs?|s\b|minutes?|mins?|m\b|hours?|hrs?|h\b)")
_ASKS = re.compile(r"(?:try|retry|again|wait|greylist\w*|deferred|resend)\D{0,30}$")
"""A wait is the receiver's request when one of these words comes up to 30 characters before it."""


def retry_hint(text: str) -> float | None:
    """Seconds a reply asks the sender to wait ("try again in 5 minutes"), or None."""
    if not text:
        return None
    low = text if text.islower() else text.lower()
    if not (
        "try" in low or "again" in low or "wait" in low or "list" in low or "defer" in low or "resend" in low
    ):
        return None
    for match in _WAIT.finditer(low):
        if _ASKS.search(low, max(0, match.start() - 60), match.start()) is None:
            continue
        unit = match.group(2).rstrip("s") or "s"
        scale = 60 if unit.startswith("m") else 3600 if unit.startswith("h") else 1
        return float(int(match.group(1)) * scale)
    return None
