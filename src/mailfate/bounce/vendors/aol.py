"""AOL's outbound relays (``omr-*.mx.aol.com``): DSNs from ``MAILER-DAEMON@aol.com`` / ``Postmaster@aol.com``.

The relays are Postfix-based but mark their own verdicts with the Diagnostic-Code type
``X-Outbound-Mail-Relay`` and an ``X-Outbound-Mail-Relay-Queue-ID`` field. Those verdicts are name
service outcomes for the recipient's domain:

* "Host or domain name not found" - the domain does not exist: ``hostunknown``;
* "type=MX: Malformed or unexpected name server reply" - the domain's MX answer is unusable, so
  the domain accepts no mail: ``notaccept``.

Replies from remote servers in the same DSN are classified by the reply rules as usual.
"""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._provider_common import dsn_drafts, dsn_text
from mailfate.model.reasons import Reason

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "aol"
PRIORITY = 255

_SENDER = re.compile(r"(?:mailer-daemon|postmaster)@(?:[a-z0-9\-]+\.)*aol\.(?:com|jp)\b")
_RELAY_TYPE = "x-outbound-mail-relay"
_VERDICTS: tuple[tuple[str, Reason], ...] = (
    ("type=mx: malformed or unexpected name server reply", Reason.NOTACCEPT),
    ("host or domain name not found", Reason.HOSTUNKNOWN),
)


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts for an AOL relay DSN, or None when the mail is not one."""
    if not _SENDER.search(mail.sender):
        return None
    text = dsn_text(mail)
    if "X-Outbound-Mail-Relay" not in text:
        return None
    drafts = dsn_drafts(text)
    for draft in drafts:
        if draft.diagnostic_type.lower() != _RELAY_TYPE:
            continue
        lowered = " ".join(draft.diagnostic.lower().split())
        for phrase, reason in _VERDICTS:
            if phrase in lowered:
                draft.reason = reason
                break
    return drafts or None
