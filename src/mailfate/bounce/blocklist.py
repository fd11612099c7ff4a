"""Naming the DNS blocklist a reply cites (the cause ``ip-blocklisted`` gets it as its detail). The
cause vocabulary (:class:`~mailfate.model.causes.Cause`) lives in :mod:`mailfate.model.causes`."""

from __future__ import annotations

import re

__all__ = ["blocklist_name"]

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
