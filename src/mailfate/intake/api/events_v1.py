"""``/v1/events``: every event after a cursor, oldest first (``read``)."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Response

from mailfate.intake.api.auth import ReadKey
from mailfate.intake.api.errors import documented
from mailfate.intake.api.responses import EventsOut, answer, events_json
from mailfate.intake.api.schemas import EventCursor
from mailfate.intake.api.state import Api

__all__ = ["router"]

router = APIRouter(tags=["events"])


@router.get("/v1/events", response_model=EventsOut, responses=documented(400, 401, 403, 422))
async def get_events(
    _: ReadKey,
    api: Api,
    cursor: EventCursor = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    evs = await asyncio.to_thread(api.store.messages.events_after, cursor, limit)
    return answer(events_json(evs, cursor))
