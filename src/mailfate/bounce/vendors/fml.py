"""fml (mailing list manager): notices from "<list>-admin" about rejected posts and mail loops."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import find_address, readable
from mailfate.model.reasons import Reason

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "fml"
PRIORITY = 320

_SUBJECT = re.compile(r"\(([^()]+) ML\)\s*$")
_BRACKETED = re.compile(r"<([^>\s]+@[^>\s]+)>")
# fml's own notices and the reasons they state.
_NOTICES = (
    (
        re.compile(
            r"are not (?:a )?member|not member article from|reject(?:ed)? mail|reject spammers|"
            r"spam mail from a spammer is rejected|members only|only members",
            re.IGNORECASE,
        ),
        Reason.REJECTED,
    ),
    (
        re.compile(
            r"loop alert|loop back warning|unix from loop|duplicated message-id|mail loop|"
            r"fml system error|has detected a loop condition",
            re.IGNORECASE,
        ),
        Reason.SYSTEMERROR,
    ),
    (re.compile(r"security alert", re.IGNORECASE), Reason.SECURITYERROR),
    (re.compile(r"command (?:error|failed)|invalid command", re.IGNORECASE), Reason.SYNTAXERROR),
    (re.compile(r"too (?:big|large)", re.IGNORECASE), Reason.MESGTOOBIG),
)


def parse(mail: Mail) -> list[Draft] | None:
    """One draft from an fml notice; None for other mail."""
    if _SUBJECT.search(mail.subject) is None and not mail.header("X-MLServer").lower().startswith("fml"):
        return None
    sender = find_address(mail.sender)
    if not sender.split("@", 1)[0].endswith(("-admin", "-request", "-ctl")):
        return None
    reason = next((r for pattern, r in _NOTICES if pattern.search(mail.subject)), None)
    body = readable(mail)
    first = next((ln.strip() for ln in body.split("\n") if ln.strip()), "")
    if reason is None:
        reason = next((r for pattern, r in _NOTICES if pattern.search(first)), None)
    if reason is None:
        return None
    m = _BRACKETED.search(first)
    recipient = m.group(1) if m else find_address(mail.header("To"))
    return [Draft(recipient=recipient, action="failed", diagnostic=first, reason=reason)]
