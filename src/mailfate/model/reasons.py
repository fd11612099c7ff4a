"""The bounce reason taxonomy (Sisimai 5.2 names), the coarse kinds and the hard/soft rule.

Reason names are the lowercase wire and database values, so results compare directly with
Sisimai and with the corpus in ``../shared/corpus/bounces``.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ALWAYS_HARD",
    "BOUNCE_REASONS",
    "NOT_BOUNCES",
    "RETRYABLE_REASONS",
    "Kind",
    "Reason",
    "is_hard",
    "kind_of",
]


class Reason(StrEnum):
    """Why a message did not arrive (or what the report says instead)."""

    AUTHFAILURE = "authfailure"
    """Rejected for an SPF, DKIM or DMARC failure."""
    BADREPUTATION = "badreputation"
    """Rejected for the sending IP address's reputation."""
    BLOCKED = "blocked"
    """Rejected for the client IP address or hostname."""
    CONTENTERROR = "contenterror"
    """Rejected for the header format of the message."""
    EXCEEDLIMIT = "exceedlimit"
    """The message exceeds a size limit of the recipient."""
    EXPIRED = "expired"
    """Delivery time expired: retries exhausted, connection failures."""
    FAILEDSTARTTLS = "failedstarttls"
    """Delivery failed for a STARTTLS problem."""
    FILTERED = "filtered"
    """Rejected after DATA by a recipient-side filter."""
    HASMOVED = "hasmoved"
    """The mailbox has moved and is not forwarded."""
    HOSTUNKNOWN = "hostunknown"
    """The recipient's domain does not exist."""
    MAILBOXFULL = "mailboxfull"
    """The recipient's mailbox is full."""
    MAILERERROR = "mailererror"
    """A mailer program (local delivery agent) exited unsuccessfully."""
    MESGTOOBIG = "mesgtoobig"
    """The message is too big for the destination server."""
    NETWORKERROR = "networkerror"
    """The SMTP connection failed: DNS lookup or another network problem."""
    NORELAYING = "norelaying"
    """Relaying denied."""
    NOTACCEPT = "notaccept"
    """The destination accepts no mail at all (null MX)."""
    NOTCOMPLIANTRFC = "notcompliantrfc"
    """Rejected for not complying with the RFCs (duplicate headers, bad line endings)."""
    ONHOLD = "onhold"
    """A diagnostic exists but says too little to decide."""
    POLICYVIOLATION = "policyviolation"
    """Rejected for a policy of the destination."""
    REJECTED = "rejected"
    """Rejected because of the envelope sender address."""
    REQUIREPTR = "requireptr"
    """Rejected for a missing or wrong PTR record of the sending IP."""
    SECURITYERROR = "securityerror"
    """Rejected for a security violation at the destination."""
    SPAMDETECTED = "spamdetected"
    """Rejected by a spam filter."""
    SPEEDING = "speeding"
    """Rejected for exceeding a rate limit."""
    SUPPRESSED = "suppressed"
    """Not delivered because the address is on a suppression list."""
    SUSPEND = "suspend"
    """The recipient account is suspended or disabled."""
    SYNTAXERROR = "syntaxerror"
    """Rejected for a syntax error in the SMTP commands sent."""
    SYSTEMERROR = "systemerror"
    """A system error on the remote host."""
    SYSTEMFULL = "systemfull"
    """The destination server's disk is full."""
    TOOMANYCONN = "toomanyconn"
    """Connection refused for too many concurrent connections."""
    USERUNKNOWN = "userunknown"
    """The recipient's local part does not exist."""
    VIRUSDETECTED = "virusdetected"
    """Rejected by a virus scanner."""
    UNDEFINED = "undefined"
    """No reason could be found."""
    DELIVERED = "delivered"
    """A success DSN: not a bounce."""
    FEEDBACK = "feedback"
    """An ARF complaint: not a bounce."""
    VACATION = "vacation"
    """An auto-reply: not a bounce."""


NOT_BOUNCES = frozenset({Reason.DELIVERED, Reason.FEEDBACK, Reason.VACATION})
BOUNCE_REASONS = frozenset(Reason) - NOT_BOUNCES
ALWAYS_HARD = frozenset({Reason.USERUNKNOWN, Reason.HOSTUNKNOWN, Reason.HASMOVED})
RETRYABLE_REASONS = frozenset(
    {
        Reason.UNDEFINED,
        Reason.ONHOLD,
        Reason.SYSTEMERROR,
        Reason.SECURITYERROR,
        Reason.EXPIRED,
        Reason.NETWORKERROR,
        Reason.HOSTUNKNOWN,
        Reason.USERUNKNOWN,
    }
)
"""Reasons so generic that a more specific signal (text, vendor rule) may override them."""


class Kind(StrEnum):
    """What a result means for the sender, coarser than :class:`Reason`."""

    HARD = "hard"
    SOFT = "soft"
    COMPLAINT = "complaint"
    AUTOREPLY = "autoreply"
    DELIVERED = "delivered"
    DELAYED = "delayed"
    """A delay notice: the sending MTA is still retrying; not a failure."""
    UNDETERMINED = "undetermined"


def _temporary(status: str, replycode: str, text: str) -> bool:
    if status.startswith("4") or replycode.startswith("4"):
        return True
    lowered = text.lower()
    return "temporar" in lowered or "try again later" in lowered


def is_hard(reason: Reason, status: str = "", replycode: str = "", text: str = "") -> bool:
    """Hard bounce or not, by Sisimai 5.x's rule: the flag follows the reason, not the status class.

    Hard only for userunknown, hostunknown and hasmoved, and for notaccept unless the status or
    reply code is 4xx or the text says the error is temporary.
    """
    if reason in ALWAYS_HARD:
        return True
    if reason is Reason.NOTACCEPT:
        return not _temporary(status, replycode, text)
    return False


def kind_of(reason: Reason, hard: bool) -> Kind:
    """The coarse kind of a result."""
    if reason is Reason.FEEDBACK:
        return Kind.COMPLAINT
    if reason is Reason.VACATION:
        return Kind.AUTOREPLY
    if reason is Reason.DELIVERED:
        return Kind.DELIVERED
    if hard:
        return Kind.HARD
    if reason in (Reason.UNDEFINED, Reason.ONHOLD):
        return Kind.UNDETERMINED
    return Kind.SOFT
