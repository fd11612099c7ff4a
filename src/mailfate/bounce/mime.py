"""A fast MIME splitter that builds the same ``email.message.Message`` tree as the stdlib.

Within its limits it produces what the ``email`` feed parser with ``policy.compat32`` produces:
the same header values, payloads (str, surrogate-escaped for 8-bit bytes), preambles and epilogues,
and the same handling of broken structure (missing boundaries, header lines without a separator,
envelope ``From`` lines, delivery-status blocks, lone CRs as line breaks). It finds boundary lines
with ``str.find`` instead of compiling a regular expression per boundary and reading line by line,
and indexes headers by lowercase name. It stops splitting at :data:`MAX_DEPTH` levels and
:data:`MAX_NODES` parts and keeps :data:`MAX_FIELDS` header fields per part, so any input parses
in bounded time without recursion errors; a deeper body simply stays text. RFC 2231 parameters the
stdlib cannot read (it raises TypeError on some) count as absent.
"""

from __future__ import annotations

import base64
import binascii
import email.errors
import re
from collections.abc import Callable
from email.message import Message

__all__ = [
    "MAX_DEPTH",
    "MAX_FIELDS",
    "MAX_NODES",
    "MimeNode",
    "body_bytes",
    "boundary",
    "charset_of",
    "fields",
    "first_header",
    "parse_mime",
    "payload_of",
]

MAX_DEPTH = 24
"""MIME levels split into parts; deeper bodies stay text."""
MAX_NODES = 2000
"""Parts (and delivery-status blocks) built per mail; the rest stays unsplit."""
MAX_FIELDS = 1000
"""Header fields kept per part; real mail has a few dozen."""
_MAX_PARAM_CHARS = 4096

_LINE_BREAKS = re.compile(r"\r\n?")
_FIELD_BREAK = re.compile(r"\n(?![ \t])")
_HEADER_LINE = re.compile(r"From |[\041-\071\073-\176]*:|[\t ]")
_BAD_LINE = re.compile(r"\n(?!From |[\041-\071\073-\176]*:|[\t ])")


class MimeNode(Message):
    """A compat32 Message built by :func:`_build`, with its headers indexed by lowercase name.

    Treat it as read-only: the index is not updated by later changes to the headers.
    """

    _headers: list[tuple[str, str]]
    _payload: str | list[Message] | None

    def __init__(self) -> None:
        super().__init__()
        self.index: dict[str, str] = {}
        self.ctype = "text/plain"


def fields(msg: Message) -> list[tuple[str, str]]:
    if isinstance(msg, MimeNode):
        return msg._headers
    return [(k, str(v)) for k, v in msg.items()]


def first_header(msg: Message, name: str) -> str | None:
    if isinstance(msg, MimeNode):
        return msg.index.get(name.lower())
    value = msg.get(name)
    return None if value is None else str(value)


def _fill_headers(node: MimeNode, block: str) -> str:
    """Set the headers of ``block`` on ``node``; returns a line the body must start with, if any."""
    if block[:1] in (" ", "\t", ":") or block.startswith("From ") or "\nFrom " in block or "\n:" in block:
        return _fill_odd_headers(node, block)
    split = _FIELD_BREAK.split(block[:-1] if block.endswith("\n") else block, MAX_FIELDS)
    if len(split) > MAX_FIELDS:
        split.pop()
    fields = [(name, value.lstrip(" \t")) for name, _, value in [f.partition(":") for f in split]]
    node._headers = fields
    node.index = {name.lower(): value for name, value in reversed(fields)}
    return ""


def _fill_odd_headers(node: MimeNode, block: str) -> str:
    """The line-by-line path for blocks with envelope "From " lines or other defects."""
    lines = block.split("\n", MAX_FIELDS * 4)
    had_newline = lines[-1] == ""
    if had_newline or len(lines) > MAX_FIELDS * 4:
        lines.pop()
    fields = node._headers
    index = node.index
    name: str | None = None
    value = ""
    last = len(lines) - 1
    for i, line in enumerate(lines):
        if line[:1] in (" ", "\t"):
            if name is not None:
                value += "\n" + line
            continue
        if name is not None:
            fields.append((name, value))
            index.setdefault(name.lower(), value)
            name = None
        if line.startswith("From "):
            if i == 0:
                node.set_unixfrom(line)
            elif i == last:
                return line + ("\n" if had_newline else "")
            continue
        colon = line.find(":")
        if colon > 0:
            name, value = line[:colon], line[colon + 1 :].lstrip(" \t")
    if name is not None:
        fields.append((name, value))
        index.setdefault(name.lower(), value)
    return ""


def _content_type(value: str | None, default: str) -> str:
    if value is None:
        return default
    ctype = value.partition(";")[0].strip().lower()
    if ctype.count("/") != 1 or not ctype.isascii():
        return "text/plain"
    return ctype


def _unquote(value: str) -> str:
    if len(value) > 1:
        if value[0] == '"' and value[-1] == '"':
            return value[1:-1].replace("\\\\", "\\").replace('\\"', '"')
        if value[0] == "<" and value[-1] == ">":
            return value[1:-1]
    return value


def _content_type_value(msg: Message) -> str | None:
    value = first_header(msg, "content-type")
    return None if value is None else value[:_MAX_PARAM_CHARS]


_STDLIB_ERRORS = (TypeError, ValueError, LookupError, IndexError, email.errors.MessageError)


def _stdlib_probe(value: str) -> Message | None:
    """A throw-away Message for values the fast path leaves to the stdlib (RFC 2231, escapes, 8-bit)."""
    if "*" in value or "\\" in value or not value.isascii():
        probe = Message()
        probe.set_raw("Content-Type", value)
        return probe
    return None


def _param(value: str, name: str) -> str | None:
    """A simple Content-Type parameter as ``Message.get_param`` returns it."""
    s = ";" + value
    while s[:1] == ";":
        s = s[1:]
        end = s.find(";")
        while end > 0 and (s.count('"', 0, end) - s.count('\\"', 0, end)) % 2:
            end = s.find(";", end + 1)
        if end < 0:
            end = len(s)
        key, eq, val = s[:end].partition("=")
        if eq and key.strip().lower() == name:
            return _unquote(val.strip())
        s = s[end:]
    return None


def _content_param(
    msg: Message, name: str, stdlib: Callable[[Message], str | None]
) -> tuple[bool, str | None]:
    """(decided, value): the stdlib's answer for Content-Type parameter ``name`` when its parser takes
    the header; else (False, the raw parameter) for the caller to tidy."""
    value = _content_type_value(msg)
    if value is None:
        return True, None
    probe = _stdlib_probe(value)
    if probe is not None:
        try:
            return True, stdlib(probe)
        except _STDLIB_ERRORS:  # e.g. "b*0=x; b*=y" makes the stdlib compare None with int
            return True, None
    return False, _param(value, name)


def boundary(msg: Message) -> str | None:
    """The multipart boundary, as ``Message.get_boundary`` returns it."""
    decided, found = _content_param(msg, "boundary", Message.get_boundary)
    return found if decided or found is None else _unquote(found).rstrip()


def charset_of(msg: Message) -> str | None:
    """The charset parameter, as ``Message.get_content_charset`` returns it."""
    decided, found = _content_param(msg, "charset", Message.get_content_charset)
    return found if decided or found is None or not found.isascii() else found.lower()


def _build(text: str, depth: int, budget: list[int], default_type: str = "text/plain") -> MimeNode:
    """One message (headers and body) from ``text``, split as the stdlib feed parser would."""
    node = MimeNode()
    budget[0] -= 1
    if default_type != "text/plain":
        node.set_default_type(default_type)
    if _HEADER_LINE.match(text):
        found = _BAD_LINE.search(text)
        head_end = found.start() + 1 if found else len(text)
    else:
        head_end = 0
    body_start = head_end + 1 if text.startswith("\n", head_end) else head_end
    pushback = _fill_headers(node, text[:head_end]) if head_end else ""
    body = pushback + text[body_start:] if pushback else text[body_start:]
    ctype = node.ctype = _content_type(node.index.get("content-type"), default_type)
    if depth >= MAX_DEPTH or budget[0] <= 0:
        node._payload = body
    elif ctype == "message/delivery-status":
        node._payload = _blocks(body, depth, budget)
    elif ctype.startswith("message/"):
        node._payload = [_build(body, depth + 1, budget)]
    elif ctype.startswith("multipart/"):
        _split(node, body, depth, budget)
    else:
        node._payload = body
    return node


def _blocks(body: str, depth: int, budget: list[int]) -> list[Message]:
    """The header blocks of a delivery-status body, one per blank-line-separated group."""
    lines = body.split("\n")
    count = len(lines) if lines[-1] else len(lines) - 1
    out: list[Message] = []
    i = 0
    while True:
        j = i
        while j < count and lines[j]:
            j += 1
        chunk = "\n".join(lines[i:j]) + ("\n" if i < j < len(lines) else "")
        out.append(_build(chunk, depth + 1, budget))
        i = j + 1 if j < count else j
        if i >= count or budget[0] <= 0:
            return out


def _delimiters(body: str, sep: str, limit: int) -> list[tuple[int, int, bool]]:
    """(line start, next line start, closing?) of the boundary lines of ``sep`` that matter.

    The search ends at a closing line that does not directly follow another boundary line (the rest
    is epilogue) and after ``limit`` lines.
    """
    out: list[tuple[int, int, bool]] = []
    size = len(sep)
    pos = 0
    while len(out) < limit:
        at = body.find(sep, pos)
        if at < 0:
            return out
        pos = at + 1
        if at and body[at - 1] != "\n":
            continue
        eol = body.find("\n", at)
        stop = len(body) if eol < 0 else eol
        rest = body[at + size : stop]
        closing = rest.startswith("--")
        if closing:
            rest = rest[2:]
        if not rest.strip(" \t"):
            follows = bool(out) and out[-1][1] == at
            out.append((at, stop if eol < 0 else eol + 1, closing))
            if closing and not follows:
                return out
            pos = stop
    return out


def _strip_last(node: MimeNode) -> None:
    """Drop the line break before the next boundary from the part parsed last (RFC 2046)."""
    while not node.ctype.startswith("multipart/"):
        payload = node._payload
        if isinstance(payload, list) and payload and isinstance(payload[-1], MimeNode):
            node = payload[-1]
            continue
        if isinstance(payload, str) and payload.endswith("\n"):
            node._payload = payload[:-1]
        return
    if node.epilogue == "":
        node.epilogue = None
    elif node.epilogue and node.epilogue.endswith("\n"):
        node.epilogue = node.epilogue[:-1]


def _split(node: MimeNode, body: str, depth: int, budget: list[int]) -> None:
    sep = boundary(node)
    if sep is None:
        node._payload = body
        return
    delims = _delimiters(body, "--" + sep, budget[0] + 2)
    if not delims or delims[0][2]:
        node._payload = body[: delims[0][0]] if delims else body
        node.epilogue = ""
        return
    if delims[0][0]:
        preamble = body[: delims[0][0]]
        node.preamble = preamble[:-1] if preamble.endswith("\n") else preamble
    child_type = "message/rfc822" if node.ctype == "multipart/digest" else "text/plain"
    children: list[Message] = []
    node._payload = children
    i = 0
    while budget[0] > 0:
        j = i + 1
        start = delims[i][1]
        while j < len(delims) and delims[j][0] == start:
            start = delims[j][1]
            j += 1
        end = delims[j][0] if j < len(delims) else len(body)
        child = _build(body[start:end], depth + 1, budget, child_type)
        _strip_last(child)
        children.append(child)
        if j >= len(delims):
            return
        if delims[j][2]:
            node.epilogue = body[delims[j][1] :]
            return
        i = j


def parse_mime(text: str) -> MimeNode:
    """The message tree of ``text``; line breaks may be LF, CRLF or CR."""
    if "\r" in text:
        text = _LINE_BREAKS.sub("\n", text.replace("\r\n", "\n"))
    return _build(text, 0, [MAX_NODES])


def payload_of(msg: Message) -> object:
    return msg._payload if isinstance(msg, MimeNode) else msg.get_payload()


def _b64decode(data: bytes) -> bytes:
    """Base64 as the stdlib decodes bodies: fix padding, then ignore stray characters."""
    pad = len(data) % 4
    try:
        return base64.b64decode(data + b"==="[: 4 - pad] if pad else data, validate=True)
    except binascii.Error:
        pass
    for extra in (b"", b"=="):
        try:
            return base64.b64decode(data + extra, validate=False)
        except binascii.Error:
            continue
    return data


def body_bytes(msg: Message) -> bytes | None:
    """The body with its transfer encoding undone, like ``get_payload(decode=True)``."""
    payload = payload_of(msg)
    if not isinstance(payload, str):
        return None
    try:
        data = payload.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        data = payload.encode("utf-8", "surrogateescape")
    cte = (first_header(msg, "content-transfer-encoding") or "").strip().lower()
    if cte == "base64":
        return _b64decode(b"".join(data.splitlines()))
    if cte == "quoted-printable":
        return binascii.a2b_qp(data)
    if cte in ("x-uuencode", "uuencode", "uue", "x-uue"):
        try:
            decoded = msg.get_payload(decode=True)
        except (ValueError, AssertionError, LookupError):
            return data
        return decoded if isinstance(decoded, bytes) else data
    return data
