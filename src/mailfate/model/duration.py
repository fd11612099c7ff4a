"""Durations people write: ``"10m"``, ``"90s"``, ``"1h30m"``, ``"2d"`` — deadlines, retry
schedules, retention. One parser for the client, the API, the CLI and the settings."""

from __future__ import annotations

import math
import re

from mailfate.errors import InputError

__all__ = ["MAX_DURATION", "parse_duration"]

_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "hr": 3600,
    "d": 86400,
    "day": 86400,
}
MAX_DURATION = 100 * 366 * 86400.0
"""The longest duration :func:`parse_duration` accepts (about 100 years): longer ones are typos, and
would overflow date arithmetic."""
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")


def parse_duration(text: str | float, *, maximum: float = MAX_DURATION) -> float:
    """``"10m"``, ``"90s"``, ``"1h30m"``, ``"2d"`` (or a number of seconds) → seconds.

    Text needs a unit: ``"10"`` is refused (is it seconds or minutes?) while the number ``10``
    is 10 seconds. InputError unless the result is finite, > 0 and at most ``maximum`` seconds (by
    default :data:`MAX_DURATION`, so that ``now ± timedelta(seconds=...)`` can never overflow).
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        try:
            seconds = float(text)
        except OverflowError:  # an int past the floats
            seconds = math.inf
        return _bounded(seconds, f"{seconds:g}", maximum)
    compact = str(text).strip().lower()
    if not compact:
        raise InputError("empty duration; give e.g. 10m, 90s, 1h")
    total, pos = 0.0, 0
    for match in _DURATION.finditer(compact):
        if match.start() != pos and compact[pos : match.start()].strip():
            break
        unit = match.group(2)
        if not unit:
            raise InputError(
                f"duration {text!r}: give a unit — {match.group(1)}s, {match.group(1)}m, {match.group(1)}h "
                f"or {match.group(1)}d (a bare number of seconds only as a number, not as text)"
            )
        scale = _UNITS.get(unit) or _UNITS.get(unit.rstrip("s"))
        if scale is None:
            raise InputError(f"duration {text!r}: unknown unit {unit!r}; use s, m, h or d")
        total += float(match.group(1)) * scale
        pos = match.end()
        while pos < len(compact) and compact[pos] == " ":
            pos += 1
    if pos != len(compact) or total <= 0:
        raise InputError(f"duration {text!r}: give e.g. 10m, 90s, 1h30m, 2d")
    return _bounded(total, repr(text), maximum)


def _bounded(seconds: float, given: str, maximum: float) -> float:
    if not math.isfinite(seconds) or seconds <= 0:
        raise InputError(f"duration {given}: give a finite number of seconds > 0")
    if seconds > min(maximum, MAX_DURATION):
        raise InputError(f"duration {given}: at most {min(maximum, MAX_DURATION) / 86400:g} days")
    return seconds
