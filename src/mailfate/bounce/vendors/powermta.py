"""PowerMTA (Port25): "Delivery report" DSNs with an X-PowerMTA-BounceCategory field."""

from __future__ import annotations

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import dsn_drafts, dsn_report
from mailfate.model.reasons import Reason

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "powermta"
PRIORITY = 300

# PowerMTA's bounce categories (bounce-category-patterns) that name a reason on their own.
_CATEGORIES = {
    "bad-domain": Reason.HOSTUNKNOWN,
    "bad-mailbox": Reason.USERUNKNOWN,
    "inactive-mailbox": Reason.SUSPEND,
    "message-expired": Reason.EXPIRED,
    "no-answer-from-host": Reason.NETWORKERROR,
    "policy-related": Reason.POLICYVIOLATION,
    "quota-issues": Reason.MAILBOXFULL,
    "routing-errors": Reason.SYSTEMERROR,
    "spam-related": Reason.SPAMDETECTED,
    "virus-related": Reason.VIRUSDETECTED,
    "bad-connection": Reason.NETWORKERROR,
    "content-related": Reason.CONTENTERROR,
    "protocol-errors": Reason.SYNTAXERROR,
    "relaying-issues": Reason.NORELAYING,
}


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from a PowerMTA DSN; None for other mail."""
    if "Delivery report" not in mail.subject or not mail.message.is_multipart():
        return None
    report = dsn_report(mail)
    if not any("x-powermta-bouncecategory" in f for f in report.recipients) and not any(
        k.startswith("x-powermta") for k in report.message
    ):
        return None
    drafts = dsn_drafts(report)
    for draft, fields in zip(drafts, report.recipients, strict=False):
        _code, _, comment = fields.get("status", "").partition("(")
        comment = comment.rstrip(") ").strip()
        if comment and comment.lower() not in ("undefined status", "other"):
            draft.diagnostic = f"{draft.diagnostic} ({comment})"
        category = fields.get("x-powermta-bouncecategory", "").strip().lower()
        if category in _CATEGORIES:
            draft.reason = _CATEGORIES[category]
    return drafts or None
