"""Google Groups refusing a post: the group does not exist or the sender may not post to it.

Sent by ``mailer-daemon@googlemail.com`` with the group address (googlegroups.com or a Google
Workspace domain) in X-Failed-Recipients and a localized text/plain explanation that links to
groups.google.com and lists the possible causes as bullets. The notice never carries an SMTP
reply; the sender (not the recipient) is what the group refused, so the reason is ``rejected``.
"""

from __future__ import annotations

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._provider_common import ADDRESS, text_before
from mailfate.model.reasons import Reason

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "googlegroups"
PRIORITY = 240

# The help link, or the signature the localized notices keep in English.
_MARKS = ("groups.google.com", "Google Groups")
_ENDS = ("----- Original message -----", "----- Message header follows -----")


def parse(mail: Mail) -> list[Draft] | None:
    """One draft per refused group address, or None when the mail is not a Groups notice."""
    if "mailer-daemon@googlemail.com" not in mail.sender:
        return None
    failed = mail.header("X-Failed-Recipients")
    if "@" not in failed:
        return None
    body = text_before(mail.text, *_ENDS)
    if not any(m in body for m in _MARKS) or "Delivery to the following recipient" in body:
        return None
    lines = [ln.strip() for ln in body.split("\n") if ln.strip()]
    # The explanation without the greeting, which names the sender, not the group.
    diagnostic = " ".join(lines[1:] if len(lines) > 1 else lines)
    # The refusal lists the possible causes (no such group, no permission to post) as bullets.
    refused = sum(1 for ln in lines if ln.startswith("*")) >= 3
    return [
        Draft(
            recipient=m.group(0),
            action="failed",
            diagnostic=diagnostic,
            reason=Reason.REJECTED if refused else None,
        )
        for m in ADDRESS.finditer(failed)
    ]
