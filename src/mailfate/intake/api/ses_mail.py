"""What an SES ``SendEmail`` / ``SendRawEmail`` asks for, as a mailfate submit.

Both SES APIs (:mod:`.ses_v2`'s JSON, :mod:`.ses_v1`'s form fields) are read into one
:class:`SesEmail`, and :func:`send` takes it down the path every door uses
(:class:`mailfate.submit.service.SubmitService`: prepare, group commit, finish), as
``POST /v1/messages`` does:

- ``Simple`` content → :meth:`~SubmitService.prepare` (subject, text, html, headers); Cc becomes a
  header of the composed message, Bcc only an envelope recipient; ``Attachments`` (SES v2, Simple
  or Template) make the composed message ``multipart/mixed`` with each attachment after the text;
- ``Template`` → mailfate's own templates (``TemplateName`` ``name`` or ``name.lang``,
  ``TemplateData`` the variables);
- ``Raw`` → :meth:`~SubmitService.prepare_raw`: the recipients are the destinations given, else
  the message's To, Cc and Bcc; the Bcc field is taken out of the message; the idempotency key is
  derived as for SMTP submission, so an SDK's retry of the same message is not sent twice;
- ``EmailTags`` → tags ``name:value``; ``ConfigurationSetName`` → tag ``configset:<name>``.

InputError says what is wrong (the routes answer it as SES's 400).
"""

from __future__ import annotations

import email
import email.message
import email.policy
import email.utils
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mailfate.errors import InputError
from mailfate.model import ApiKey, NewMessage
from mailfate.submit.addresses import parse_recipients
from mailfate.submit.compose import one_line
from mailfate.submit.service import Sent, SubmitService

__all__ = [
    "SesAttachment",
    "SesEmail",
    "send",
    "tags_of",
    "template_variables",
    "with_attachments",
    "without_bcc",
]

_TAG_PART = re.compile(r"[A-Za-z0-9_.-]{1,63}")
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
"""An address alone, of the plainest characters: what ``email.utils.parseaddr`` finds in it is
itself (a property test checks), so it is taken without parsing."""
_TEMPLATE = re.compile(r"(?P<name>[A-Za-z0-9_-]{1,90})(?:\.(?P<lang>[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,4})?))?")


_CONTENT_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]{1,64}/[A-Za-z0-9!#$&^_.+-]{1,64}")


@dataclass(frozen=True, slots=True)
class SesAttachment:
    """One of SES v2's ``Attachments``: the bytes, the file name, how it is shown and encoded."""

    content: bytes
    filename: str
    content_type: str = "application/octet-stream"
    inline: bool = False
    content_id: str | None = None
    description: str | None = None
    encoding: str = "base64"
    """The Content-Transfer-Encoding: base64, quoted-printable or 7bit."""


@dataclass(frozen=True, slots=True)
class SesEmail:
    """One SES send: exactly one of ``raw``, ``template`` or simple content (subject/text/html)."""

    from_: str = ""
    to: Sequence[str] = ()
    cc: Sequence[str] = ()
    bcc: Sequence[str] = ()
    reply_to: Sequence[str] = ()
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    template: str | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    """The template's variables (``TemplateData``, read by :func:`template_variables`)."""
    raw: bytes | None = None
    tags: Sequence[str] = ()
    attachments: Sequence[SesAttachment] = ()


def tags_of(email_tags: Sequence[tuple[str, str]], configuration_set: str | None) -> list[str]:
    """mailfate tags for SES's ``EmailTags`` (``name:value``) and configuration set."""
    out: list[str] = []
    for name, value in email_tags:
        if not _TAG_PART.fullmatch(name) or (value and not _TAG_PART.fullmatch(value)):
            raise InputError(
                f"EmailTags {name!r}={value!r}: names and values of 1 to 63 of A-Z a-z 0-9 _ . -"
            )
        tag = f"{name}:{value}" if value else name
        if len(tag) > 64:
            raise InputError(f"EmailTags {name!r}: name:value must fit in 64 characters")
        out.append(tag)
    if configuration_set:
        if not _TAG_PART.fullmatch(configuration_set) or len(configuration_set) > 54:
            raise InputError(f"ConfigurationSetName {configuration_set!r}: 1 to 54 of A-Z a-z 0-9 _ . -")
        out.append(f"configset:{configuration_set}")
    return list(dict.fromkeys(out))


def _bare(addresses: Sequence[str]) -> list[str]:
    """The addresses of ``"Name <a@x>"`` or ``a@x`` items (InputError for one without any)."""
    out = []
    for item in addresses:
        if not isinstance(item, str) or not item.strip():
            raise InputError(f"destination {item!r}: an email address")
        addr = item if _PLAIN_ADDRESS.fullmatch(item) else email.utils.parseaddr(item)[1]
        if "@" not in addr:
            raise InputError(f"destination {item!r}: no email address in it")
        out.append(addr)
    return out


def _template(name: str) -> tuple[str, str]:
    match = _TEMPLATE.fullmatch(name)
    if match is None:
        raise InputError(f"TemplateName {name!r}: a mailfate template, 'name' or 'name.lang'")
    return match["name"], match["lang"] or "en"


def template_variables(text: str | None, where: str) -> dict[str, Any]:
    """A ``TemplateData`` string's JSON object (InputError naming ``where`` otherwise, nesting
    past the parser's depth included)."""
    try:
        found = json.loads(text) if text else {}
    except (ValueError, RecursionError):
        raise InputError(f"{where}: a JSON object") from None
    if not isinstance(found, dict):
        raise InputError(f"{where}: a JSON object")
    return found


def _composed(service: SubmitService, mail: SesEmail) -> NewMessage:
    """Simple or template content through the composer; Cc as a header, Bcc in the envelope."""
    to, cc, bcc = _bare(mail.to), _bare(mail.cc), _bare(mail.bcc)
    if not to and not cc:
        raise InputError("Destination: ToAddresses or CcAddresses is required (Bcc alone has no header)")
    if len(mail.reply_to) > 1:
        raise InputError("ReplyToAddresses: mailfate sets one Reply-To address")
    fields: dict[str, Any] = {
        "from_": mail.from_,
        "to": to or cc,
        "headers": mail.headers or None,
        "tags": list(mail.tags),
        "reply_to": mail.reply_to[0] if mail.reply_to else None,
    }
    if mail.template is not None:
        fields["template"], fields["lang"] = _template(mail.template)
        fields["variables"] = dict(mail.variables)
    else:
        fields.update(subject=mail.subject, text=mail.text, html=mail.html)
    message = service.prepare(**fields)
    if to and cc:
        cc_line = ", ".join(parse_recipients(cc)).encode("ascii", "strict")
        message = replace(message, raw=b"Cc: " + cc_line + b"\r\n" + message.raw)
    if mail.attachments:
        message = replace(message, raw=with_attachments(message.raw, mail.attachments))
    everyone = parse_recipients([*to, *cc, *bcc])
    return replace(message, recipients=everyone)


def with_attachments(raw: bytes, attachments: Sequence[SesAttachment]) -> bytes:
    """``raw``, a composed message, as ``multipart/mixed``: its content first, then each
    attachment (InputError for one that cannot be written: a line break in a name, a content type
    that is not ``type/subtype``, bytes that do not fit the encoding asked for)."""
    message = email.message_from_bytes(raw, policy=email.policy.SMTP)
    assert isinstance(message, email.message.EmailMessage)
    for n, a in enumerate(attachments):
        where = f"Attachments[{n}]"
        for name, value in (
            ("FileName", a.filename),
            ("ContentId", a.content_id),
            ("ContentDescription", a.description),
        ):
            if value is not None:
                one_line(value, f"{where}.{name}")
        if not _CONTENT_TYPE.fullmatch(a.content_type) or a.content_type.lower().startswith(
            ("multipart/", "message/")
        ):
            raise InputError(f"{where}.ContentType {a.content_type[:80]!r}: a type/subtype of a single part")
        maintype, _, subtype = a.content_type.partition("/")
        cid = None if a.content_id is None else f"<{a.content_id.strip('<>')}>"
        headers = [f"Content-Description: {a.description}"] if a.description else None
        try:
            message.add_attachment(
                a.content,
                maintype=maintype,
                subtype=subtype,
                cte=a.encoding,
                disposition="inline" if a.inline else "attachment",
                filename=a.filename,
                cid=cid,
                headers=headers,
            )
        except (ValueError, TypeError, UnicodeError) as exc:
            raise InputError(f"{where}: {exc}") from exc
    for part in message.iter_attachments():
        del part["MIME-Version"]  # the email package writes it on every part; RFC 2045 wants it once
    return message.as_bytes()


def without_bcc(raw: bytes) -> bytes:
    """``raw`` without its Bcc field (and the field's folded lines): the blind recipients are
    envelope recipients only, never shown to the others (SES removes the field too)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    eol = b"\r\n"
    if not sep:
        head, sep, body = raw.partition(b"\n\n")
        eol = b"\n"
    if not sep:
        return raw
    kept: list[bytes] = []
    dropping = False
    for line in head.split(eol):
        if line[:1] in (b" ", b"\t"):
            if not dropping:
                kept.append(line)
            continue
        dropping = line.split(b":", 1)[0].strip().lower() == b"bcc"
        if not dropping:
            kept.append(line)
    return eol.join(kept) + sep + body


def _raw(service: SubmitService, mail: SesEmail, key: ApiKey) -> NewMessage:
    assert mail.raw is not None
    rcpt = _bare([*mail.to, *mail.cc, *mail.bcc])
    if not rcpt:
        head = email.message_from_bytes(mail.raw.partition(b"\r\n\r\n")[0], policy=email.policy.compat32)
        found = email.utils.getaddresses([str(v) for n in ("To", "Cc", "Bcc") for v in head.get_all(n, [])])
        rcpt = [a for _, a in found if "@" in a]
    if not rcpt:
        raise InputError("no recipients: give Destinations or To/Cc/Bcc in the message")
    from_ = email.utils.parseaddr(mail.from_)[1] if mail.from_ else ""
    return service.prepare_raw(
        without_bcc(mail.raw),
        mail_from=from_,
        rcpt_to=rcpt,
        tags=mail.tags,
        idempotency_scope=f"key:{key.id}",
    )


async def send(service: SubmitService, mail: SesEmail, key: ApiKey) -> Sent:
    """Queue ``mail`` (InputError: unusable; SuppressedError: every recipient is suppressed)."""
    try:
        message = _raw(service, mail, key) if mail.raw is not None else _composed(service, mail)
    except (TypeError, UnicodeError) as exc:  # a field of the wrong type, a non-ASCII address
        raise InputError(str(exc)) from exc
    return await service.send_async(message)
