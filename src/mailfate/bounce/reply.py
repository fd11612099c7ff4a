"""Taking SMTP replies apart, re-exported: the reply type and its parsers live in
:mod:`mailfate.model.reply`."""

from __future__ import annotations

from mailfate.model.reply import (
    SMTP_REPLY_CODES,
    STATUS_PATTERN,
    SmtpReply,
    find_replycode,
    find_status,
    is_status,
    normalize_status,
    parse_reply,
)

__all__ = [
    "SMTP_REPLY_CODES",
    "STATUS_PATTERN",
    "SmtpReply",
    "find_replycode",
    "find_status",
    "is_status",
    "normalize_status",
    "parse_reply",
]
