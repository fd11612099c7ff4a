"""What the lint reads from one message: subject, From, unsubscribe headers, body text, links, Date.

Reading never raises: a message that cannot be parsed gives empty fields, and the rules then report
what is missing. Bodies are decoded from their declared charset (EUC-KR and KS C 5601 are read as
CP949, their superset; ISO-2022-KR as itself) and transfer encoding; HTML parts become text.
"""

from __future__ import annotations

import codecs
import email
import email.header
import email.utils
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from html.parser import HTMLParser

__all__ = ["LintMessage", "decode_bytes", "read_message"]

_CHARSET_ALIASES = {
    "euc-kr": "cp949",
    "euc_kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "x-windows-949": "cp949",
    "windows-949": "cp949",
    "unknown-8bit": "utf-8",
}
_FALLBACKS = ("utf-8", "cp949")
_URL = re.compile(r"(?:https?://|mailto:)[^\s<>\"')\]]+", re.IGNORECASE)
_ESCAPED = re.compile("[\udc80-\udcff]")
_SKIP_TAGS = frozenset({"script", "style", "head", "title"})
_BLOCK_TAGS = frozenset({"br", "p", "div", "tr", "li", "table", "h1", "h2", "h3", "h4", "footer", "hr"})


@dataclass(frozen=True, slots=True)
class LintMessage:
    """The parts of a message that spam laws and receiver rules look at."""

    subject: str = ""
    from_display: str = ""
    from_addr: str = ""
    reply_to: str = ""
    date: datetime | None = None
    list_unsubscribe: str = ""
    list_unsubscribe_post: str = ""
    text: str = ""
    links: tuple[str, ...] = field(default_factory=tuple)
    is_reply: bool = False
    dkim_signed: tuple[frozenset[str], ...] = ()
    parsed: bool = True

    @property
    def from_domain(self) -> str:
        return self.from_addr.rpartition("@")[2].lower() if "@" in self.from_addr else ""


def decode_bytes(data: bytes, charset: str | None) -> str:
    """``data`` as text in ``charset`` (aliases for Korean charsets applied), never raising."""
    names: list[str] = []
    if charset:
        name = charset.strip().strip('"').lower()
        names.append(_CHARSET_ALIASES.get(name, name))
    names.extend(_FALLBACKS)
    for name in names:
        try:
            codecs.lookup(name)
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")


def _header(msg: Message, name: str) -> str:
    raw: object = msg.get(name)
    if raw is None:
        return ""
    if isinstance(raw, str) and _ESCAPED.search(raw):  # raw 8-bit header kept as surrogate escapes
        raw = decode_bytes(raw.encode("utf-8", "surrogateescape"), None)
    try:
        # A Header object (raw 8-bit bytes, charset unknown-8bit) or encoded words (RFC 2047).
        parts = email.header.decode_header(raw if isinstance(raw, email.header.Header) else str(raw))
    except (ValueError, LookupError, AssertionError, UnicodeError):
        return " ".join(str(raw).split())
    out: list[str] = []
    for chunk, charset in parts:
        out.append(decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return " ".join("".join(out).split())


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.chunks.append("\n")
        if tag == "a":
            for key, value in attrs:
                if key == "href" and value:
                    self.links.append(value.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS and self._skip:
            self._skip -= 1
        elif tag in _BLOCK_TAGS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.chunks.append(data)


def html_to_text(html: str) -> tuple[str, list[str]]:
    """The visible text of ``html`` and the targets of its links."""
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # HTMLParser on pathological markup
        pass
    lines = ("".join(parser.chunks)).splitlines()
    text = "\n".join(" ".join(line.split()) for line in lines if line.strip())
    return text, parser.links


def _part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, LookupError, AssertionError):
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    return decode_bytes(payload, part.get_content_charset())


def _bodies(msg: Message) -> tuple[str, list[str]]:
    texts: list[str] = []
    links: list[str] = []
    for part in msg.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        if (part.get("Content-Disposition") or "").strip().lower().startswith("attachment"):
            continue
        subtype = part.get_content_subtype()
        body = _part_text(part)
        if subtype == "html":
            text, found = html_to_text(body)
            texts.append(text)
            links.extend(found)
        elif subtype == "plain":
            texts.append(body)
    text = "\n".join(texts)
    links.extend(_URL.findall(text))
    return text, list(dict.fromkeys(links))


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:  # "-0000": time in UTC, zone unknown (RFC 5322 §3.3)
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _signed_headers(signature: str) -> frozenset[str]:
    """The lower-cased header names in a DKIM-Signature's ``h=`` tag (RFC 6376 §3.5)."""
    for tag in signature.split(";"):
        name, _, value = tag.partition("=")
        if name.strip() == "h":
            return frozenset(h.strip().lower() for h in "".join(value.split()).split(":") if h.strip())
    return frozenset()


def read_message(raw: bytes) -> LintMessage:
    """Read ``raw`` (an RFC 5322 message); garbage gives a message with empty fields."""
    try:
        msg = email.message_from_bytes(raw)
    except (ValueError, LookupError, AssertionError, IndexError):
        return LintMessage(parsed=False)
    try:
        from_value = _header(msg, "From")
        display, addr = email.utils.parseaddr(from_value)
        text, links = _bodies(msg)
        return LintMessage(
            subject=_header(msg, "Subject"),
            from_display=display.strip(),
            from_addr=addr.strip(),
            reply_to=email.utils.parseaddr(_header(msg, "Reply-To"))[1],
            date=_date(_header(msg, "Date")),
            list_unsubscribe=_header(msg, "List-Unsubscribe"),
            list_unsubscribe_post=_header(msg, "List-Unsubscribe-Post"),
            text=text,
            links=tuple(links),
            is_reply=bool(msg.get("In-Reply-To") or msg.get("References")),
            dkim_signed=tuple(_signed_headers(str(v)) for v in msg.get_all("DKIM-Signature") or ()),
            parsed=bool(msg.keys()),
        )
    except (ValueError, LookupError, AssertionError, IndexError, TypeError):  # malformed MIME structure
        return LintMessage(parsed=False)
