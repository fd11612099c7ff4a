"""Old and non-standard bounces: a notice in plain words and no delivery-status report.

Mailing-list managers meet these every day: old Sendmail and Smail, Microsoft SMTPSVC and the
Exchange Internet Mail Service, Novell GroupWise, Netscape/iPlanet Messaging Server, IMail
(SMTP32), LSMTP, MDaemon, qmail look-alikes and the notices of providers of the time (CompuServe,
AOL, Yahoo, Sina, universities). Each writes the failed recipients into its notice, in one of a
few layouts::

    The following addresses had permanent fatal errors       (an introduction, then a list)
    <user@example.org>... User unknown                        (address, then the reason)

    Recipient: <user@example.org>                             (labelled lines)
    Reason: Mailbox unavailable

    Receiver not found: user                                  (a local name of the sender's domain)

    >>> RCPT To:<user@example.org>                            (an SMTP transcript)
    <<< 550 5.1.1 User unknown

The notice is read up to where the returned message starts. A recipient is kept when its line
starts with the address after such an introduction, or when the line itself says the address
failed ("<x>... User unknown", "undeliverable to x", "Recipient: x"); each keeps the lines that
follow it as its own diagnostic, else the notice's explanation. A notice that only warns ("This is
only a warning", "will be retried", "has been delayed") gives drafts with action ``delayed``.

Runs late (after every parser that knows a format by name, before the last-resort heuristic) and
only on mail that presents itself as a bounce: a MAILER-DAEMON/postmaster sender, a null
Return-Path, or a subject such as "Undeliverable", "Returned mail", "failure notice"; a reply or
a mailing-list post that quotes a bounce is not one.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass

from mailfate.bounce.mail import Mail
from mailfate.bounce.parsers._notice import command_of, is_warning, sent_command
from mailfate.bounce.record import Draft
from mailfate.model.reply import STATUS_PATTERN, find_replycode

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "legacy"
PRIORITY = 850

_MAX_LINES = 400
_MAX_RECIPIENTS = 500
_ADDR = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+"
_ADDRESS = re.compile(_ADDR)

# -- is it a bounce? ---------------------------------------------------------------------------
_SENDER = re.compile(
    r"mailer-daemon|postmaster|mail delivery|mail administrator|mail system|mailer@|mdaemon|daemon@"
    r"|mail server|mail agent|smtp(?:32)?[ _-]?(?:gateway|service|server)|auto\.reply@|mail\.?router",
    re.IGNORECASE,
)
_SUBJECT = re.compile(
    r"undeliver|not deliver|undelivered|returned mail|return(?:ed|ing) to sender|delivery status"
    r"|delivery notification|delivery (?:fail|problem|report|error|delay|warning)|failed delivery"
    r"|mail delivery|failure notice|non-?deliver|non deliver|mail failed|mail failure|could not (?:be )?"
    r"(?:sent|delivered)|unable to deliver|message status|bounced|delayed mail|warning: message"
    r"|warning: could not|mail system error|delivery notice|nicht zugestellt|unzustellbar|non remis"
    r"|non distribu|no se (?:puede|pudo) entregar|non recapitabile|onbestelbaar|olevererbart",
    re.IGNORECASE,
)
_REPLY_SUBJECT = re.compile(r"^\s*(?:re|fwd?|aw|sv|tr|rv|wg|antw)\s*(?:\[\d+\])?\s*:", re.IGNORECASE)


def _is_bounce(mail: Mail) -> bool:
    by_sender = bool(_SENDER.search(mail.sender)) or mail.header("Return-Path").strip() == "<>"
    if by_sender:
        return True
    subject = mail.subject
    if _REPLY_SUBJECT.match(subject) or mail.header("List-Id") or mail.header("List-Post"):
        return False
    if mail.header("In-Reply-To") and not mail.header("Auto-Submitted"):
        return False
    return bool(_SUBJECT.search(subject))


# -- the notice ----------------------------------------------------------------------------------
_END = re.compile(
    r"^[-=_*~#<>| ]*(?:original message|unsent message|returned message|returned mail follows"
    r"|undelivered mail follows|message text follows|message header(?:s)? follow|message body follows"
    r"|below this line is a copy|below the next line is a copy|this is a copy of (?:the|your) message"
    r"|(?:a )?copy of (?:the|your) (?:original )?message|headers? of (?:the )?original|original headers"
    r"|enclosed (?:is|are)|your message reads|old message:|start of returned message"
    r"|here is your returned mail|included is a copy|possibly truncated original|the header of the original"
    r"|the original message (?:headers|text|follows)|original message header|content-type: message/rfc822"
    r"|end of message)",
    re.IGNORECASE,
)
_HEADER_START = re.compile(
    r"^(?:received|return-path|message-id|mime-version|dkim-signature|delivered-to):", re.I
)


_MAX_LINE_CHARS = 2000
"""Characters of one notice line the patterns read."""


def _notice(mail: Mail) -> list[str]:
    """The lines of the bounce's own text, up to where the returned message starts."""
    text = ""
    if mail.content_type.startswith("multipart/"):
        for p in mail.parts:
            if p.content_type == "text/plain" and p.text.strip():
                text = p.text
                break
        if not text:
            text = "\n".join(ln for ln in mail.text.split("\n") if not ln.startswith("Content-Type: "))
    else:
        text = mail.text
    out: list[str] = []
    for line in text.replace("\r", "").split("\n", _MAX_LINES)[:_MAX_LINES]:
        stripped = line.strip()
        if out and (_END.match(stripped) or _HEADER_START.match(line)):
            break
        # A notice line is short; a longer one is a quoted body or garbage. Cut it, so the line
        # patterns never scan megabytes (a 20 MB line cost a second).
        out.append(line[:_MAX_LINE_CHARS].rstrip())
    return out


# -- recipients ----------------------------------------------------------------------------------
_INTRO = re.compile(
    r"following (?:e-?mail )?(?:address(?:es|\(es\))?|recipients?(?:\(s\))?|users?|destinations?"
    r"|mailbox(?:es)?)"
    r"|failed (?:recipients?|addresses)|permanent fatal errors|transient non-fatal errors"
    r"|(?:could|can) ?not be delivered|couldn't be delivered|cannot be delivered|was not delivered"
    r"|were not delivered|not delivered to|undeliverable|could not reach|did not reach|could not deliver"
    r"|unable to deliver|cannot deliver|can't deliver|couldn't deliver|delivery to the following"
    r"|delivery (?:has )?failed|failed addresses follow|has not yet been delivered|not yet been delivered"
    r"|delivery attempts will continue|still being retried"
    r"|did not receive (?:a copy of )?(?:this|your) message"
    r"|list of failed|were unable to deliver|was unable to deliver|delivery problems?"
    r"|the mail you sent could not|receiver not found|invalid receiver|invalid final delivery"
    r"|intended recipient|undeliverable address|has been delayed|been postponed|no such user"
    r"|error description:|error-for:|created automatically by mail delivery|message from interscan"
    r"|machine generated message from mail service"
    r"|this is the (?:deliver|delivery|qmail-send|mail delivery agent)|this is the email server at"
    r"|the mta program at|we're sorry\. there's a problem|your mail was not delivered"
    r"|check your send e-?mail address|^your message\s*$",
    re.IGNORECASE,
)
_LED = re.compile(
    r"^\s*(?:[>*\u2022\u00b7-]+\s*|\d{1,3}[.)]\s+)?"
    r"(?P<code>[245]\d\d[\s-]+(?:" + STATUS_PATTERN + r"\s+)?)?"
    r"(?:(?P<label>[A-Za-z][A-Za-z() -]{0,40}?)\s*[:=]\s*)?"
    r"[\"'(<\[]*(?:smtp:|rfc822;\s*)?(?P<addr>" + _ADDR + r")[\"')>\]]*(?P<rest>.*)$",
    re.IGNORECASE,
)
_LABELS = re.compile(
    r"^(?:(?:final|failed|original|intended|invalid|bad|unknown|undeliverable|unreachable|rejected)\s+)?"
    r"(?:recipient|receiver|address|addressee|user|mailbox|to|rcpt to|error-for|for|e-?mail|destination"
    r"|recipient address|e-?mail address|user name|account)(?:\s*\(s\))?(?:\s+address)?$",
    re.IGNORECASE,
)
_INLINE = re.compile(
    r"(?P<why>undeliverable\s+to|could not be delivered to|delivery (?:to|failed for)|unknown user"
    r"|user unknown"
    r"|user mailbox[^:\n]{0,40}:|delivery failed[^:\n]{0,40}:|delivery userid[^:\n]{0,20}:"
    r"|receiver not found:|invalid receiver address:|mailbox is full:|no such (?:user|mailbox)(?: here)?:?"
    r"|addressed to|rcpt to:|unable to deliver (?:your )?(?:message|mail) to|failed to deliver to"
    r"|not delivered to|smtp=)(?:[^:\n@<]{0,40}:)?\s*['\"<(]?(?P<addr>" + _ADDR + r")",
    re.IGNORECASE,
)
_SENDMAIL_STYLE = re.compile(
    r"^\s*(?:[245]\d\d[\s-]+)?<?(?P<addr>" + _ADDR + r")>?(?:\.\.\.|:)\s*(?P<rest>\S.*)$"
)
_ERROR_WORDS = re.compile(
    r"(?<![\d.])[45]\d\d(?![\d.])|unknown|full|quota|not found|rejected|denied|unavailable|does ?n[o']t exist"
    r"|invalid|no such|refused|failed|failure|error|disabled|suspended|blocked|timed out|expired|unreachable"
    r"|undeliverable|not (?:a )?valid|unable|cannot|can't|could not|no mailbox|not exist|inactive|over ?quota"
    r"|too (?:large|big|long)|deferred|delayed|relay",
    re.IGNORECASE,
)
_CONTACT = re.compile(
    r"\b(?:contact|please reply|reply to|questions|write to|send (?:mail|an? e-?mail|a message) to"
    r"|for (?:more )?"
    r"(?:help|information|assistance)|from:|sender|return-path|reply-to|message-id|originally (?:sent|from)"
    r"|was received (?:at|from)|received from)\b",
    re.IGNORECASE,
)
_LOCAL_NAME = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._%+-]{0,63})(?:\s*\((?P<why>[^()]{1,200})\)|\s{2,}(?P<more>\S.{0,200}))?\s*$"
)
_LOCAL_INTRO = re.compile(
    r"undeliverable to the following|following recipients could not be delivered|message not delivered to the"
    r" following|mail to the following recipients|did not reach the following|following (?:user|recipient)s?"
    r"(?:\(s\))? (?:could not|did not|was not|were not)|could not be delivered to:?\s*$|following:\s*$",
    re.IGNORECASE,
)
_RECEIVER_NOT_FOUND = re.compile(
    r"(?:receiver not found|invalid receiver address):\s*<?(?P<name>[^\s<>@]{1,64})>?\s*$", re.I
)
_FAILURE = re.compile(
    r"fail|undeliver|not (?:be )?deliver|could not|couldn't|unable|error|rejected|returned|bounce|delay"
    r"|retr(?:y|ied)|not reach|unknown|not found|no such|invalid|warning|problem|permanent|temporar|full"
    r"|postpone|advisory|not yet",
    re.IGNORECASE,
)
_ANGLED = re.compile(r"^<(?P<addr>" + _ADDR + r")>(?P<rest>.*)$")
_TRANSCRIPT_RCPT = re.compile(r"^\s*>>>\s*RCPT\s+TO\s*:?\s*<?(?P<addr>" + _ADDR + r")>?", re.IGNORECASE)
_TRANSCRIPT_REPLY = re.compile(r"^\s*<<<\s*(?P<reply>[45]\d\d\b.*)$")
_REASON_LABEL = re.compile(
    r"^\s*(?:\(?reason|error|status|diagnostic|remote host said|<<<|[45]\d\d\b|\(|the recipient|the e-?mail"
    r"|mailbox|user|account|host|smtp|action|response|description|explanation|problem)",
    re.IGNORECASE,
)
_ON_DATE = re.compile(r"^on\s+[^@\n]{0,60}?\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AP]M)?(?:\s*[+-]\d{4})?\s*", re.I)
_HOST_PREFIX = re.compile(
    r"^(?:mail|mx|smtp|mta|relay|gw|gateway|mailhost|post|mailer|mailgate|inbound)\d*\.", re.I
)


@dataclass(slots=True)
class _Found:
    address: str
    diagnostic: str = ""
    command: str = ""


def _own_addresses(mail: Mail) -> set[str]:
    values = [mail.header(h) for h in ("From", "To", "Cc", "Reply-To", "Return-Path", "Sender", "Errors-To")]
    return {a.lower() for _, a in email.utils.getaddresses(values) if "@" in a}


def _sender_domain(mail: Mail) -> str:
    _, addr = email.utils.parseaddr(mail.header("From"))
    domain = addr.rpartition("@")[2].lower().strip(".>")
    if "." not in domain:
        return ""
    trimmed = _HOST_PREFIX.sub("", domain, count=1)
    return trimmed if "." in trimmed else domain


def _clean_rest(rest: str) -> str:
    rest = _ON_DATE.sub("", rest.strip().lstrip(".:;,-=>").strip())
    return " ".join(rest.split())


def _continuation(lines: list[str], start: int, loose: bool) -> list[str]:
    """The lines after an address line that belong to it (its reason)."""
    out: list[str] = []
    for line in lines[start : start + 6]:
        if not line.strip():
            if loose and not out:
                continue
            break
        if _CONTACT.search(line):
            break
        if _LED.match(line) or (_INTRO.search(line) and not _REASON_LABEL.match(line)):
            break
        if loose or line[:1] in " \t" or _REASON_LABEL.match(line):
            out.append(line.strip())
            continue
        break
    return out


def _lead(lines: list[str]) -> str:
    """The notice's explanation without addresses and banners: the context of a bare list."""
    kept: list[str] = []
    for line in lines[:60]:
        s = line.strip()
        if not s or s.startswith(("---", "===", "***", "Content-")) or _ADDRESS.search(s):
            continue
        kept.append(s)
        if len(kept) >= 12:
            break
    return " ".join(kept)[:1500]


def _transcript(lines: list[str]) -> tuple[dict[str, _Found], list[str]]:
    """Replies of a ``>>> RCPT TO`` / ``<<< 550`` transcript, by address; replies to other commands."""
    by_addr: dict[str, _Found] = {}
    other: list[str] = []
    current = ""
    sent = "CONN"  # a reply before any command is the greeting
    for line in lines:
        m = _TRANSCRIPT_RCPT.match(line)
        if m:
            current, sent = m.group("addr"), "RCPT"
            continue
        if line.lstrip().startswith(">>>"):
            current, sent = "", sent_command(line)
            continue
        r = _TRANSCRIPT_REPLY.match(line)
        if r:
            reply = " ".join(r.group("reply").split())
            if current and current.lower() not in by_addr:
                by_addr[current.lower()] = _Found(current, reply, "RCPT")
            elif not current:
                other.append(f"{sent}\t{reply}")
    return by_addr, other


def _collect(mail: Mail, lines: list[str]) -> list[_Found]:
    own = _own_addresses(mail)
    found: dict[str, _Found] = {}
    listing = False
    local_intro = -1
    for i, line in enumerate(lines):
        if len(found) >= _MAX_RECIPIENTS:
            break
        stripped = line.strip()
        if not stripped:
            continue
        if _INTRO.search(stripped) and i < 120:
            listing = True
            if _LOCAL_INTRO.search(stripped):
                local_intro = i
        if _CONTACT.search(stripped) and not _INLINE.search(stripped):
            continue
        hits: list[tuple[str, str, bool]] = []  # (address, rest of line, rest was empty)
        led = _LED.match(line)
        label_ok = led is not None and (
            led.group("label") is None or bool(_LABELS.match(led.group("label").strip()))
        )
        if led is not None and label_ok:
            rest = _clean_rest(led.group("rest"))
            code = (led.group("code") or "").strip()
            if listing or _ERROR_WORDS.search(rest) or code:
                label = " ".join((led.group("label") or "").lower().split())
                prefix = "RCPT TO:" if label == "rcpt to" else code
                hits.append((led.group("addr"), f"{prefix} {rest}".strip(), not rest))
        if not hits:
            style = _SENDMAIL_STYLE.match(line)
            if style and _ERROR_WORDS.search(style.group("rest")):
                hits.append((style.group("addr"), _clean_rest(style.group("rest")), False))
        if not hits:
            for m in _INLINE.finditer(line):
                if m.group("why").lower() == "rcpt to:" and line.lstrip().startswith(">>>"):
                    continue
                after = _clean_rest(line[m.end() :].lstrip(">)'\""))
                why = stripped if not after else f"{m.group('why').rstrip(':=')} {after}"
                hits.append((m.group("addr"), why, False))
        for address, rest, loose in hits:
            key = address.lower()
            if key in own or key in found:
                continue
            more = _continuation(lines, i + 1, loose)
            diagnostic = " ".join([rest, *more]).strip()
            found[key] = _Found(address, diagnostic, command_of("\n".join([rest, *more])))
    if not found and local_intro >= 0:
        _local_names(mail, lines, local_intro, found)
    if not found and _SENDER.search(mail.sender):
        for line in lines[:80]:
            angled = _ANGLED.match(line)
            if angled and angled.group("addr").lower() not in own:
                address = angled.group("addr")
                found.setdefault(address.lower(), _Found(address, _clean_rest(angled.group("rest"))))
    if not found:
        domain = _sender_domain(mail)
        for line in lines[:80]:
            receiver = _RECEIVER_NOT_FOUND.search(line)
            if receiver and domain:
                key = f"{receiver.group('name')}@{domain}".lower()
                found.setdefault(key, _Found(key, line.strip()))
    return list(found.values())


def _local_names(mail: Mail, lines: list[str], intro: int, found: dict[str, _Found]) -> None:
    """Bare local names listed after an introduction (GroupWise, AOL): of the sender's domain."""
    domain = _sender_domain(mail)
    if not domain:
        return
    started = False
    for line in lines[intro + 1 : intro + 40]:
        if not line.strip():
            if started:
                return
            continue
        m = _LOCAL_NAME.match(line)
        if m is None:
            if started:
                return
            continue
        name = m.group("name")
        if name.isdigit() or name.lower() in ("to", "from", "subject", "reason", "error"):
            return
        started = True
        key = f"{name}@{domain}".lower()
        found.setdefault(key, _Found(key, (m.group("why") or m.group("more") or "").strip()))


def parse(mail: Mail) -> list[Draft] | None:
    """One draft per failed (or delayed) recipient the notice names; None when it names none."""
    if not _is_bounce(mail):
        return None
    if mail.part("message/feedback-report"):
        return None
    lines = _notice(mail)
    if not any(_INTRO.search(line) for line in lines[:120]) and not any(
        _SENDMAIL_STYLE.match(line) or _TRANSCRIPT_RCPT.match(line) for line in lines
    ):
        return None
    if not _FAILURE.search("\n".join(lines[:120])):
        return None
    found = _collect(mail, lines)
    replies, other = _transcript(lines)
    own = _own_addresses(mail)
    known = {f.address.lower() for f in found}
    for key, item in replies.items():
        if key not in known and key not in own:
            found.append(item)
    if not found:
        return None
    notice = "\n".join(lines)
    action = "delayed" if is_warning(notice, mail.subject) else "failed"
    lead = _lead(lines)
    drafts: list[Draft] = []
    for item in found[:_MAX_RECIPIENTS]:
        reply = replies.get(item.address.lower())
        diagnostic, command = item.diagnostic, item.command
        if reply is not None:
            if reply.diagnostic not in diagnostic:
                diagnostic = f"{reply.diagnostic} {diagnostic}".strip()
            command = reply.command
        elif len(other) == 1 and not find_replycode(diagnostic):
            sent, _, text = other[0].partition("\t")
            diagnostic = f"{text} {diagnostic}".strip()
            command = command or sent
        if lead and not _ERROR_WORDS.search(diagnostic) and (len(found) == 1 or not diagnostic):
            diagnostic = f"{diagnostic} {lead}".strip()
        drafts.append(
            Draft(
                recipient=item.address,
                action=action,
                diagnostic=diagnostic,
                command=command or command_of(diagnostic),
                timestamp=mail.date,
            )
        )
    return drafts
