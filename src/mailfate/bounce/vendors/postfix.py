"""Postfix bounces: the "mail system" notice, its RFC 3464 report and Postfix's SMTP transcripts.

Postfix writes one paragraph per recipient in the readable part
(``<rcpt>: host mx[ip] said: 550 5.1.1 ... (in reply to RCPT TO command)``) and one block per
recipient in the ``message/delivery-status`` part. The readable paragraph carries the command; the
report carries the status. Both are read and merged here, so this parser does not depend on the
generic RFC 3464 one. Also read: the postmaster notice "Postfix SMTP server: errors from ...".

:func:`read_report` (the field blocks of a delivery-status part) is shared with the Sendmail and
Exim parsers.
"""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail, parse_date
from mailfate.bounce.record import Draft
from mailfate.model.reply import STATUS_PATTERN, find_replycode, normalize_status

__all__ = [
    "NAME",
    "PRIORITY",
    "clean_reply",
    "draft_from_block",
    "merge_diagnostics",
    "parse",
    "read_report",
    "reconcile",
    "refine_status",
    "settle",
    "smtp_command",
]

NAME = "postfix"
PRIORITY = 300

_SUBJECTS = (
    "undelivered mail returned to sender",
    "delayed mail (still being retried)",
    "mail delivery status report",
    "successful mail delivery report",
    "undeliverable mail returned to sender",
)
_BANNERS = ("this is the mail system at host", "this is the postfix program at host")

_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)\s*:\s?(.*)$")
_PARAGRAPH_HEAD = re.compile(r"^<([^<>\s]+@[^<>\s]*|[^<>\s@]+)>(?:\s*\(expanded from <?[^>)]*>?\))?:\s*(.*)$")
_IN_REPLY = re.compile(r"\(in reply to ((?:end of )?[A-Za-z]+(?: [A-Za-z]+)?)(?: command)?\)", re.IGNORECASE)
_HOST_SAID = re.compile(r"\bhost\s+([^\s\[]+)\[[^\]]*\]\s+(?:said|refused to talk to me):\s*", re.IGNORECASE)
_CONNECT = re.compile(r"\bconnect to\s+([^\s\[]+)\[", re.IGNORECASE)
_TRANSCRIPT_LINE = re.compile(r"^\s*(In|Out):\s+(.*)$")
_COMMANDS = {
    "CONNECT": "CONN",
    "CONN": "CONN",
    "EHLO": "EHLO",
    "HELO": "HELO",
    "LHLO": "EHLO",
    "STARTTLS": "STARTTLS",
    "AUTH": "AUTH",
    "MAIL": "MAIL",
    "MAIL FROM": "MAIL",
    "RCPT": "RCPT",
    "RCPT TO": "RCPT",
    "DATA": "DATA",
    "BDAT": "DATA",
    "END OF DATA": "DATA",
    "XFORWARD": "XFORWARD",
    "QUIT": "QUIT",
}


def smtp_command(text: str) -> str:
    """The canonical SMTP command name of "RCPT TO", "end of DATA", "MAIL FROM:<x>"..."""
    words = text.upper().replace(":", " ").split()
    if words[:2] == ["END", "OF"]:
        words = words[2:]
    word = " ".join(words[:2])
    if word in _COMMANDS:
        return _COMMANDS[word]
    first = word.split(" ", 1)[0] if word else ""
    return _COMMANDS.get(first, "")


# -- the delivery-status part ------------------------------------------------------------------
def _fields(block: str) -> dict[str, str]:
    out: dict[str, str] = {}
    last = ""
    for line in block.split("\n"):
        if not line.strip():
            continue
        if line[:1] in (" ", "\t") and last:
            out[last] += " " + line.strip()
            continue
        m = _FIELD.match(line)
        if m is None:
            continue
        last = m.group(1).lower()
        if last in out:  # keep the first of a repeated field
            last = ""
            continue
        out[last] = m.group(2).strip()
    return out


_NEXT_RECIPIENT = re.compile(r"\n(?=Final-Recipient\s*:)", re.IGNORECASE)
_REPORT_START = re.compile(r"(?im)^(?:Reporting-MTA|Final-Recipient|Original-Envelope-Id)\s*:")


def read_report(mail: Mail, *, scan_text: bool = False) -> tuple[dict[str, str], list[dict[str, str]]] | None:
    """The per-message fields and the per-recipient blocks of the delivery-status part, or None.

    With ``scan_text`` a report pasted into a plain body (a lost MIME header) is read too.
    """
    part = mail.part("message/delivery-status", "message/global-delivery-status")
    if part is not None:
        text = part.text.replace("\r\n", "\n")
    elif scan_text:
        body = mail.text
        m = _REPORT_START.search(body)
        if m is None:
            return None
        text = body[m.start() :]
        end = re.search(r"(?m)^(?:--\S|Content-Type:)", text)
        text = text[: end.start()] if end else text[:20000]
    else:
        return None
    blocks = [b for b in re.split(r"\n[ \t]*\n", text) if b.strip()]
    blocks = [piece for b in blocks for piece in _NEXT_RECIPIENT.split(b) if piece.strip()]
    head: dict[str, str] = {}
    recipients: list[dict[str, str]] = []
    for block in blocks:
        fields = _fields(block)
        if "final-recipient" in fields or "original-recipient" in fields:
            recipients.append(fields)
        elif not recipients:
            head.update(fields)
    return head, recipients


def _value(field: str) -> str:
    """The value after the type of "rfc822; x@y" or "dns; host"."""
    return field.split(";", 1)[1].strip() if ";" in field else field.strip()


def _address(field: str) -> str:
    return _value(field).strip("<> ").lower()


def reconcile(status: str, code: str) -> str:
    """Drop a reply code whose class contradicts the report's status (a 554 under a 4.0.0)."""
    if status and code and status[0] in "45" and code[0] in "45" and status[0] != code[0]:
        return ""
    return code


def draft_from_block(block: dict[str, str], head: dict[str, str]) -> Draft:
    """A draft from one per-recipient block of a delivery-status part."""
    diag = block.get("diagnostic-code", "")
    dtype, _, dtext = diag.partition(";") if ";" in diag else ("", "", diag)
    draft = Draft(
        recipient=_address(block.get("final-recipient") or block.get("original-recipient", "")),
        action=block.get("action", "").split()[0].lower() if block.get("action", "").split() else "",
        status=normalize_status(block.get("status", "")),
        diagnostic=dtext.strip(),
        diagnostic_type=dtype.strip(),
        remote_mta=_value(block.get("remote-mta", "")),
        reporting_mta=_value(head.get("reporting-mta", "")),
        timestamp=parse_date(block.get("last-attempt-date", "") or head.get("arrival-date", "")),
    )
    draft.original_recipient = _address(block.get("original-recipient", ""))
    draft.replycode = find_replycode(draft.diagnostic) if dtype.strip().lower() == "smtp" else ""
    return draft


# -- the readable notice -----------------------------------------------------------------------
def _paragraphs(text: str) -> list[tuple[str, str]]:
    """(recipient, joined text) for every "<rcpt>: text" paragraph."""
    out: list[tuple[str, str]] = []
    current: list[str] | None = None
    rcpt = ""
    for line in text.split("\n"):
        stripped = line.strip()
        m = _PARAGRAPH_HEAD.match(stripped) if not line[:1].isspace() else None
        if m is not None:
            if current is not None:
                out.append((rcpt, " ".join(current)))
            rcpt, current = m.group(1).lower(), [m.group(2).strip()]
            continue
        if current is None:
            continue
        if not stripped or stripped.startswith("--") or stripped.lower().startswith("content-"):
            out.append((rcpt, " ".join(current)))
            current = None
            continue
        current.append(stripped)
    if current is not None:
        out.append((rcpt, " ".join(current)))
    return out


def _readable(mail: Mail) -> str:
    part = mail.part("text/plain")
    if part is not None:
        return part.text.replace("\r\n", "\n")
    return mail.text


def _from_paragraph(rcpt: str, text: str) -> Draft:
    draft = Draft(recipient=rcpt)
    m = _IN_REPLY.search(text)
    if m:
        draft.command = smtp_command(m.group(1))
        text_wo = (text[: m.start()] + text[m.end() :]).strip()
    else:
        text_wo = text
    hs = _HOST_SAID.search(text_wo)
    if hs:
        draft.remote_mta = hs.group(1).rstrip(".")
        reply = text_wo[hs.end() :].strip()
        if "refused to talk to me" in hs.group(0).lower() and not draft.command:
            draft.command = "CONN"
        draft.diagnostic = reply
        draft.replycode = find_replycode(reply)
        draft.diagnostic_type = "SMTP"
    else:
        cm = _CONNECT.search(text_wo)
        if cm:
            draft.remote_mta = cm.group(1)
            draft.command = draft.command or "CONN"
        draft.diagnostic = text_wo
    draft.status = normalize_status(draft.diagnostic[:40]) if draft.replycode else ""
    return draft


_LEAD = re.compile(r"^([245]\d\d)([ -])(?:(" + STATUS_PATTERN + r")\s)?")


def clean_reply(text: str) -> str:
    """A multi-line reply joined into one line, without the repeated "550-5.7.1" prefixes."""
    text = " ".join(text.split())
    m = _LEAD.match(text)
    if m is None:
        return text
    code, status = m.group(1), m.group(3)
    if status:
        repeat = re.compile(rf"\s{code}[ -]{re.escape(status)}(?=\s|$)")
    else:
        repeat = re.compile(rf"\s{code}(?:-|\s(?=[A-Za-z]))")
    head = f"{code} {status} " if status else f"{code} "
    rest = repeat.sub(" ", text[m.end() :])
    return " ".join((head + rest).split())


def _squash(text: str) -> str:
    return " ".join(text.lower().split())


def merge_diagnostics(first: str, second: str) -> str:
    """One diagnostic from two tellings of it: the longer when one contains the other, else both."""
    a, b = _squash(first), _squash(second)
    if not a or b in a:
        return second if not a else first
    if a in b:
        return second
    return f"{first.strip()} {second.strip()}"


def _merge(report: Draft, readable: Draft | None) -> Draft:
    if readable is None:
        return report
    report.command = report.command or readable.command
    if readable.diagnostic and _squash(readable.diagnostic) in _squash(report.diagnostic):
        report.diagnostic = readable.diagnostic  # the same reply, without "host ... said:" around it
    else:
        report.diagnostic = merge_diagnostics(readable.diagnostic, report.diagnostic)
    report.diagnostic_type = report.diagnostic_type or readable.diagnostic_type
    report.replycode = report.replycode or readable.replycode
    report.remote_mta = report.remote_mta or readable.remote_mta
    report.status = report.status or readable.status
    return report


def _transcript(mail: Mail) -> list[Draft]:
    """The postmaster notice "Postfix SMTP server: errors from ...": the failing reply and command."""
    last_cmd = ""
    recipients: list[str] = []
    failure: tuple[str, str] | None = None
    for line in mail.lines:
        m = _TRANSCRIPT_LINE.match(line)
        if m is None:
            continue
        side, rest = m.group(1), m.group(2).strip()
        if side == "In":
            last_cmd = smtp_command(rest)
            if last_cmd == "RCPT":
                addr = re.search(r"<([^<>\s]+@[^<>\s]+)>", rest)
                if addr:
                    recipients.append(addr.group(1).lower())
        elif rest[:1] in ("4", "5") and failure is None:
            failure = (rest, last_cmd)
    if failure is None:
        return []
    reply, cmd = failure
    return [
        Draft(
            recipient=r,
            action="failed",
            diagnostic=reply,
            replycode=find_replycode(reply),
            status=normalize_status(reply[:20]),
            command=cmd,
        )
        for r in (recipients or [""])
    ]


def _is_postfix(mail: Mail) -> bool:
    subject = mail.subject.lower()
    if " smtp server: errors from " in subject:
        return "transcript of session follows" in mail.text[:500].lower()
    if mail.header("X-ZohoMail") or "zoho" in mail.header("X-Mailer").lower():
        return False
    head = mail.text[:30000].lower()
    banner = any(b in head[:3000] for b in _BANNERS)
    if not subject.startswith(_SUBJECTS):
        # A rewritten or translated subject (bounce_template_file): the default banner and
        # Postfix's own DSN field together still name the MTA.
        return banner and "x-postfix-queue-id:" in head
    return banner or "x-postfix-queue-id:" in head


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts for a Postfix bounce, or None when the mail is not one."""
    if not _is_postfix(mail):
        return None
    if " smtp server: errors from " in mail.subject.lower():
        return _transcript(mail) or None
    readable = {}
    order: list[str] = []
    for rcpt, text in _paragraphs(_readable(mail)):
        if rcpt not in readable:
            readable[rcpt] = _from_paragraph(rcpt, text)
            order.append(rcpt)
    report = read_report(mail, scan_text=True)
    drafts: list[Draft] = []
    if report is not None and report[1]:
        head, blocks = report
        for block in blocks:
            draft = draft_from_block(block, head)
            seen = readable.get(draft.recipient) or readable.get(draft.original_recipient)
            if seen is None and draft.diagnostic:
                # no readable paragraph: the report's own text may still say "host ... said:"
                seen = _from_paragraph(draft.recipient, draft.diagnostic)
            drafts.append(_merge(draft, seen))
    else:
        drafts = [readable[r] for r in order]
        delayed = mail.subject.lower().startswith("delayed mail")
        for d in drafts:
            d.action = "delayed" if delayed else "failed"
    if not drafts and "delivery report unavailable" in mail.text[:4000].lower():
        drafts = [Draft(recipient=_original_to(mail), action="failed")]
    for d in drafts:
        settle(d)
    return drafts or None  # no recipient found: let the generic parsers try


def settle(draft: Draft) -> None:
    """Final touches shared by the MTA parsers: one-line reply, consistent code and status.

    A reply code whose class contradicts the report's status (Postfix defers a "554" greeting
    with 4.0.0) is dropped, from the diagnostic too, so nothing re-reads it later.
    """
    draft.diagnostic = clean_reply(draft.diagnostic)
    own = normalize_status(draft.diagnostic[:40]) if draft.replycode else ""
    if own and draft.status and own[0] != draft.status[0] and own[0] == draft.replycode[0]:
        draft.status = own  # "550 5.5.0" from the server outweighs a relay's 4.5.0 deferral
    code = reconcile(draft.status, draft.replycode)
    if draft.replycode and not code:
        m = _LEAD.match(draft.diagnostic)
        if m is not None and m.group(1) == draft.replycode:
            draft.diagnostic = draft.diagnostic[m.end() :].lstrip()
    draft.replycode = code
    draft.status = refine_status(draft.status, draft.diagnostic)


def refine_status(status: str, diagnostic: str) -> str:
    """The report's status, or the diagnostic's own code when the report says only x.0.0 or x.4.7."""
    found = normalize_status(diagnostic)
    if not status:
        return found
    generic = status.endswith(".0.0") or status[1:] == ".4.7"
    if generic and found and found[0] == status[0] and found != status and not found.endswith(".0.0"):
        return found
    return status


def _original_to(mail: Mail) -> str:
    inner = mail.original()
    if inner is None:
        return ""
    to = str(inner.get("To") or "")
    m = re.search(r"[^\s<>,;\"]+@[^\s<>,;\"]+", to)
    return m.group(0).lower() if m else ""
