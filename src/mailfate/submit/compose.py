"""Compose a message from what the application gives: addresses, subject, bodies or a template,
extra headers and tags — with header injection impossible.

Every header value is checked for line breaks and NUL (an error, never silently stripped); extra
headers may not replace the structural ones (From, To, Subject, Date, Message-ID, MIME, routing
and authentication headers). Header fields are written here, not by the ``email`` package (whose
EmailMessage costs ten times as much per message; the tests parse every result back with it):

- text that is not plain printable ASCII (or holds ``=?``, or leading/trailing blanks, or a word
  too long to fold) becomes RFC 2047 ``B`` encoded-words of whole UTF-8 characters, which decode
  back to exactly the given text;
- every field is folded at blanks under 78 columns; no line is ever longer than 998 octets (a
  structured field that cannot be folded is refused);
- addresses with an ASCII local part are written in ASCII (IDN domains in punycode); an address
  with a non-ASCII local part is written in UTF-8 (RFC 6532), and its message needs SMTPUTF8.

Bodies are 7bit when they are short-lined ASCII and base64 UTF-8 otherwise, so no line is longer
than 998 octets. We always send UTF-8 (legacy charsets such as EUC-KR are read, never written).
Output is CRLF, ready for SMTP.
"""

from __future__ import annotations

import base64
import email.utils
import functools
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Required, TypedDict, Unpack

from mailfate.errors import InputError
from mailfate.submit.addresses import parse_recipients, validate_address
from mailfate.submit.templates import render_template

__all__ = [
    "CATEGORIES",
    "MAX_TAGS",
    "MESSAGE_FIELDS",
    "Composed",
    "MessageFields",
    "check_tags",
    "compose",
    "message_fields",
    "one_line",
    "require_utf8",
]

CATEGORIES = ("transactional", "marketing")
MAX_TAGS = 20
MAX_DISPLAY_NAME = 256
_FIELD_NAME = re.compile(r"[!-9;-~]{1,76}")  # RFC 5322 ftext
_TAG = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_PROTECTED = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "return-path",
        "received",
        "dkim-signature",
        "authentication-results",
        "sender",
        "x-mailfate-tags",
        "list-unsubscribe",  # from the list_unsubscribe argument
        "list-unsubscribe-post",
    }
)
_PROTECTED_PREFIXES = ("content-", "resent-", "arc-")
# Fields whose value has a syntax (message ids, tokens, URLs): plain ASCII only, never encoded.
_STRUCTURED = frozenset({"in-reply-to", "references", "auto-submitted", "precedence", "feedback-id"})
_BREAKS = frozenset("\r\n\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")  # what str.splitlines splits on
_PRINTABLE = re.compile(r"[ -~]*")
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+( [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_TOKEN = re.compile(r"[ \t]*[^ \t]+|[ \t]+$")
_SURROGATE = re.compile("[\ud800-\udfff]")  # in a str, always unpaired: not encodable as UTF-8
_FOLD_AT = 78
_MAX_LINE = 998
_LONG_WORD = 900


@dataclass(frozen=True, slots=True)
class Composed:
    raw: bytes
    from_addr: str
    recipients: tuple[str, ...]
    subject: str
    header_message_id: str
    category: str
    tags: tuple[str, ...]


def one_line(value: str, what: str) -> str:
    """``value``, or InputError naming ``what`` when it holds a line break (any that
    ``str.splitlines`` splits on) or a NUL: a header value is one line."""
    if not _BREAKS.isdisjoint(value):
        raise InputError(f"{what}: line breaks and NUL are not allowed in a header (header injection)")
    return value


def require_utf8(value: object, what: str) -> None:
    """InputError naming the place (``variables.code``, ``to[2]``, ``headers.X-A``) of any
    string in ``value`` — dict keys, lists and nested values included — that holds a lone
    surrogate (``"\\ud800"`` from a JSON escape): such text can never be written as UTF-8; or a
    NUL (``"\\u0000"``), which no mail may carry (RFC 5321 4.1.1.4, RFC 5322 2.2) and
    PostgreSQL's text cannot hold."""
    if value is None:
        return
    if isinstance(value, str):  # most fields: no stack, no names built
        _require_text(value, what)
        return
    stack: list[tuple[str, object]] = [(what, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            _require_text(item, where)
        elif isinstance(item, Mapping):
            for key, inner in item.items():
                name = str(key)
                _require_text(name, f"{where}: a key")
                stack.append((f"{where}.{name}", inner))
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend((f"{where}[{i}]", inner) for i, inner in enumerate(item))


def _require_text(text: str, where: str) -> None:
    if "\x00" in text:
        raise InputError(f"{where}: a NUL character (U+0000) is not allowed")
    if not text.isascii() and _SURROGATE.search(text):
        raise InputError(f"{where}: a lone surrogate (U+D800-U+DFFF) cannot be encoded as UTF-8")


def _idna(domain: str) -> str:
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def _encoded_words(value: str) -> str:
    """RFC 2047 B encoded-words of whole characters (at most 64 columns each), blank-separated;
    a decoder drops the blanks between encoded-words, so the text comes back exactly."""
    words: list[bytes] = []
    chunk = b""
    for char in value:
        octets = char.encode("utf-8")
        if len(chunk) + len(octets) > 39:
            words.append(chunk)
            chunk = b""
        chunk += octets
    words.append(chunk)
    return " ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


def _plain(value: str) -> bool:
    """Can go into an unstructured field as it is (and be read back unchanged)?"""
    return (
        _PRINTABLE.fullmatch(value) is not None
        and "=?" not in value
        and value == value.strip(" ")
        and all(len(word) <= _LONG_WORD for word in value.split(" "))
    )


@functools.lru_cache(maxsize=1024)  # subjects come again and again (a template's, in one language)
def _unstructured(value: str) -> str:
    return value if not value or _plain(value) else _encoded_words(value)


def _field(name: str, value: str) -> bytes:
    """``Name: value`` folded at blanks under 78 columns; InputError if a line would pass 998."""
    line = f"{name}:{'' if value[:1] in ('', ' ', chr(9)) else ' '}{value}".encode()
    if len(line) <= _FOLD_AT:  # short: nothing to fold (what :func:`_fold` gives, without its work)
        return line + b"\r\n"
    return _fold(name, value)


def _fold(name: str, value: str) -> bytes:
    """:func:`_field` for any length: a fold before each blank-led word that would pass 78."""
    lines: list[str] = []
    current = f"{name}:"
    width = len(current)
    for index, found in enumerate(_TOKEN.findall(value)):
        token = f" {found}" if index == 0 and found[0] not in " \t" else found
        size = len(token.encode("utf-8"))
        if index > 0 and token.strip() and width + size > _FOLD_AT:
            lines.append(current)
            current, width = token, size
        else:
            current, width = current + token, width + size
    lines.append(current)
    if any(len(line.encode("utf-8")) > _MAX_LINE for line in lines):
        raise InputError(f"header {name}: a word longer than {_LONG_WORD} characters cannot be folded")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


@functools.lru_cache(maxsize=8)  # messages composed within the same second share the Date field
def _date(when: datetime) -> str:
    return email.utils.format_datetime(when)


def _phrase(name: str) -> str:
    """A display name as an atom run, a quoted string, or encoded-words."""
    if _ATOMS.fullmatch(name):
        return name
    if _plain(name):
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return _encoded_words(name)


def _mailbox(name: str, addr: str) -> str:
    return f"{_phrase(name)} <{addr}>" if name else addr


def _parse_mailbox(value: str, what: str) -> tuple[str, str]:
    """(display name, validated address) of ``"Name <addr>"``, ``Name <addr>`` or ``addr``.

    The address is what stands between the last ``<`` and the final ``>``; everything before it
    is the name (quotes around it removed), so a name can hold any character but a line break.
    """
    value = one_line(value, what).strip()
    if value.endswith(">") and "<" in value:
        name, _, addr = value[:-1].rpartition("<")
        name = name.strip()
        if len(name) >= 2 and name[0] == name[-1] == '"':
            name = re.sub(r"\\(.)", r"\1", name[1:-1])
    else:
        name, addr = "", value
    if len(name) > MAX_DISPLAY_NAME:
        raise InputError(f"{what}: the display name is longer than {MAX_DISPLAY_NAME} characters")
    try:
        return name, validate_address(addr)
    except InputError as exc:
        raise InputError(f"{what}: {exc}") from exc


def _part(body: str, subtype: str) -> bytes:
    """A text part: 7bit when it is short-lined ASCII, else base64 (UTF-8), lines of 76."""
    data = body.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    lines = data.split(b"\n")
    if data.isascii() and all(len(line) <= 990 for line in lines) and b"\x00" not in data:
        content = b"\r\n".join(lines)
        if not content.endswith(b"\r\n"):
            content += b"\r\n"
        cte = "7bit"
    else:
        content = base64.encodebytes(data).replace(b"\n", b"\r\n")
        cte = "base64"
    head = f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: {cte}\r\n\r\n'
    return head.encode("ascii") + content


def _extra_headers(headers: Mapping[str, str], taken: set[str]) -> list[tuple[str, str]]:
    """The caller's extra fields, checked and encoded (Reply-To is handled by the caller)."""
    fields: list[tuple[str, str]] = []
    for key, raw_value in headers.items():
        lower = key.lower() if isinstance(key, str) else ""
        if not _FIELD_NAME.fullmatch(lower):
            raise InputError(f"header name {key!r}: not an RFC 5322 field name (printable ASCII, no colon)")
        if lower in _PROTECTED or lower.startswith(_PROTECTED_PREFIXES):
            raise InputError(f"header {key!r} is set by mailfate and cannot be given")
        if lower in taken:
            raise InputError(f"header {key!r} is given twice")
        taken.add(lower)
        value = one_line(str(raw_value), f"header {key}")
        if lower in _STRUCTURED or lower.startswith("list-"):
            if _PRINTABLE.fullmatch(value) is None:
                raise InputError(f"header {key}: must be printable ASCII (it has a syntax of its own)")
            fields.append((key, value.strip()))
        else:
            fields.append((key, _unstructured(value)))
    return fields


class MessageFields(TypedDict, total=False):
    """What a message is made of: the keyword arguments of :func:`compose` and of
    ``Client.send`` / ``Client.prepare`` — written once, here. Defaults: ``lang`` "en", ``tags``
    none, ``category`` "transactional"; the others None."""

    from_: Required[str]
    to: Required[Sequence[str] | str]
    subject: str | None
    text: str | None
    html: str | None
    template: str | None
    variables: Mapping[str, Any] | None
    lang: str
    headers: Mapping[str, str] | None
    tags: Sequence[str]
    category: str
    reply_to: str | None
    list_unsubscribe: str | None


MESSAGE_FIELDS: tuple[str, ...] = tuple(MessageFields.__annotations__)


def message_fields(fields: Mapping[str, object], where: str) -> None:
    """TypeError for a keyword that is no message field, or a missing ``from_`` / ``to`` — as a
    function with these keywords written out would raise (``**fields`` accepts anything)."""
    unknown = sorted(fields.keys() - set(MESSAGE_FIELDS))
    if unknown:
        raise TypeError(f"{where}() got unexpected keyword argument(s) {', '.join(unknown)}")
    missing = [name for name in ("from_", "to") if name not in fields]
    if missing:
        raise TypeError(f"{where}() missing required keyword argument(s) {', '.join(missing)}")


def compose(
    *, now: datetime | None = None, template_dirs: Sequence[Path] = (), **fields: Unpack[MessageFields]
) -> Composed:
    """The message, ready for SMTP; InputError says what is wrong with the input.

    ``category="marketing"`` without ``list_unsubscribe`` is allowed (``mailfate doctor`` warns):
    an advertisement should carry an unsubscribe link (and, in Korea, "(광고)" in the subject).
    """
    message_fields(fields, "compose")
    for what in MESSAGE_FIELDS:
        if what in fields:
            require_utf8(fields[what], "from" if what == "from_" else what)  # type: ignore[literal-required]
    from_, to = fields["from_"], fields["to"]
    subject, text, html = fields.get("subject"), fields.get("text"), fields.get("html")
    template, variables, lang = fields.get("template"), fields.get("variables"), fields.get("lang", "en")
    headers, tags = fields.get("headers"), fields.get("tags", ())
    category = fields.get("category", "transactional")
    reply_to, list_unsubscribe = fields.get("reply_to"), fields.get("list_unsubscribe")
    if category not in CATEGORIES:
        raise InputError(f"category {category!r}: one of {', '.join(CATEGORIES)}")
    name, from_addr = _parse_mailbox(from_, "from")
    recipients = parse_recipients(to)
    subject, text, html = _content(subject, text, html, template, variables, lang, template_dirs)
    check_tags(tags)
    extra, reply_to = _split_reply_to(headers, reply_to)
    when = (now or datetime.now(UTC)).astimezone(UTC)
    message_id = f"<{when:%Y%m%d%H%M%S}.{secrets.token_hex(8)}@{_idna(from_addr.rpartition('@')[2])}>"
    lines: list[tuple[str, str]] = [
        ("From", _mailbox(name, from_addr)),
        ("To", ", ".join(recipients)),
        ("Subject", _unstructured(subject)),
        ("Date", _date(when.replace(microsecond=0))),
        ("Message-ID", message_id),
    ]
    if reply_to is not None:
        lines.append(("Reply-To", _mailbox(*_parse_mailbox(reply_to, "reply_to"))))
    if list_unsubscribe:
        lines.extend(_list_unsubscribe_fields(list_unsubscribe))
    if tags:
        lines.append(("X-Mailfate-Tags", " ".join(tags)))
    lines.extend(_extra_headers(extra, {"reply-to"}))
    head = b"".join(_field(k, v) for k, v in lines) + b"MIME-Version: 1.0\r\n"
    raw = head + _body(text, html)
    return Composed(raw, from_addr, recipients, subject, message_id, category, tuple(tags))


def _content(  # noqa: PLR0917 - private; compose() passes its arguments through
    subject: str | None,
    text: str | None,
    html: str | None,
    template: str | None,
    variables: Mapping[str, Any] | None,
    lang: str,
    template_dirs: Sequence[Path],
) -> tuple[str, str | None, str | None]:
    """(subject, text, html): as given, or rendered from the template (a given subject wins)."""
    if template is not None:
        if text is not None or html is not None:
            raise InputError("give a template or text/html, not both")
        rendered = render_template(template, variables or {}, lang, template_dirs)
        subject = subject if subject is not None else rendered.subject
        text, html = rendered.text, rendered.html
    if subject is None:
        raise InputError("subject: required (or use a template)")
    if text is None and html is None:
        raise InputError("give text, html or a template")
    one_line(subject, "subject")
    return subject, text, html


def check_tags(tags: Sequence[str]) -> None:
    """InputError unless ``tags`` is a list of at most MAX_TAGS tags of 1-64 A-Z a-z 0-9 _ . : -."""
    if isinstance(tags, str):
        raise InputError("tags: a list of tags, not one string")
    if len(tags) > MAX_TAGS:
        raise InputError(f"tags: at most {MAX_TAGS}")
    for tag in tags:
        if not isinstance(tag, str) or not _TAG.fullmatch(tag):
            raise InputError(f"tag {tag!r}: 1-64 of A-Z a-z 0-9 _ . : -")


def _split_reply_to(
    headers: Mapping[str, str] | None, reply_to: str | None
) -> tuple[dict[str, str], str | None]:
    """(the extra headers without Reply-To, the Reply-To given either way); InputError if both."""
    extra = dict(headers or {})
    reply_key = next((k for k in extra if isinstance(k, str) and k.lower() == "reply-to"), None)
    if reply_key is not None:
        if reply_to is not None:
            raise InputError("Reply-To: given both as reply_to and in headers")
        reply_to = extra.pop(reply_key)
    return extra, reply_to


def _list_unsubscribe_fields(list_unsubscribe: str) -> list[tuple[str, str]]:
    """List-Unsubscribe, and List-Unsubscribe-Post (one-click, RFC 8058) when an https: URL is given."""
    urls = [u.strip().strip("<>") for u in one_line(list_unsubscribe, "list_unsubscribe").split(",")]
    if not all(u and _PRINTABLE.fullmatch(u) and " " not in u for u in urls):
        raise InputError(
            f"list_unsubscribe {list_unsubscribe!r}: https: and/or mailto: URLs, comma-separated"
        )
    fields = [("List-Unsubscribe", ", ".join(f"<{u}>" for u in urls))]
    if any(u.lower().startswith("https://") for u in urls):
        fields.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    return fields


def _body(text: str | None, html: str | None) -> bytes:
    """The MIME body after the header: one text part, or multipart/alternative of both."""
    if text is not None and html is not None:
        boundary = f"=_mailfate_{secrets.token_hex(12)}"
        return (
            f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode()
            + f"--{boundary}\r\n".encode()
            + _part(text, "plain")
            + f"\r\n--{boundary}\r\n".encode()
            + _part(html, "html")
            + f"\r\n--{boundary}--\r\n".encode()
        )
    body = text if text is not None else html
    assert body is not None
    return _part(body, "plain" if text is not None else "html")
