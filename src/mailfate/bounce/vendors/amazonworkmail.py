"""Amazon WorkMail bounces: RFC 3464 fields printed in a text/plain "Technical report".

Sent from SES hosts with ``X-Mailer: Amazon WorkMail``. The Diagnostic-Code may wrap the remote
server's reply (``554 4.4.7 Message expired: ... <421 4.4.2 Connection timed out>``); the wrapped
reply is the real one and wins, as for SES.
"""

from __future__ import annotations

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._provider_common import dsn_drafts, dsn_text
from mailfate.bounce.vendors.amazonses import unwrap_reply

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "amazonworkmail"
PRIORITY = 258


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts for a WorkMail bounce, or None when the mail is not one."""
    if "Amazon WorkMail" not in mail.header("X-Mailer"):
        return None
    text = dsn_text(mail)
    drafts = dsn_drafts(text) if text else []
    if not drafts:
        part = mail.part("text/plain")
        if part is None or "Technical report:" not in part.text:
            return None
        drafts = dsn_drafts(part.text.split("Technical report:", 1)[1])
    for draft in drafts:
        inner = unwrap_reply(draft.diagnostic)
        if inner is not None:
            draft.replycode, status, draft.diagnostic = inner
            draft.status = status or draft.status
    return drafts or None
