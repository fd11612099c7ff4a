"""Naming the DNS blocklist a reply cites. The cause vocabulary (:class:`Cause`, :class:`Evidence`
and their tables) lives in :mod:`mailfate.model.causes` and is re-exported here."""

from __future__ import annotations

import re

from mailfate.model.causes import (
    ADDRESS_DEAD_CAUSES,
    NEVER_HARD_CAUSES,
    REASON_CAUSE,
    STRONG_EVIDENCE,
    Cause,
    Evidence,
    cause_of_reason,
    strong_enough,
)

__all__ = [
    "ADDRESS_DEAD_CAUSES",
    "NEVER_HARD_CAUSES",
    "REASON_CAUSE",
    "STRONG_EVIDENCE",
    "Cause",
    "Evidence",
    "blocklist_name",
    "cause_of_reason",
    "strong_enough",
]

_BLOCKLIST_ZONE = re.compile(
    r"\b((?:[a-z0-9-]+\.)*(?:spamhaus\.org|spamcop\.net|barracudacentral\.org|sorbs\.net|"
    r"uceprotect\.net|abuseat\.org|surriel\.com|mailspike\.net|invaluement\.com|senderscore\.com|"
    r"spameatingmonkey\.net|dnswl\.org|lashback\.com|manitu\.net|0spam\.org|nordspam\.com|"
    r"anti-spam\.org\.cn|spamrats\.com|backscatterer\.org|s5h\.net|blocklist\.de|dronebl\.org|"
    r"rbl\.jp|kisa\.or\.kr|junkemailfilter\.com|dnsbl\.[a-z0-9.-]+|rbl\.[a-z0-9.-]+|bl\.[a-z0-9.-]+))\b"
)
_BLOCKLIST_NAME = re.compile(
    r"\b(spamhaus|spamcop|barracuda(?: reputation)?|sorbs|uceprotect|cbl|psbl|mailspike|invaluement|"
    r"senderscore|trend micro (?:rbl|ers|qil|dul)|mail abuse prevention system|maps rbl|"
    r"proofpoint dynamic reputation|cloudmark|spamrats|backscatterer|kisa rbl)\b"
)
_BLOCKED_USING = re.compile(
    r"\b(?:blocked|listed|rejected) (?:using|by|on|in|at) ([a-z0-9][a-z0-9.-]+\.[a-z]{2,})\b"
)


def blocklist_name(text: str) -> str:
    """The DNS blocklist a (lowercased) reply names: its zone ("zen.spamhaus.org") or, failing that,
    the list's name ("spamhaus"); "" when it names none."""
    m = _BLOCKLIST_ZONE.search(text)
    if m is not None:
        return m.group(1)
    m = _BLOCKED_USING.search(text)
    if m is not None and not m.group(1).endswith((".htm", ".html", ".php", ".aspx")):
        return m.group(1)
    m = _BLOCKLIST_NAME.search(text)
    return m.group(1) if m is not None else ""
