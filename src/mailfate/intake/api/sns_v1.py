"""``POST /v1/ses/sns``: SES events from SNS. No API key (SNS cannot send one): only messages
whose signature verifies (:mod:`mailfate.intake.sns`, which refuses malformed ones with 400/413
and answers 503 when the signing certificate cannot be had)."""

import asyncio
import logging

from fastapi import APIRouter, HTTPException, Request, Response

from mailfate.errors import InputError
from mailfate.intake.api.errors import documented
from mailfate.intake.api.responses import SnsApplied, SnsConfirmed, SnsIgnored, answer
from mailfate.intake.api.state import Api
from mailfate.intake.ses import import_ses
from mailfate.intake.sns import parse_body

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter(tags=["ses"])


@router.post(
    "/v1/ses/sns",
    include_in_schema=False,
    response_model=SnsConfirmed | SnsIgnored | SnsApplied,
    responses=documented(
        400,
        403,
        404,
        413,
        503,
        why={
            400: "not an SNS message",
            403: "not genuine, not fresh or a replay",
            404: "no SNS topics are configured",
            413: "larger than an SNS message can be",
        },
    ),
)
async def sns_endpoint(request: Request, api: Api) -> Response:
    """SES notifications through SNS: no key (SNS cannot send one), only verified messages."""
    sns = api.sns
    if sns is None:
        raise HTTPException(404, "no SNS topics are configured ([ses] topics)")
    try:
        body = parse_body(await request.body())
        await asyncio.to_thread(sns.verify, body)
    except InputError as exc:
        log.warning("SNS message refused: %s", exc)
        raise HTTPException(403, f"refused: {exc}") from exc
    if body["Type"] == "SubscriptionConfirmation":
        await asyncio.to_thread(sns.confirm, body)
        return answer({"confirmed": True})
    if body["Type"] != "Notification":
        return answer({"ignored": body["Type"]})
    try:
        result = await asyncio.to_thread(
            import_ses, api.store.messages, str(body.get("Message", "")).encode("utf-8")
        )
    except Exception:
        # Not stored: give the MessageId back so SNS's retry is not refused as a replay.
        sns.release(body)
        raise
    return answer({"applied": result.applied, "unmatched": result.unmatched, "errors": result.errors})
