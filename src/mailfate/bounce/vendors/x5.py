"""Unidentified MTA "X5": a notice to "NotificationRecipients" wrapping another MTA's DSN."""

from __future__ import annotations

from mailfate.bounce.mail import Mail, Part
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import dsn_drafts, dsn_fields

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "x5"
PRIORITY = 340
_MAX_WALK = 50


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from the DSN nested in an X5 notice; None for other mail."""
    if "NotificationRecipients" not in mail.header("To"):
        return None
    if "mail delivery subsystem" not in mail.sender:
        return None
    for part in mail.parts:
        if part.content_type != "message/rfc822":
            continue
        inner = part.embedded()
        if inner is None:
            continue
        for i, sub in enumerate(inner.walk()):
            if i > _MAX_WALK:
                break
            if sub.get_content_type() in ("message/delivery-status", "message/global-delivery-status"):
                return dsn_drafts(dsn_fields(Part(sub, 1).text))
    return None
