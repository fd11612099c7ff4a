"""``/v1/webhooks/log``: the outgoing webhooks' delivery log (``read``)."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Response

from mailfate.intake.api.auth import ReadKey
from mailfate.intake.api.errors import documented
from mailfate.intake.api.responses import WebhookLogOut, answer, webhook_log_json
from mailfate.intake.api.schemas import BeforeId
from mailfate.intake.api.state import Api

__all__ = ["router"]

router = APIRouter(tags=["webhooks"])


@router.get("/v1/webhooks/log", response_model=WebhookLogOut, responses=documented(400, 401, 403, 422))
async def webhooks_log(
    _: ReadKey,
    api: Api,
    subscriber: Annotated[str | None, Query(max_length=64)] = None,
    before: BeforeId = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    """The outgoing webhooks' delivery log, newest first; ``next_before`` pages back."""
    rows = await asyncio.to_thread(
        lambda: api.store.webhooks.webhook_log(subscriber=subscriber, limit=limit, before_id=before)
    )
    return answer(webhook_log_json(rows, limit))
