"""The finer cause beside the Sisimai reason, and how strong the evidence for a verdict is.

A :class:`Reason` is Sisimai's name, kept so results compare with Sisimai and the corpus. A
:class:`Cause` is what a person acts on: "greylisted" (wait five minutes, same IP) and
"spf-fail" (fix the SPF record) are both ``spamdetected`` or ``authfailure`` to Sisimai, and both
need something different from the sender. Causes are stable wire and database values.

:class:`Evidence` says what decided a verdict, strongest first: the engine suppresses an address
only on evidence stronger than a reply code's class.
"""

from __future__ import annotations

from enum import StrEnum

from mailfate.model.reasons import Reason

__all__ = [
    "ADDRESS_DEAD_CAUSES",
    "NEVER_HARD_CAUSES",
    "REASON_CAUSE",
    "STRONG_EVIDENCE",
    "Cause",
    "Evidence",
    "cause_of_reason",
    "strong_enough",
]


class Cause(StrEnum):
    """Why, in words a sender acts on."""

    # -- the address is dead (the only hard causes) --
    MAILBOX_UNKNOWN = "mailbox-unknown"
    """No such user at the receiving domain."""
    DOMAIN_UNKNOWN = "domain-unknown"
    """The recipient's domain does not exist or has no mail server."""
    NULL_MX = "null-mx"
    """The recipient's domain publishes a null MX (RFC 7505): it accepts no mail at all."""
    MAILBOX_MOVED = "mailbox-moved"
    """The mailbox moved and the mail is not forwarded."""
    # -- the mailbox exists but cannot take mail now --
    MAILBOX_FULL = "mailbox-full"
    """The recipient's mailbox is over its quota."""
    MAILBOX_DISABLED = "mailbox-disabled"
    """The account exists but is disabled, suspended or inactive."""
    # -- the receiver is slowing the sender down --
    GREYLISTED = "greylisted"
    """A first delivery from an unknown (IP, sender, recipient) triplet: retry in minutes, same IP."""
    RATE_LIMITED = "rate-limited"
    """The receiver limits how fast or how much this sender (IP, domain) may send."""
    TOO_MANY_CONNECTIONS = "too-many-connections"
    """Too many concurrent connections or recipients from this client."""
    SENDER_QUOTA = "sender-quota"
    """The sender's own account ran out of its sending quota (a relay's or provider's limit)."""
    # -- authentication of the sender --
    SPF_FAIL = "spf-fail"
    """The sending IP is not allowed by the sender domain's SPF record."""
    DKIM_FAIL = "dkim-fail"
    """The DKIM signature is missing, broken or does not verify."""
    DMARC_POLICY = "dmarc-policy"
    """DMARC failed (no aligned SPF or DKIM pass) and the domain's policy rejects or quarantines."""
    AUTH_FAIL = "auth-fail"
    """Sender authentication failed (SPF, DKIM or DMARC; the reply does not say which)."""
    NO_PTR = "no-ptr"
    """The sending IP has no PTR record, or its name does not resolve back to it."""
    HELO_INVALID = "helo-invalid"
    """The EHLO/HELO name is missing, malformed or does not resolve."""
    TLS_REQUIRED = "tls-required"
    """The receiver requires TLS (or a newer TLS) and the sender did not use it."""
    TLS_FAILED = "tls-failed"
    """The TLS handshake or certificate check failed."""
    # -- reputation and blocks --
    IP_BLOCKLISTED = "ip-blocklisted"
    """The sending IP is on a DNS blocklist (the list is named in ``cause_detail``)."""
    IP_REPUTATION = "ip-reputation"
    """The receiver distrusts the sending IP or its network (own reputation system)."""
    DOMAIN_REPUTATION = "domain-reputation"
    """The receiver distrusts the sender's domain (or a domain in the content)."""
    BLOCKED = "blocked"
    """The receiver blocks this client (IP or host name) by its own policy."""
    SENDER_REJECTED = "sender-rejected"
    """The envelope sender (MAIL FROM) or its domain is refused."""
    RELAY_DENIED = "relay-denied"
    """The server is not the recipient's mail server and does not relay for this client."""
    # -- the message itself --
    SPAM_CONTENT = "spam-content"
    """A spam filter judged the content."""
    VIRUS = "virus"
    """A virus scanner found malware in the message."""
    CONTENT_POLICY = "content-policy"
    """The content breaks a receiver's policy (attachment type, language, links)."""
    MESSAGE_TOO_BIG = "message-too-big"
    """The message is larger than the receiver accepts."""
    NOT_RFC_COMPLIANT = "not-rfc-compliant"
    """The message breaks RFC 5322 (missing or duplicate headers, bad line endings, encodings)."""
    TOO_MANY_RECIPIENTS = "too-many-recipients"
    """Too many recipients in one message or transaction."""
    # -- the conversation --
    SMTP_SYNTAX = "smtp-syntax"
    """The receiver did not understand an SMTP command of ours."""
    POLICY = "policy"
    """The receiver refused by a local policy it does not explain."""
    RECIPIENT_FILTER = "recipient-filter"
    """The recipient (or their organisation) filters this mail: a rule of theirs, not a dead address."""
    # -- the receiving system --
    SERVER_ERROR = "server-error"
    """A fault at the receiving server (store driver, local delivery agent, configuration)."""
    SERVER_FULL = "server-full"
    """The receiving server is out of disk or resources."""
    NETWORK_ERROR = "network-error"
    """The connection failed: DNS, routing, refused, dropped."""
    TIMEOUT = "timeout"
    """The receiver did not answer in time."""
    # -- time --
    RETRIES_EXHAUSTED = "retries-exhausted"
    """The sending MTA gave up after retrying for its maximum time."""
    DELAYED = "delayed"
    """A delay notice: the sending MTA is still retrying. Not a failure."""
    RETRY_FORBIDDEN = "retry-forbidden"
    """The receiver says retrying will not succeed."""
    SUPPRESSED = "suppressed"
    """The sending service refused the address from its own suppression list."""
    # -- not bounces --
    DELIVERED = "delivered"
    COMPLAINT = "complaint"
    AUTO_REPLY = "auto-reply"
    UNKNOWN = "unknown"
    """Nothing in the report says why."""


class Evidence(StrEnum):
    """What decided a verdict, strongest first."""

    FORMAT = "format"
    """The report's format names it (an ARF report, an auto-reply, a vendor's own error class,
    an SES bounce type)."""
    PROVIDER_RULE = "provider-rule"
    """A rule for one receiver's published replies (keyed on its host or its own wording)."""
    STATUS = "status"
    """An RFC 3463 enhanced status code whose subject says it."""
    PHRASE = "phrase"
    """A generic phrase that means the same at any receiver."""
    CODE_CLASS = "code-class"
    """Only the reply code's class, the failing SMTP command or the DSN action."""
    NONE = "none"
    """Nothing decided: the verdict is a placeholder."""


STRONG_EVIDENCE = frozenset({Evidence.FORMAT, Evidence.PROVIDER_RULE, Evidence.STATUS, Evidence.PHRASE})
"""Evidence on which a hard bounce may suppress an address."""


def strong_enough(evidence: str) -> bool:
    """Whether a hard bounce with this evidence may suppress the address. A result stored before
    evidence was recorded ("") is taken as it was then: strong."""
    return not evidence or evidence in STRONG_EVIDENCE


ADDRESS_DEAD_CAUSES = frozenset(
    {Cause.MAILBOX_UNKNOWN, Cause.DOMAIN_UNKNOWN, Cause.NULL_MX, Cause.MAILBOX_MOVED}
)
"""The causes a hard bounce may have: the address permanently does not exist."""

NEVER_HARD_CAUSES = frozenset(Cause) - ADDRESS_DEAD_CAUSES - {Cause.UNKNOWN, Cause.RETRY_FORBIDDEN}
"""A reply with one of these causes is never a hard bounce, whatever its code class or the
reason a weaker rule gave: policy, reputation, authentication, content, size, quota, relaying and
local-configuration refusals say nothing about whether the address exists."""

REASON_CAUSE: dict[Reason, Cause] = {
    Reason.USERUNKNOWN: Cause.MAILBOX_UNKNOWN,
    Reason.HOSTUNKNOWN: Cause.DOMAIN_UNKNOWN,
    Reason.NOTACCEPT: Cause.NULL_MX,
    Reason.HASMOVED: Cause.MAILBOX_MOVED,
    Reason.MAILBOXFULL: Cause.MAILBOX_FULL,
    Reason.SUSPEND: Cause.MAILBOX_DISABLED,
    Reason.AUTHFAILURE: Cause.AUTH_FAIL,
    Reason.BADREPUTATION: Cause.IP_REPUTATION,
    Reason.BLOCKED: Cause.BLOCKED,
    Reason.REQUIREPTR: Cause.NO_PTR,
    Reason.FAILEDSTARTTLS: Cause.TLS_FAILED,
    Reason.NORELAYING: Cause.RELAY_DENIED,
    Reason.REJECTED: Cause.SENDER_REJECTED,
    Reason.SPAMDETECTED: Cause.SPAM_CONTENT,
    Reason.VIRUSDETECTED: Cause.VIRUS,
    Reason.CONTENTERROR: Cause.NOT_RFC_COMPLIANT,
    Reason.NOTCOMPLIANTRFC: Cause.NOT_RFC_COMPLIANT,
    Reason.MESGTOOBIG: Cause.MESSAGE_TOO_BIG,
    Reason.EXCEEDLIMIT: Cause.MESSAGE_TOO_BIG,
    Reason.POLICYVIOLATION: Cause.POLICY,
    Reason.SECURITYERROR: Cause.POLICY,
    Reason.SPEEDING: Cause.RATE_LIMITED,
    Reason.TOOMANYCONN: Cause.TOO_MANY_CONNECTIONS,
    Reason.SYSTEMERROR: Cause.SERVER_ERROR,
    Reason.SYSTEMFULL: Cause.SERVER_FULL,
    Reason.MAILERERROR: Cause.SERVER_ERROR,
    Reason.NETWORKERROR: Cause.NETWORK_ERROR,
    Reason.EXPIRED: Cause.RETRIES_EXHAUSTED,
    Reason.SYNTAXERROR: Cause.SMTP_SYNTAX,
    Reason.FILTERED: Cause.RECIPIENT_FILTER,
    Reason.SUPPRESSED: Cause.SUPPRESSED,
    Reason.ONHOLD: Cause.UNKNOWN,
    Reason.UNDEFINED: Cause.UNKNOWN,
    Reason.DELIVERED: Cause.DELIVERED,
    Reason.FEEDBACK: Cause.COMPLAINT,
    Reason.VACATION: Cause.AUTO_REPLY,
}


def cause_of_reason(reason: Reason) -> Cause:
    """The cause a reason implies when nothing finer is known."""
    return REASON_CAUSE.get(reason, Cause.UNKNOWN)
