"""The SES v1 Query API (``ses`` in boto3; ``POST /``, form-encoded ``Action=...``, XML answers),
which many older applications and libraries still use.

- ``SendEmail`` (``Source``, ``Destination.ToAddresses.member.N`` / Cc / Bcc,
  ``Message.Subject.Data``, ``Message.Body.Text.Data`` / ``Html``, ``ReplyToAddresses``,
  ``Tags``, ``ConfigurationSetName``) and ``SendRawEmail`` (``RawMessage.Data`` base64,
  ``Destinations.member.N``, ``Source``) → ``<MessageId>``, the mailfate message id, through the
  same path as SES v2 (:mod:`.ses_mail`);
- ``GetSendQuota``: the key's send rate, the messages queued in the last 24 hours.

Requests are SigV4-checked (:mod:`.ses_auth`); refusals are the XML ``ErrorResponse`` the SDKs
parse (``SignatureDoesNotMatch``, ``IncompleteSignature``, ``InvalidClientTokenId``,
``MissingAuthenticationToken``: 403), bad input ``InvalidParameterValue`` (400), an unknown action
``InvalidAction`` (400), never a 500.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from fastapi import APIRouter, Request, Response

from mailfate.errors import InputError
from mailfate.intake.api.ses_auth import Dialect, SesError, answer, authenticate
from mailfate.intake.api.ses_mail import SesEmail, send, tags_of
from mailfate.intake.api.ses_v2 import sent_last_day
from mailfate.intake.api.sigv4 import Refusal
from mailfate.intake.api.state import ApiState, state_of
from mailfate.model import ApiKey

__all__ = ["router"]

router = APIRouter(tags=["ses"], include_in_schema=False)

XMLNS = "http://ses.amazonaws.com/doc/2010-12-01/"
_REFUSED = {
    Refusal.MISSING: "MissingAuthenticationToken",
    Refusal.INCOMPLETE: "IncompleteSignature",
    Refusal.MISMATCH: "SignatureDoesNotMatch",
    Refusal.EXPIRED: "SignatureDoesNotMatch",
    Refusal.UNKNOWN_KEY: "InvalidClientTokenId",
}
_MEMBER = re.compile(r"\.member\.(\d{1,4})$")
_MAX_FIELDS = 2000


def _xml(status: int, body: str) -> Response:
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + body
    return Response(text.encode("utf-8", "backslashreplace"), status_code=status, media_type="text/xml")


def v1_error(status: int, code: str, message: str) -> Response:
    kind = "Sender" if status < 500 else "Receiver"
    return _xml(
        status,
        f'<ErrorResponse xmlns="{XMLNS}"><Error><Type>{kind}</Type><Code>{code}</Code>'
        f"<Message>{escape(message)}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>",
    )


_DIALECT = Dialect(v1_error, _REFUSED, access_denied="AccessDenied", bad_input="InvalidParameterValue")


def _result(action: str, inner: str) -> Response:
    return _xml(
        200,
        f'<{action}Response xmlns="{XMLNS}"><{action}Result>{inner}</{action}Result>'
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></{action}Response>",
    )


def _form(body: bytes) -> dict[str, str]:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise SesError(
            400, "InvalidParameterValue", "the body is not a form (UTF-8, at most 2000 fields)"
        ) from None
    return dict(pairs)


def _members(form: dict[str, str], prefix: str) -> list[str]:
    """``prefix.member.1``, ``prefix.member.2``, … in order."""
    found = []
    for name, value in form.items():
        if name.startswith(prefix + ".member."):
            match = _MEMBER.search(name)
            if match is not None and name == f"{prefix}.member.{match[1]}":
                found.append((int(match[1]), value))
    return [v for _, v in sorted(found)]


def _tags(form: dict[str, str]) -> list[str]:
    pairs = []
    for n in range(1, 51):
        name = form.get(f"Tags.member.{n}.Name")
        if name is None:
            break
        pairs.append((name, form.get(f"Tags.member.{n}.Value", "")))
    return tags_of(pairs, form.get("ConfigurationSetName"))


def _send_email(form: dict[str, str]) -> SesEmail:
    source = form.get("Source", "")
    if not source:
        raise InputError("Source is required")
    return SesEmail(
        from_=source,
        to=_members(form, "Destination.ToAddresses"),
        cc=_members(form, "Destination.CcAddresses"),
        bcc=_members(form, "Destination.BccAddresses"),
        reply_to=_members(form, "ReplyToAddresses"),
        subject=form.get("Message.Subject.Data"),
        text=form.get("Message.Body.Text.Data"),
        html=form.get("Message.Body.Html.Data"),
        tags=_tags(form),
    )


def _send_raw(form: dict[str, str]) -> SesEmail:
    try:
        raw = base64.b64decode(form.get("RawMessage.Data", ""), validate=True)
    except (ValueError, binascii.Error):
        raise InputError("RawMessage.Data: base64") from None
    if not raw:
        raise InputError("RawMessage.Data is required")
    return SesEmail(
        from_=form.get("Source", ""), to=_members(form, "Destinations"), raw=raw, tags=_tags(form)
    )


async def _send(api: ApiState, key: ApiKey, form: dict[str, str]) -> Response:
    action = form["Action"]
    if api.limiter.check(key.prefix):
        raise SesError(400, "Throttling", "Maximum sending rate exceeded.")
    mail = _send_email(form) if action == "SendEmail" else _send_raw(form)
    sent = await send(api.submit, mail, key)
    return _result(action, f"<MessageId>{escape(sent.message_id)}</MessageId>")


async def _quota(api: ApiState, key: ApiKey, form: dict[str, str]) -> Response:
    sent = await sent_last_day(api)
    return _result(
        "GetSendQuota",
        f"<Max24HourSend>{api.rate_per_key * 86400:.1f}</Max24HourSend>"
        f"<MaxSendRate>{api.rate_per_key:.1f}</MaxSendRate><SentLast24Hours>{sent:.1f}</SentLast24Hours>",
    )


_ACTIONS: dict[str, tuple[str, Callable[[ApiState, ApiKey, dict[str, str]], Awaitable[Response]]]] = {
    "SendEmail": ("send", _send),
    "SendRawEmail": ("send", _send),
    "GetSendQuota": ("read", _quota),
}


@router.post("/")
async def query_api(request: Request) -> Response:
    """One SES v1 action, named by the form's ``Action``."""
    body = await request.body()

    async def run() -> Response:
        form = _form(body)
        action = _ACTIONS.get(form.get("Action", ""))
        key = await authenticate(request, body, action[0] if action else "read")
        if action is None:
            raise SesError(400, "InvalidAction", f"The action {form.get('Action', '')[:64]!r} is not valid")
        return await action[1](state_of(request), key, form)

    return await answer(_DIALECT, run)
