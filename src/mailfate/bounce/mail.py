"""A bounded, forgiving view of one mail for the bounce parsers.

The MIME tree comes from :mod:`mailfate.bounce.mime`, which builds the same compat32
:class:`email.message.Message` tree as the stdlib parser, about five times faster and in bounded
time and depth. Text is decoded only when a parser reads it, with a charset fallback chain (EUC-KR,
CP949 and ISO-2022-KR included); raw 8-bit header bytes are decoded the same way. Nothing here
raises on bad input.
"""

from __future__ import annotations

import codecs
import email.errors
import email.header
import email.utils
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message
from functools import cached_property

from mailfate.bounce.mime import (
    MAX_DEPTH,
    MimeNode,
    body_bytes,
    charset_of,
    fields,
    first_header,
    parse_mime,
    payload_of,
)

__all__ = ["MAX_PARSE_BYTES", "Mail", "Part", "decode_bytes", "decode_header", "parse_date"]

MAX_PARSE_BYTES = 4 * 1024 * 1024
"""Only the first 4 MiB of a mail are parsed: every bounce format puts its report first."""
MAX_PARTS = 200
MAX_PART_CHARS = 512 * 1024
MAX_HEADER_CHARS = 16 * 1024
"""Header values are decoded up to this length: longer ones are garbage, and RFC 2047 decoding is
quadratic on odd input."""

_CHARSET_ALIASES = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "euc-kr": "cp949",
    "euc_kr": "cp949",
    "x-windows-949": "cp949",
    "windows-949": "cp949",
    "iso-2022-kr": "iso2022_kr",
    "iso-2022-jp": "iso2022_jp_ext",
    "x-sjis": "shift_jis",
    "shift-jis": "cp932",
    "shift_jis": "cp932",
    "x-unknown": "utf-8",
    "unknown-8bit": "utf-8",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "utf8": "utf-8",
    "gb2312": "gb18030",
    "gbk": "gb18030",
}
_FALLBACKS = ("utf-8", "cp949", "latin-1")
_NOT_MAIL_CODECS = frozenset({"punycode", "idna", "unicode-escape", "raw-unicode-escape", "undefined"})
_CODECS: dict[str, str | None] = {}


def _codec(charset: str | None) -> str | None:
    """The Python codec for a declared charset; None for unknown ones and for codecs that are
    not mail charsets (punycode decoding is quadratic, escape codecs interpret backslashes)."""
    if not charset:
        return None
    try:
        return _CODECS[charset]
    except KeyError:
        pass
    name = charset.strip().strip('"').lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        "".encode(name)
        found: str | None = None if codecs.lookup(name).name in _NOT_MAIL_CODECS else name
    except (LookupError, ValueError):
        found = None
    if len(_CODECS) < 256:
        _CODECS[charset] = found
    return found


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode bytes with the declared charset, then UTF-8, CP949 and Latin-1; never raises."""
    codec = _codec(charset)
    if codec is not None:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError, ValueError):
            pass
    if b"\x1b$)C" in data[:4096]:
        try:
            return data.decode("iso2022_kr")
        except (UnicodeDecodeError, ValueError):
            pass
    for name in _FALLBACKS:
        try:
            return data.decode(name)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")  # pragma: no cover - latin-1 cannot fail


def _unescape(raw: str) -> str:
    """Raw 8-bit header bytes (kept as surrogates by the parser) decoded like a body."""
    if raw.isascii():
        return raw
    try:
        data = raw.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return raw
    return decode_bytes(data)


def decode_header(value: str | email.header.Header | None) -> str:
    """Decode RFC 2047 words and raw 8-bit text, and unfold; never raises."""
    if value is None:
        return ""
    raw = (value if isinstance(value, str) else str(value))[:MAX_HEADER_CHARS]
    if "=?" not in raw and raw.isascii():
        return " ".join(raw.split())
    raw = _unescape(raw)
    if "=?" not in raw:
        return " ".join(raw.split())
    try:
        chunks = email.header.decode_header(raw)
    except (ValueError, IndexError, AssertionError, email.errors.MessageError):
        return " ".join(raw.split())
    out: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset))
        else:
            out.append(chunk)
    joined = "".join(out) if len(out) > 1 else (out[0] if out else "")
    return " ".join(joined.split())


def parse_date(value: str) -> datetime | None:
    """An aware UTC datetime from an RFC 5322 date, or None."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip()[:200])
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


# -- views ---------------------------------------------------------------------------------------
def _header_text(msg: Message) -> str:
    return "\n".join(f"{key}: {decode_header(value)}" for key, value in fields(msg))


class Part:
    """One leaf of the MIME tree."""

    __slots__ = ("_text", "content_type", "depth", "message")

    def __init__(self, message: Message, depth: int) -> None:
        self.message = message
        self.depth = depth
        self.content_type = message.ctype if isinstance(message, MimeNode) else message.get_content_type()
        self._text: str | None = None

    def header(self, name: str) -> str:
        return decode_header(first_header(self.message, name))

    @property
    def text(self) -> str:
        """The decoded content: transfer encoding and charset undone; embedded mail serialized."""
        if self._text is None:
            self._text = self._decode()[:MAX_PART_CHARS]
        return self._text

    def embedded(self) -> Message | None:
        """The embedded message of a message/rfc822 or message/global part."""
        payload = payload_of(self.message)
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            return payload[0]
        return None

    def _decode(self) -> str:
        msg = self.message
        payload = payload_of(msg)
        if isinstance(payload, list):
            if self.content_type in ("message/delivery-status", "message/global-delivery-status"):
                return "\n\n".join(_header_text(block) for block in payload if isinstance(block, Message))
            inner = self.embedded()
            return _serialize(inner) if inner is not None else ""
        data = body_bytes(msg)
        if data is None:
            return str(payload)
        return decode_bytes(data, charset_of(msg)).replace("\r\n", "\n")


def _serialize(msg: Message) -> str:
    head = _header_text(msg)
    body = ""
    payload = payload_of(msg)
    if isinstance(payload, str):
        data = body_bytes(msg)
        body = decode_bytes(data, charset_of(msg)) if data is not None else payload
    elif isinstance(payload, list) and payload and isinstance(payload[0], Message):
        inner = payload_of(payload[0])
        body = inner[: MAX_PART_CHARS // 4] if isinstance(inner, str) else ""
    return f"{head}\n\n{body[: MAX_PART_CHARS // 2]}"


_TEXTUAL = ("text/", "message/")


class Mail:
    """One mail, parsed once, with the views bounce parsers need."""

    def __init__(self, raw: bytes) -> None:
        if not isinstance(raw, bytes | bytearray):
            raise TypeError("Mail needs bytes")
        self.raw = bytes(raw)
        self.truncated = len(self.raw) > MAX_PARSE_BYTES
        data = self.raw[:MAX_PARSE_BYTES]
        self.message: Message = parse_mime(_strip_mbox_from(data).decode("ascii", "surrogateescape"))
        self._headers: dict[str, str] = {}
        self._all_headers: dict[str, list[str]] = {}
        self._original: Message | bool | None = False
        self._original_id: str | None = None

    @classmethod
    def from_bytes(cls, raw: bytes) -> Mail:
        return cls(raw)

    # -- headers -----------------------------------------------------------------------------
    def header(self, name: str) -> str:
        """The first header of that name, decoded and unfolded; "" when missing."""
        key = name.lower()
        try:
            return self._headers[key]
        except KeyError:
            value = self._headers[key] = decode_header(first_header(self.message, key))
            return value

    def headers(self, name: str) -> list[str]:
        """Every header of that name, in order, decoded and unfolded."""
        if not self._all_headers:
            for k, v in fields(self.message):
                self._all_headers.setdefault(k.lower(), []).append(v)
        return [decode_header(v) for v in self._all_headers.get(name.lower(), ())]

    @cached_property
    def subject(self) -> str:
        return self.header("Subject")

    @cached_property
    def sender(self) -> str:
        """The From header, lowercased."""
        return self.header("From").lower()

    @cached_property
    def date(self) -> datetime | None:
        return parse_date(self.header("Date"))

    @cached_property
    def content_type(self) -> str:
        msg = self.message
        return msg.ctype if isinstance(msg, MimeNode) else msg.get_content_type()

    # -- body ----------------------------------------------------------------------------------
    @cached_property
    def parts(self) -> list[Part]:
        """The leaves of the MIME tree in order; message/rfc822 parts are leaves."""
        out: list[Part] = []
        stack: list[tuple[Message, int]] = [(self.message, 0)]
        while stack and len(out) < MAX_PARTS:
            msg, depth = stack.pop()
            payload = payload_of(msg)
            ctype = msg.ctype if isinstance(msg, MimeNode) else msg.get_content_type()
            if isinstance(payload, list) and not ctype.startswith("message/") and depth < MAX_DEPTH:
                stack.extend((child, depth + 1) for child in reversed(payload) if isinstance(child, Message))
            else:
                out.append(Part(msg, depth))
        return out

    def part(self, *content_types: str) -> Part | None:
        """The first leaf of one of those content types."""
        for p in self.parts:
            if p.content_type in content_types:
                return p
        return None

    @cached_property
    def text(self) -> str:
        """The readable body: every textual leaf decoded, in order, each introduced by its type.

        For a multipart mail each leaf starts with a ``Content-Type: <type>`` line and a blank line,
        so heuristic parsers can find where the returned message begins.
        """
        if not isinstance(payload_of(self.message), list):
            return _one_break(self.parts[0].text) if self.parts else ""
        chunks: list[str] = []
        for p in self.parts:
            if p.content_type.startswith(_TEXTUAL) or p.content_type == "application/octet-stream":
                body = p.text
                if p.content_type == "text/html":
                    body = _strip_html(body)
                chunks.append(f"Content-Type: {p.content_type}\n\n{body}")
        return _one_break("\n".join(chunks))

    @cached_property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    def original(self) -> Message | None:
        """Headers of the returned original message, from a message/rfc822 or rfc822-headers part."""
        if self._original is False:
            self._original = self._find_original()
        return self._original if isinstance(self._original, Message) else None

    def _find_original(self) -> Message | None:
        for p in self.parts:
            if p.content_type in ("message/rfc822", "message/global"):
                inner = p.embedded()
                if inner is not None:
                    return inner
            if p.content_type in ("text/rfc822-headers", "message/global-headers", "message/rfc822"):
                text = p.text.lstrip()
                if text:
                    return parse_mime(text)
        return None

    def original_message_id(self) -> str:
        """The Message-ID of the returned message, found in an attached copy or quoted in the body."""
        if self._original_id is None:
            self._original_id = self._find_original_id()
        return self._original_id

    def _find_original_id(self) -> str:
        inner = self.original()
        if inner is not None:
            mid = decode_header(first_header(inner, "Message-ID"))
            if mid:
                return mid.strip()
        own = self.header("Message-ID").strip()
        for mid in _QUOTED_MESSAGE_ID.findall(self.text):
            if mid != own:
                return str(mid)
        return ""

    def iter_headers(self) -> Iterator[tuple[str, str]]:
        for key, value in fields(self.message):
            yield key, decode_header(value)


_LINE_BREAKS = re.compile(r"\r\n?")
_QUOTED_MESSAGE_ID = re.compile(r"(?im)^[ \t]*Message-I[dD]:\s*(<[^>\s]+>)")
_HTML_BREAK = re.compile(r"(?i)<br\s*/?>|</p>|</div>|</tr>")
_HTML_TAG = re.compile(r"<[^>]{0,2000}>")


def _one_break(text: str) -> str:
    return _LINE_BREAKS.sub("\n", text) if "\r" in text else text


def _strip_html(text: str) -> str:
    text = _HTML_BREAK.sub("\n", text)
    return _HTML_TAG.sub("", text).replace("&nbsp;", " ").replace("&lt;", "<").replace("&gt;", ">")


def _strip_mbox_from(data: bytes) -> bytes:
    if data.startswith(b"From "):
        nl = data.find(b"\n")
        if nl > 0:
            return data[nl + 1 :]
    return data
