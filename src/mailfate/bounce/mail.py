"""A bounded, forgiving view of one mail for the bounce parsers.

Parsing uses the stdlib ``email`` package with ``policy.compat32`` (about five times faster than
``policy.default``), walks the MIME tree iteratively with limits on depth and part count, and
decodes text with a charset fallback chain (EUC-KR, CP949 and ISO-2022-KR included). Nothing here
raises on bad input except :class:`~mailfate.errors.ParseError` for input that is not mail at all.
"""

from __future__ import annotations

import email
import email.header
import email.utils
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message
from functools import cached_property

from mailfate.errors import ParseError

__all__ = ["MAX_PARSE_BYTES", "Mail", "Part", "decode_bytes", "decode_header", "parse_date"]

MAX_PARSE_BYTES = 4 * 1024 * 1024
"""Only the first 4 MiB of a mail are parsed: every bounce format puts its report first."""
MAX_DEPTH = 24
MAX_PARTS = 200
MAX_PART_CHARS = 512 * 1024

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


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        "".encode(name)
    except (LookupError, ValueError):
        return None
    return name


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


def decode_header(value: str | email.header.Header | None) -> str:
    """Decode RFC 2047 words and unfold; unknown charsets fall back instead of raising."""
    if value is None:
        return ""
    raw = str(value)
    if "=?" not in raw:
        return " ".join(raw.split())
    try:
        chunks = email.header.decode_header(raw)
    except (ValueError, IndexError, AssertionError):
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
        parsed = email.utils.parsedate_to_datetime(value.strip())
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


def _header_text(msg: Message) -> str:
    lines: list[str] = []
    for key, value in msg.items():
        lines.append(f"{key}: {decode_header(value)}")
    return "\n".join(lines)


class Part:
    """One leaf of the MIME tree."""

    __slots__ = ("_text", "content_type", "depth", "message")

    def __init__(self, message: Message, depth: int) -> None:
        self.message = message
        self.depth = depth
        self.content_type = message.get_content_type()
        self._text: str | None = None

    def header(self, name: str) -> str:
        return decode_header(self.message.get(name))

    @property
    def text(self) -> str:
        """The decoded content: transfer encoding and charset undone; embedded mail serialized."""
        if self._text is None:
            self._text = self._decode()[:MAX_PART_CHARS]
        return self._text

    def embedded(self) -> Message | None:
        """The embedded message of a message/rfc822 or message/global part."""
        payload = self.message.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            return payload[0]
        return None

    def _decode(self) -> str:
        msg = self.message
        ctype = self.content_type
        payload = msg.get_payload()
        if isinstance(payload, list):
            if ctype in ("message/delivery-status", "message/global-delivery-status"):
                return "\n\n".join(_header_text(block) for block in payload if isinstance(block, Message))
            inner = self.embedded()
            if inner is not None:
                return _serialize(inner)
            return ""
        try:
            data = msg.get_payload(decode=True)
        except (ValueError, AssertionError, LookupError):
            data = None
        if not isinstance(data, bytes):
            return str(payload)
        text = decode_bytes(data, msg.get_content_charset())
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            # Some MTAs base64-encode the status part; the parser then left it unparsed.
            return text.replace("\r\n", "\n")
        return text.replace("\r\n", "\n")


def _serialize(msg: Message) -> str:
    head = _header_text(msg)
    body = ""
    payload = msg.get_payload()
    if isinstance(payload, str):
        try:
            data = msg.get_payload(decode=True)
        except (ValueError, AssertionError, LookupError):
            data = None
        body = decode_bytes(data, msg.get_content_charset()) if isinstance(data, bytes) else payload
    elif isinstance(payload, list) and payload and isinstance(payload[0], Message):
        first = payload[0]
        inner = first.get_payload()
        body = inner[: MAX_PART_CHARS // 4] if isinstance(inner, str) else ""
    return f"{head}\n\n{body[: MAX_PART_CHARS // 2]}"


_LINE_BREAKS = re.compile(r"\r\n?")


class Mail:
    """One mail, parsed once, with the views bounce parsers need."""

    def __init__(self, raw: bytes) -> None:
        if not isinstance(raw, bytes | bytearray):
            raise TypeError("Mail needs bytes")
        self.raw = bytes(raw)
        self.truncated = len(self.raw) > MAX_PARSE_BYTES
        data = self.raw[:MAX_PARSE_BYTES]
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n")
        data = _strip_mbox_from(data)
        try:
            self.message: Message = email.message_from_bytes(data)
        except RecursionError as exc:
            raise ParseError("MIME structure nested too deeply to parse", raw=self.raw[:4096]) from exc
        except (ValueError, TypeError, IndexError, LookupError) as exc:  # pragma: no cover - defensive
            raise ParseError(f"cannot parse as mail: {exc}", raw=self.raw[:4096]) from exc

    @classmethod
    def from_bytes(cls, raw: bytes) -> Mail:
        return cls(raw)

    # -- headers -----------------------------------------------------------------------------
    def header(self, name: str) -> str:
        """The first header of that name, decoded and unfolded; "" when missing."""
        return decode_header(self.message.get(name))

    def headers(self, name: str) -> list[str]:
        return [decode_header(v) for v in self.message.get_all(name, [])]

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
        return self.message.get_content_type()

    # -- body ----------------------------------------------------------------------------------
    @cached_property
    def parts(self) -> list[Part]:
        """The leaves of the MIME tree in order; message/rfc822 parts are leaves."""
        out: list[Part] = []
        stack: list[tuple[Message, int]] = [(self.message, 0)]
        while stack and len(out) < MAX_PARTS:
            msg, depth = stack.pop()
            payload = msg.get_payload()
            ctype = msg.get_content_type()
            if (
                msg.is_multipart()
                and isinstance(payload, list)
                and not ctype.startswith("message/")
                and depth < MAX_DEPTH
            ):
                children = [p for p in payload if isinstance(p, Message)]
                stack.extend((child, depth + 1) for child in reversed(children))
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
        if not self.message.is_multipart():
            return _LINE_BREAKS.sub("\n", self.parts[0].text) if self.parts else ""
        chunks: list[str] = []
        for p in self.parts:
            if p.content_type.startswith(("text/", "message/")) or p.content_type in (
                "application/octet-stream",
            ):
                body = p.text
                if p.content_type == "text/html":
                    body = _strip_html(body)
                chunks.append(f"Content-Type: {p.content_type}\n\n{body}")
        return _LINE_BREAKS.sub("\n", "\n".join(chunks))

    @cached_property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    def original(self) -> Message | None:
        """Headers of the returned original message, from a message/rfc822 or rfc822-headers part."""
        for p in self.parts:
            if p.content_type in ("message/rfc822", "message/global"):
                inner = p.embedded()
                if inner is not None:
                    return inner
            if p.content_type in ("text/rfc822-headers", "message/global-headers", "message/rfc822"):
                text = p.text.lstrip()
                if text:
                    return email.message_from_string(text)
        return None

    def original_message_id(self) -> str:
        """The Message-ID of the returned message, found in an attached copy or quoted in the body."""
        inner = self.original()
        if inner is not None:
            mid = decode_header(inner.get("Message-ID"))
            if mid:
                return mid.strip()
        found = _QUOTED_MESSAGE_ID.findall(self.text)
        own = self.header("Message-ID").strip()
        for mid in found:
            if mid != own:
                return mid
        return ""

    def iter_headers(self) -> Iterator[tuple[str, str]]:
        for key, value in self.message.items():
            yield key, decode_header(value)


_QUOTED_MESSAGE_ID = re.compile(r"(?im)^\s*Message-I[dD]:\s*(<[^>\s]+>)")
_HTML_TAG = re.compile(r"<[^>]{0,2000}>")


def _strip_html(text: str) -> str:
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>", "\n", text)
    return _HTML_TAG.sub("", text).replace("&nbsp;", " ").replace("&lt;", "<").replace("&gt;", ">")


def _strip_mbox_from(data: bytes) -> bytes:
    if data.startswith(b"From "):
        nl = data.find(b"\n")
        if nl > 0:
            return data[nl + 1 :]
    return data
