"""Gmail's own bounce: the plain-text "Delivery to the following recipient failed" notice.

Two shapes come from ``mailer-daemon@googlemail.com``:

* the classic text/plain notice: the recipients indented under "Delivery to the following
  recipient(s) failed permanently:" (or "has been delayed:"), then "Technical details of
  permanent/temporary failure:", the remote reply and often a ``(state N)`` marker that says at
  which SMTP stage Google's outbound MTA failed;
* the Google Workspace notice with a message/delivery-status part that has no recipient fields:
  "** Message not delivered **", an explanation, "The response was:" and the reply; the recipient
  is then taken from X-Failed-Recipients or the returned message's To:.

Gmail DSNs that carry complete RFC 3464 fields are left to the RFC 3464 parser.
"""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._provider_common import ADDRESS, dsn_text, first_address, text_before
from mailfate.model.reasons import Reason
from mailfate.model.reply import normalize_status

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "gmail"
PRIORITY = 250

_SENDER = "mailer-daemon@googlemail.com"
_ENDS = ("----- Original message -----", "----- Message header follows -----")
_START = "Delivery to the following recipient"
_STATE = re.compile(r"\(state (\d{1,2})\)")
# What Google's outbound MTA was doing at each "(state N)": the SMTP command, and a reason only
# where the state itself decides it (TLS and AUTH failures on Google's side of the session).
_STATES: dict[str, tuple[str, Reason | None]] = {
    "6": ("MAIL", Reason.FAILEDSTARTTLS),
    "8": ("AUTH", Reason.SYSTEMERROR),
    "9": ("AUTH", Reason.FAILEDSTARTTLS),
    "12": ("AUTH", Reason.NORELAYING),
    "13": ("EHLO", None),
    "14": ("RCPT", None),
    "15": ("DATA", Reason.FILTERED),
    "17": ("DATA", Reason.FILTERED),
    "18": ("DATA", Reason.FILTERED),
}
_REPLY_MARKER = re.compile(r"The error that the other server returned was:\s*", re.IGNORECASE)
_DETAILS = re.compile(r"Technical details of (?:permanent|temporary) failure:\s*", re.IGNORECASE)
_BY_HOST = re.compile(r"\bby ([A-Za-z0-9][A-Za-z0-9.\-]{0,250}[A-Za-z0-9])\.? \[[0-9a-fA-F.:]+\]")
_SOCKET_HOST = re.compile(
    r"\[(?:\(\d+\) )?([A-Za-z0-9][A-Za-z0-9.\-]{0,250}[A-Za-z0-9])\.? \[?[0-9a-fA-F.:]+\]?"
)
_RETRY = re.compile(r"Message will be retried for \d+ more day\(s\)\s*", re.IGNORECASE)
_HOSTUNKNOWN = ("domain name not found", "dns server returned answer with no data")
_WORKSPACE_MARK = re.compile(r"^\*\* [^*\n]{3,80} \*\*\s*$", re.MULTILINE)


def _is_gmail(mail: Mail) -> bool:
    if _SENDER not in mail.sender:
        return False
    if "Delivery Status Notification" in mail.subject:
        return True
    # A localized subject: the sender is Google's own, so the notice's structure is enough.
    return mail.content_type == "multipart/report" or _START in mail.text[:4000]


def _classic(mail: Mail) -> list[Draft] | None:
    body = text_before(mail.text, *_ENDS)
    start = body.find(_START)
    if start < 0:
        return None
    delayed = "has been delayed" in body[start : start + 200]
    groups: list[tuple[list[str], list[str]]] = []
    for line in body[start:].split("\n")[1:]:
        stripped = line.strip()
        if not stripped:
            continue
        if line[:1] in " \t" and " " not in stripped and ADDRESS.fullmatch(stripped.strip("<>")):
            if not groups or groups[-1][1]:
                groups.append(([], []))
            groups[-1][0].append(stripped.strip("<>"))
        elif groups:
            groups[-1][1].append(stripped)
    drafts: list[Draft] = []
    for recipients, lines in groups:
        drafts.extend(_draft(r, " ".join(lines), delayed) for r in recipients)
    return drafts or None


def _draft(recipient: str, text: str, delayed: bool) -> Draft:
    text = _RETRY.sub("", text)
    remote = ""
    m = _BY_HOST.search(text) or _SOCKET_HOST.search(text)
    if m:
        remote = m.group(1).lower()
    marker = _REPLY_MARKER.search(text)
    if marker:
        diagnostic = text[marker.end() :]
    else:
        details = _DETAILS.search(text)
        diagnostic = text[details.end() :] if details else text
    draft = Draft(
        recipient=recipient,
        action="delayed" if delayed else "failed",
        diagnostic=diagnostic.strip(),
        diagnostic_type="SMTP",
        remote_mta=remote,
    )
    state = _STATE.search(diagnostic)
    if state and state.group(1) in _STATES:
        draft.command, reason = _STATES[state.group(1)]
        status = normalize_status(diagnostic)
        # A precise enhanced code in the remote reply says more than the stage it failed at.
        if not status or status.endswith(".0") or ".0." in status:
            draft.reason = reason
    elif "dns error" in diagnostic.lower() and any(p in diagnostic.lower() for p in _HOSTUNKNOWN):
        draft.reason = Reason.HOSTUNKNOWN
    elif delayed:
        draft.reason = Reason.EXPIRED
    return draft


def _workspace(mail: Mail) -> list[Draft] | None:
    status = dsn_text(mail)
    if "Final-Recipient:" in status or "Diagnostic-Code:" in status:
        return None  # a complete DSN: the RFC 3464 parser reads it
    part = mail.part("text/plain")
    if part is None:
        return None
    text = part.text
    mark = _WORKSPACE_MARK.search(text)
    if mark is None:
        return None
    explanation = " ".join(text[mark.start() :].split())
    recipients = [m.group(0) for m in ADDRESS.finditer(mail.header("X-Failed-Recipients"))]
    if not recipients:
        original = mail.original()
        to = first_address(str(original.get("To", ""))) if original is not None else ""
        recipients = [to] if to else []
    return [Draft(recipient=r, action="failed", diagnostic=explanation) for r in recipients] or None


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts for a Gmail notice, or None when the mail is not one."""
    if not _is_gmail(mail):
        return None
    if mail.content_type == "multipart/report":
        drafts = _workspace(mail)
        if drafts is not None:
            return drafts
        if "Final-Recipient:" in dsn_text(mail):
            return None  # a complete DSN: the RFC 3464 parser reads it
    return _classic(mail)
