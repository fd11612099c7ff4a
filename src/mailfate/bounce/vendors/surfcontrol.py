"""SurfControl E-mail Filter: "Addressed To:" with "address: [ip], reply" lines and a DSN part."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import (
    dsn_report,
    find_address,
    readable,
    reply_draft,
    split_typed,
)

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "surfcontrol"
PRIORITY = 300

_FAILED = re.compile(r"^(\S+@\S+?):\s*\[([^\]]*)\],?\s*(.*)$")


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from a SurfControl bounce; None for other mail."""
    if not mail.header("X-Mailer").startswith("SurfControl"):
        return None
    body = readable(mail)
    dsn = dsn_report(mail)
    drafts: list[Draft] = []
    for raw in body.split("\n"):
        m = _FAILED.match(raw.strip())
        if m is None:
            continue
        fields = dsn.for_recipient(m.group(1))
        dtype, diag = split_typed(fields.get("diagnostic-code", ""))
        drafts.append(
            reply_draft(
                m.group(1),
                m.group(3) or diag,
                status=fields.get("status", ""),
                remote_mta=m.group(2),
                diagnostic_type=dtype,
            )
        )
    if not drafts:
        # No transcript line: the "Addressed To:" lines and the DSN part still say who and why.
        for raw in body.split("\n"):
            if raw.startswith("Addressed To:"):
                address = find_address(raw)
                fields = dsn.for_recipient(address)
                dtype, diag = split_typed(fields.get("diagnostic-code", ""))
                if address:
                    drafts.append(
                        reply_draft(address, diag, status=fields.get("status", ""), diagnostic_type=dtype)
                    )
    return drafts or None
