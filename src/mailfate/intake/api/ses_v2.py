"""The SES v2 API (``sesv2`` in boto3, REST + JSON) over mailfate: an application that uses SES
switches by pointing ``endpoint_url`` here and signing with a key from ``mailfate keys create
--aws``.

- ``SendEmail`` (``POST /v2/email/outbound-emails``: Simple, Raw, Template; Simple and Template
  with ``Attachments``) → ``{"MessageId"}``,
  the mailfate message id (:mod:`.ses_mail`, the submit path of ``POST /v1/messages``);
- ``SendBulkEmail`` (``POST /v2/email/outbound-bulk-emails``): one message per entry, from the
  default template with the entry's ``ReplacementTemplateData`` over the default data, its
  ``ReplacementHeaders`` and ``ReplacementTags`` over the defaults → one result per entry
  (``SUCCESS`` with the ``MessageId``, ``MESSAGE_REJECTED``, ``TEMPLATE_NOT_FOUND``,
  ``INVALID_PARAMETER``, ``ACCOUNT_THROTTLED``);
- ``GetAccount`` (``GET /v2/email/account``): the key's send rate as the quota, the messages
  queued in the last 24 hours;
- ``ListSuppressedDestinations`` / ``GetSuppressedDestination`` / ``PutSuppressedDestination`` /
  ``DeleteSuppressedDestination`` (``/v2/email/suppression/addresses``): mailfate's suppression
  list (SES's account-level list is the scope ``*``; ``complaint`` is COMPLAINT, the rest BOUNCE).

Every request is SigV4-checked (:mod:`.ses_auth`). Errors come in the shape the SDKs parse: the
code in ``x-amzn-ErrorType`` and ``__type``, the text in ``message``; refused signatures are 403
(``InvalidSignatureException``, ``IncompleteSignatureException``,
``UnrecognizedClientException``, ``MissingAuthenticationTokenException``); whatever a body holds
is answered with a 4xx (``BadRequestException``), never a 500.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import mimetypes
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request, Response

from mailfate.errors import InputError
from mailfate.intake.api.ses_auth import Dialect, SesError, answer, authenticate
from mailfate.intake.api.ses_mail import SesAttachment, SesEmail, send, tags_of, template_variables
from mailfate.intake.api.sigv4 import Refusal
from mailfate.intake.api.state import ApiState, state_of
from mailfate.model import ApiKey, NewSuppression, RollupQuery
from mailfate.submit.addresses import validate_address
from mailfate.submit.service import SuppressedError
from mailfate.submit.templates import TemplateNotFound

__all__ = ["router", "v2_error"]

log = logging.getLogger(__name__)
router = APIRouter(tags=["ses"], include_in_schema=False)

_REFUSED = {
    Refusal.MISSING: "MissingAuthenticationTokenException",
    Refusal.INCOMPLETE: "IncompleteSignatureException",
    Refusal.MISMATCH: "InvalidSignatureException",
    Refusal.EXPIRED: "InvalidSignatureException",
    Refusal.UNKNOWN_KEY: "UnrecognizedClientException",
}
_MAX_PAGE = 1000


def v2_error(status: int, code: str, message: str) -> Response:
    body = json.dumps({"__type": code, "message": message}, ensure_ascii=True)
    return Response(
        body,
        status_code=status,
        media_type="application/json",
        headers={"x-amzn-ErrorType": code, "x-amzn-RequestId": str(uuid.uuid4())},
    )


_DIALECT = Dialect(v2_error, _REFUSED, access_denied="AccessDeniedException", bad_input="BadRequestException")


def _ok(data: dict[str, Any]) -> Response:
    return Response(
        json.dumps(data), media_type="application/json", headers={"x-amzn-RequestId": str(uuid.uuid4())}
    )


Handler = Callable[[Request, ApiState, ApiKey, bytes], Awaitable[Response]]


async def _run(request: Request, scope: str, handler: Handler) -> Response:
    """Authenticate, then run ``handler``; every refusal in SES's shape."""
    body = await request.body()

    async def run() -> Response:
        key = await authenticate(request, body, scope)
        return await handler(request, state_of(request), key, body)

    return await answer(_DIALECT, run)


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        raise SesError(400, "BadRequestException", "the body is not JSON") from None
    if not isinstance(data, dict):
        raise SesError(400, "BadRequestException", "the body is not a JSON object")
    return data


def _get(data: Any, key: str, kind: type, default: Any = None) -> Any:
    """``data[key]`` when it has type ``kind`` (InputError naming the key otherwise)."""
    value = data.get(key) if isinstance(data, dict) else None
    if value is None:  # JSON null is an absent field, as for SES
        return default
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise InputError(f"{key}: expected {kind.__name__}")
    return value


def _strings(data: Any, key: str) -> list[str]:
    items = _get(data, key, list, [])
    if not all(isinstance(i, str) for i in items):
        raise InputError(f"{key}: a list of strings")
    return list(items)


def _pairs(items: Any, key: str) -> list[tuple[str, str]]:
    """``[{"Name": .., "Value": ..}]`` as pairs."""
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InputError(f"{key}: a list of {{Name, Value}}")
    return [(_get(i, "Name", str, ""), _get(i, "Value", str, "")) for i in items]


def _content(content: dict[str, Any]) -> dict[str, Any]:
    """SesEmail's fields for one of Simple, Raw or Template."""
    given = [k for k in ("Simple", "Raw", "Template") if content.get(k) is not None]
    if len(given) != 1:
        raise InputError("Content: exactly one of Simple, Raw or Template")
    part = _get(content, given[0], dict)
    if given[0] == "Raw":
        data = _get(part, "Data", str)
        try:
            return {"raw": base64.b64decode(data or "", validate=True)}
        except (ValueError, binascii.Error):
            raise InputError("Content.Raw.Data: base64") from None
    headers = dict(_pairs(part.get("Headers"), "Headers"))
    attachments = tuple(_attachment(item, n) for n, item in enumerate(_get(part, "Attachments", list, [])))
    if given[0] == "Template":
        if part.get("TemplateContent") is not None or part.get("TemplateArn") is not None:
            raise InputError(
                "Content.Template: TemplateContent and TemplateArn are not offered; name a mailfate template"
            )
        data = _get(part, "TemplateData", str)
        name = _get(part, "TemplateName", str)
        if not name:
            raise InputError("Content.Template.TemplateName is required (a mailfate template)")
        return {
            "template": name,
            "variables": template_variables(data, "TemplateData"),
            "headers": headers,
            "attachments": attachments,
        }
    body = _get(part, "Body", dict, {})
    return {
        "subject": _get(_get(part, "Subject", dict, {}), "Data", str),
        "text": _get(_get(body, "Text", dict, {}), "Data", str),
        "html": _get(_get(body, "Html", dict, {}), "Data", str),
        "headers": headers,
        "attachments": attachments,
    }


_DISPOSITIONS = {"ATTACHMENT": False, "INLINE": True}
_ENCODINGS = {"BASE64": "base64", "QUOTED_PRINTABLE": "quoted-printable", "SEVEN_BIT": "7bit"}


def _attachment(item: Any, n: int) -> SesAttachment:
    """One of ``Attachments`` (SES's ``Attachment``: RawContent, FileName, and the optional rest)."""
    where = f"Attachments[{n}]"
    if not isinstance(item, dict):
        raise InputError(f"{where}: an object")
    try:
        content = base64.b64decode(_get(item, "RawContent", str, ""), validate=True)
    except (ValueError, binascii.Error):
        raise InputError(f"{where}.RawContent: base64") from None
    filename = _get(item, "FileName", str, "")
    if not filename:
        raise InputError(f"{where}.FileName is required")
    disposition = _get(item, "ContentDisposition", str, "ATTACHMENT")
    encoding = _get(item, "ContentTransferEncoding", str, "BASE64")
    if disposition not in _DISPOSITIONS or encoding not in _ENCODINGS:
        raise InputError(
            f"{where}: ContentDisposition is ATTACHMENT or INLINE, ContentTransferEncoding BASE64, "
            "QUOTED_PRINTABLE or SEVEN_BIT"
        )
    return SesAttachment(
        content,
        filename,
        _get(item, "ContentType", str) or mimetypes.guess_type(filename)[0] or "application/octet-stream",
        inline=_DISPOSITIONS[disposition],
        content_id=_get(item, "ContentId", str),
        description=_get(item, "ContentDescription", str),
        encoding=_ENCODINGS[encoding],
    )


def _email(data: dict[str, Any]) -> SesEmail:
    dest = _get(data, "Destination", dict, {})
    return SesEmail(
        from_=_get(data, "FromEmailAddress", str, ""),
        to=_strings(dest, "ToAddresses"),
        cc=_strings(dest, "CcAddresses"),
        bcc=_strings(dest, "BccAddresses"),
        reply_to=_strings(data, "ReplyToAddresses"),
        tags=tags_of(_pairs(data.get("EmailTags"), "EmailTags"), _get(data, "ConfigurationSetName", str)),
        **_content(_get(data, "Content", dict, {})),
    )


async def _send_email(request: Request, api: ApiState, key: ApiKey, body: bytes) -> Response:
    if api.limiter.check(key.prefix):
        raise SesError(
            429, "TooManyRequestsException", f"Maximum sending rate exceeded: {api.rate_per_key:g}/s"
        )
    mail = _email(_json(body))
    if mail.raw is None and not mail.from_:
        raise InputError("FromEmailAddress is required")
    sent = await send(api.submit, mail, key)
    return _ok({"MessageId": sent.message_id})


@router.post("/v2/email/outbound-emails")
async def send_email(request: Request) -> Response:
    return await _run(request, "send", _send_email)


_MAX_BULK = 50
"""SES's most entries in one SendBulkEmail."""


def _bulk(data: dict[str, Any]) -> list[SesEmail | InputError]:
    """One :class:`SesEmail` per entry of a SendBulkEmail — the default template with the entry's
    data over the default data, its headers over the default headers, its tags over the default
    tags — or the InputError that entry alone answers. InputError for the request as a whole."""
    from_ = _get(data, "FromEmailAddress", str, "")
    if not from_:
        raise InputError("FromEmailAddress is required")
    content = _get(data, "DefaultContent", dict, {})
    if content.get("Template") is None or any(v is not None for k, v in content.items() if k != "Template"):
        raise InputError("DefaultContent: a Template (the only content SendBulkEmail takes)")
    base = _content({"Template": content["Template"]})
    defaults = base["variables"]
    entries = _get(data, "BulkEmailEntries", list, [])
    if not 1 <= len(entries) <= _MAX_BULK:
        raise InputError(f"BulkEmailEntries: 1 to {_MAX_BULK} entries")
    reply_to = _strings(data, "ReplyToAddresses")
    tags = dict(_pairs(data.get("DefaultEmailTags"), "DefaultEmailTags"))
    config = _get(data, "ConfigurationSetName", str)
    tags_of(list(tags.items()), config)  # the defaults are the request's: refused as a whole
    out: list[SesEmail | InputError] = []
    for n, entry in enumerate(entries):
        where = f"BulkEmailEntries[{n}]"
        try:
            if not isinstance(entry, dict):
                raise InputError(f"{where}: an object")
            dest = _get(entry, "Destination", dict, {})
            replacement = _get(entry, "ReplacementEmailContent", dict, {})
            extra = _get(_get(replacement, "ReplacementTemplate", dict, {}), "ReplacementTemplateData", str)
            own_tags = tags | dict(_pairs(entry.get("ReplacementTags"), "ReplacementTags"))
            out.append(
                SesEmail(
                    from_=from_,
                    to=_strings(dest, "ToAddresses"),
                    cc=_strings(dest, "CcAddresses"),
                    bcc=_strings(dest, "BccAddresses"),
                    reply_to=reply_to,
                    headers=base["headers"]
                    | dict(_pairs(entry.get("ReplacementHeaders"), "ReplacementHeaders")),
                    tags=tags_of(list(own_tags.items()), config),
                    template=base["template"],
                    variables=defaults
                    | template_variables(extra, f"BulkEmailEntries[{n}].ReplacementTemplateData"),
                    attachments=base["attachments"],
                )
            )
        except InputError as exc:
            out.append(exc)
    return out


async def _bulk_one(api: ApiState, key: ApiKey, entry: SesEmail | InputError) -> dict[str, str]:
    """One entry's ``BulkEmailEntryResult``."""
    if isinstance(entry, InputError):
        return {"Status": "INVALID_PARAMETER", "Error": str(entry)}
    if api.limiter.check(key.prefix):
        return {
            "Status": "ACCOUNT_THROTTLED",
            "Error": f"Maximum sending rate exceeded: {api.rate_per_key:g}/s",
        }
    try:
        sent = await send(api.submit, entry, key)
    except SuppressedError as exc:
        return {"Status": "MESSAGE_REJECTED", "Error": str(exc)}
    except TemplateNotFound as exc:
        return {"Status": "TEMPLATE_NOT_FOUND", "Error": str(exc)}
    except InputError as exc:
        return {"Status": "INVALID_PARAMETER", "Error": str(exc)}
    return {"Status": "SUCCESS", "MessageId": sent.message_id}


async def _send_bulk(request: Request, api: ApiState, key: ApiKey, body: bytes) -> Response:
    entries = _bulk(_json(body))  # each entry is its own message, committed together
    results = await asyncio.gather(*(_bulk_one(api, key, entry) for entry in entries))
    return _ok({"BulkEmailEntryResults": list(results)})


@router.post("/v2/email/outbound-bulk-emails")
async def send_bulk_email(request: Request) -> Response:
    return await _run(request, "send", _send_bulk)


async def sent_last_day(api: ApiState) -> int:
    """Messages queued in the last 24 hours (from the rollups the server folds as it runs)."""
    since = datetime.now(UTC) - timedelta(days=1)
    rows = await asyncio.to_thread(api.store.rollups.rollup_sums, RollupQuery(since))
    return sum(int(n) for kind, n in rows if kind == "queued")


async def _account(request: Request, api: ApiState, key: ApiKey, body: bytes) -> Response:
    quota = {
        "Max24HourSend": api.rate_per_key * 86400,
        "MaxSendRate": api.rate_per_key,
        "SentLast24Hours": float(await sent_last_day(api)),
    }
    return _ok(
        {
            "DedicatedIpAutoWarmupEnabled": False,
            "EnforcementStatus": "HEALTHY",
            "ProductionAccessEnabled": True,
            "SendingEnabled": True,
            "SendQuota": quota,
            "SuppressionAttributes": {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]},
        }
    )


@router.get("/v2/email/account")
async def get_account(request: Request) -> Response:
    return await _run(request, "read", _account)


def _reason(reason: str) -> str:
    return "COMPLAINT" if "complain" in reason.lower() else "BOUNCE"


def _when(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromtimestamp(float(value), UTC)
    except (ValueError, OverflowError, OSError):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise InputError(f"{name}: a timestamp") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _list(request: Request, api: ApiState, key: ApiKey, body: bytes) -> Response:
    q = request.query_params
    try:
        start = int(q.get("NextToken") or 0)
        size = min(int(q.get("PageSize") or _MAX_PAGE), _MAX_PAGE)
    except ValueError:
        raise InputError("NextToken and PageSize: numbers") from None
    if start < 0 or size < 1:
        raise InputError("NextToken and PageSize: not negative")
    reasons = set(q.getlist("Reason") or ["BOUNCE", "COMPLAINT"])
    since, until = _when(q.get("StartDate"), "StartDate"), _when(q.get("EndDate"), "EndDate")
    items = await asyncio.to_thread(
        lambda: api.store.suppressions.suppressions(limit=start + size + 1 + 10_000)
    )
    chosen = [
        s for s in items
        if _reason(s.reason) in reasons
        and (since is None or s.created_at >= since)
        and (until is None or s.created_at <= until)
    ]  # fmt: skip
    page = chosen[start : start + size]
    out: dict[str, Any] = {
        "SuppressedDestinationSummaries": [
            {
                "EmailAddress": s.address,
                "Reason": _reason(s.reason),
                "LastUpdateTime": s.created_at.timestamp(),
            }
            for s in page
        ]
    }
    if len(chosen) > start + size:
        out["NextToken"] = str(start + size)
    return _ok(out)


@router.get("/v2/email/suppression/addresses")
async def list_suppressed(request: Request) -> Response:
    return await _run(request, "read", _list)


async def _put(request: Request, api: ApiState, key: ApiKey, body: bytes) -> Response:
    data = _json(body)
    address = validate_address(_get(data, "EmailAddress", str, ""))
    reason = _get(data, "Reason", str, "")
    if reason not in ("BOUNCE", "COMPLAINT"):
        raise InputError("Reason: BOUNCE or COMPLAINT")
    await asyncio.to_thread(
        lambda: api.store.suppressions.suppress(
            NewSuppression(
                "*",
                address,
                "complaint" if reason == "COMPLAINT" else "bounced",
                "PutSuppressedDestination (SES API)",
            ),
            at=datetime.now(UTC),
        )
    )
    return _ok({})


@router.put("/v2/email/suppression/addresses")
async def put_suppressed(request: Request) -> Response:
    return await _run(request, "admin", _put)


def _address_of(request: Request) -> str:
    return validate_address(unquote(request.path_params["address"]))


async def _get_one(request: Request, api: ApiState, key: ApiKey, body: bytes) -> Response:
    address = _address_of(request).lower()
    items = await asyncio.to_thread(lambda: api.store.suppressions.suppressions(scope="*", limit=100_000))
    found = next((s for s in items if s.address.lower() == address), None)
    if found is None:
        raise SesError(404, "NotFoundException", f"{address} is not on the suppression list")
    return _ok(
        {
            "SuppressedDestination": {
                "EmailAddress": found.address,
                "Reason": _reason(found.reason),
                "LastUpdateTime": found.created_at.timestamp(),
                "Attributes": {"MessageId": found.source_message_id or "", "FeedbackId": ""},
            }
        }
    )


@router.get("/v2/email/suppression/addresses/{address}")
async def get_suppressed(request: Request) -> Response:
    return await _run(request, "read", _get_one)


async def _delete(request: Request, api: ApiState, key: ApiKey, body: bytes) -> Response:
    address = _address_of(request)
    if not await asyncio.to_thread(api.store.suppressions.unsuppress, "*", address):
        raise SesError(404, "NotFoundException", f"{address} is not on the suppression list")
    return _ok({})


@router.delete("/v2/email/suppression/addresses/{address}")
async def delete_suppressed(request: Request) -> Response:
    return await _run(request, "admin", _delete)


@router.api_route("/v2/email/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def not_offered(request: Request) -> Response:
    """Any other SES v2 operation (identities, stored templates, configuration sets, contact
    lists…): 404 in SES's shape, naming the request, so the SDK's error says what is missing
    rather than a bare 404. Last of the router: every operation above is matched first."""
    return v2_error(
        404,
        "NotFoundException",
        f"mailfate's SES endpoint does not offer {request.method} {request.url.path[:200]} "
        "(see mailfate's docs/ses-endpoint.md for the operations it does)",
    )
