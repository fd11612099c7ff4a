"""Reading the human-readable notice of a bounce: which SMTP command failed, and whether the
notice is only a warning that delivery is still being retried.

Shared by the plain-text parsers (``legacy``, ``heuristic``) and by MTA parsers whose text names
the SMTP stage in words ("after RCPT TO", "in reply to end of DATA", "does not like recipient").
"""

from __future__ import annotations

import re

__all__ = ["command_of", "is_warning", "sent_command"]

_COMMAND = re.compile(
    r"\b(?:after|in reply to|in response to|while sending|when sending|responding to)\s+(?:the\s+)?"
    r"(?:pipelined\s+)?(?P<cmd>rcpt\s+to|mail\s+from|end\s+of\s+data|data\s+block|sending\s+data(?:\s+block)?"
    r"|data|helo|ehlo|lhlo|starttls|auth|initial\s+connection|connection|connect|greeting|quit|bdat)\b",
    re.IGNORECASE,
)
_SENT = re.compile(
    r"^\s*>>>\s*(?P<cmd>rcpt\s+to|mail\s+from|data|helo|ehlo|lhlo|starttls|auth|quit|bdat|\.)", re.I
)
_STAGES = (
    ("does not like recipient", "RCPT"),
    ("does not like sender", "MAIL"),
    ("sender was rejected", "MAIL"),
    ("failed on data command", "DATA"),
    ("failed after i sent the message", "DATA"),
    ("didn't like our data", "DATA"),
    ("my name was rejected", "HELO"),
    ("greeting failed", "CONN"),
)
_NAMES = {
    "RCPT TO": "RCPT",
    "MAIL FROM": "MAIL",
    "END OF DATA": "DATA",
    "DATA BLOCK": "DATA",
    "SENDING DATA": "DATA",
    "SENDING DATA BLOCK": "DATA",
    ".": "DATA",
    "BDAT": "DATA",
    "INITIAL CONNECTION": "CONN",
    "CONNECTION": "CONN",
    "CONNECT": "CONN",
    "GREETING": "CONN",
    "LHLO": "EHLO",
}


def _name(words: str) -> str:
    key = " ".join(words.upper().split())
    return _NAMES.get(key, key)


def sent_command(line: str) -> str:
    """The command of a ``>>> RCPT To:<x>`` transcript line ("RCPT"), or ""."""
    m = _SENT.match(line)
    return _name(m.group("cmd")) if m else ""


def command_of(text: str) -> str:
    """The SMTP command a notice says failed ("RCPT", "MAIL", "DATA", "CONN", "HELO", ...), or "".

    Reads "after RCPT TO:<...>", "in reply to end of DATA command", "after initial connection",
    qmail's sentences ("... does not like recipient.") and the last command of a ``>>>`` transcript
    before a 4xx/5xx reply.
    """
    if not text:
        return ""
    low = text.lower()
    for phrase, command in _STAGES:
        if phrase in low:
            return command
    m = _COMMAND.search(text)
    if m:
        return _name(m.group("cmd"))
    last = ""
    for line in text.split("\n")[:200]:
        sent = _SENT.match(line)
        if sent:
            last = _name(sent.group("cmd"))
            continue
        if last and re.match(r"^\s*<<<\s*[45]\d\d", line):
            return last
    return ""


_WARNING = re.compile(
    r"only a warning|just a warning|this is a warning|do not need to (?:resend|re-send|take any action)"
    r"|no action is required|will be retried|will retry|still being retried|is being retried"
    r"|will continue to be made|(?:will )?continue(?:s)? to (?:try|attempt)|will (?:keep"
    r"|continue) (?:on )?trying"
    r"|has not yet been delivered|has not been delivered yet|not yet been delivered"
    r"|delivery (?:has been|is|was) delayed"
    r"|(?:has|have) been delayed|been postponed|advisory-only|delivery delayed|retry (?:again )?(?:later|for)"
    r"|will be (?:re-?)?tried again|delivery will be attempted again|still trying",
    re.IGNORECASE,
)
_PERMANENT = re.compile(
    r"permanent(?:ly)? (?:fatal )?errors?|permanent fatal|fatal errors?|not going to try again|giving up"
    r"|gave up|has been (?:returned|bounced)|failed permanently|will not be (?:retried|delivered|tried)"
    r"|no further attempts|delivery has failed|could not be delivered to one or more",
    re.IGNORECASE,
)
_WARNING_SUBJECT = re.compile(r"warning|delay|still being retried|postponed|not yet delivered", re.I)


def is_warning(notice: str, subject: str = "") -> bool:
    """True when the notice only warns that delivery is delayed and will be retried."""
    head = notice[:20000]
    if _PERMANENT.search(head):
        return False
    if _WARNING.search(head):
        return True
    return bool(_WARNING_SUBJECT.search(subject)) and "fail" not in subject.lower()
