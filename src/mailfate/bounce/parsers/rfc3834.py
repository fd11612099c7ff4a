"""RFC 3834 automatic responses: out-of-office and vacation replies.

A mail is an auto-reply when its headers say so (``Auto-Submitted`` auto-replied, auto-generated or
auto-notified, ``X-Autoreply``, ``X-Autorespond``, ``X-Apple-Action: vacation``, ``Precedence:
auto_reply``, ``X-Auto-Response-Suppress`` with an "Automatic reply" subject) or when its subject is
a vacation notice in one of several languages. The recipient is the address that replied
(``From``). Bounce notices that also carry these marks (MAILER-DAEMON, postmaster, root) are left
alone, and so is ordinary mail: no marks, no result.
"""

from __future__ import annotations

import email.utils
import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.model.reasons import Reason

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "rfc3834"
PRIORITY = 700

_VACATION_SUBJECT = re.compile(
    r"(?i)^\s*(?:(?:re|aw|fw|fwd)\s*:\s*)*(?:"
    r"auto\s*:|auto(?:matic|matische)?[ -]?(?:reply|response|responder|antwort|r[eé]ponse)"
    r"|out of (?:the )?office|away from (?:the |my )?(?:office|desk)"
    r"|\bon vacation\b|vacation (?:reply|notice)"
    r"|(?:i am|i'm) (?:away|out of)|away until|abwesenheitsnotiz|r[eé]ponse automatique|absence du bureau"
    r"|fuera de la oficina|respuesta autom[aá]tica|risposta automatica|fuori sede"
    r"|automatisch antwoord|resposta autom[aá]tica|automatiskt svar|autosvar"
    r"|부재중|자동\s*(?:응답|회신)|不在(?:通知|のお知らせ|連絡)|自動(?:応答|返信)|休暇(?:中|のお知らせ)|出張(?:中|のお知らせ)"
    r")"
)
_BOUNCE_MARKS = re.compile(
    r"(?i)mailer-daemon|postmaster|undeliver|undelivered|delivery (?:status|failure|notification)"
    r"|returned mail|failure notice|bounce|non[- ]?delivery|mail delivery failed|delivery failed"
    r"|mail failure -|security information for|^\s*root@|<root@"
)
_AUTO_SUBMITTED = re.compile(r"(?i)^\s*auto-(?:replied|generated|notified)")


def _marked(mail: Mail) -> bool:
    if _AUTO_SUBMITTED.match(mail.header("Auto-Submitted")):
        return True
    if mail.header("X-Autoreply") or mail.header("X-Autorespond") or mail.header("X-Autoreply-From"):
        return True
    if mail.header("X-Apple-Action").strip().lower().startswith("vacation"):
        return True
    if mail.header("Precedence").strip().lower() == "auto_reply":
        return True
    return bool(mail.header("X-Auto-Response-Suppress") and _VACATION_SUBJECT.search(mail.subject))


def parse(mail: Mail) -> list[Draft] | None:
    """One draft with reason vacation for an auto-reply; None for anything else."""
    subject = mail.subject
    marked = _marked(mail)
    if not marked and not _VACATION_SUBJECT.search(subject):
        return None
    if _BOUNCE_MARKS.search(mail.sender) or _BOUNCE_MARKS.search(subject):
        return None
    if mail.header("To").strip().lower().startswith("root@"):
        return None
    if mail.content_type in ("multipart/report",) or mail.part("message/delivery-status") is not None:
        return None
    if not marked and mail.header("Auto-Submitted").strip().lower() == "no":
        return None
    replier = [a for _, a in email.utils.getaddresses([mail.header("From")]) if "@" in a]
    if not replier:
        return None
    text = mail.text[:2000]
    return [
        Draft(
            recipient=replier[0],
            reason=Reason.VACATION,
            diagnostic=" ".join(text.split())[:500],
            timestamp=mail.date,
        )
    ]
