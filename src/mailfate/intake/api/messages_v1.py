"""``/v1/messages``: submit a message (``send``), read one with its timeline, search (``read``)."""

import asyncio
import json
import logging
import math
import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response

from mailfate.errors import InputError
from mailfate.intake.api.auth import ReadKey, SendKey, key_allowed
from mailfate.intake.api.errors import documented
from mailfate.intake.api.lanes import is_json
from mailfate.intake.api.responses import (
    MessageAccepted,
    MessageOut,
    SearchOut,
    SuppressedErrorOut,
    accepted_json,
    answer,
    message_json,
    search_json,
    suppressed_json,
)
from mailfate.intake.api.schemas import MessageIn, Moment, RawMessageIn
from mailfate.intake.api.state import Api, ApiState, state_of
from mailfate.model import FINAL_FATES, ApiKey, Fate, MessageQuery, MessageView, NewMessage
from mailfate.model.workers import STALE_AFTER
from mailfate.submit.service import SuppressedError

__all__ = ["post_message_lane", "router"]

log = logging.getLogger(__name__)
router = APIRouter(tags=["messages"])

MAX_WAIT = 30.0
"""The longest ``?wait=`` (proxies commonly close idle requests after 60 s)."""
WAIT_POLL = 0.25
"""Seconds between two looks at the message while a request waits."""
ASK_WORKERS_EVERY = 1.0
"""Seconds between two looks at the workers' heartbeats while a request waits."""


def _final(view: MessageView) -> bool:
    return all(Fate(r.fate) in FINAL_FATES for r in view.recipients)


SUBMITTED = documented(
    401,
    403,
    409,
    413,
    422,
    429,
    why={409: "every recipient is suppressed: nothing was queued"},
    models={409: SuppressedErrorOut},
)
"""The answers of a route that queues a message."""


def _within_rate(api: ApiState, key: ApiKey) -> None:
    """429 with Retry-After when ``key`` submits faster than its rate."""
    wait = api.limiter.check(key.prefix)
    if wait:
        log.warning("API key %s over its rate (%g/s): 429", key.prefix, api.rate_per_key)
        raise HTTPException(
            429,
            f"this key may submit {api.rate_per_key:g} messages per second; retry in {wait:.3f} s",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )


@router.post("/v1/messages", status_code=202, response_model=MessageAccepted, responses=SUBMITTED)
async def post_message(body: MessageIn, key: SendKey, request: Request) -> Response:
    """Queue a message (202 at once; a worker delivers it). The same ``idempotency_key`` again
    answers the first message's id with ``"existing": true``."""
    return await _submit(state_of(request), key, body)


async def post_message_lane(request: Request) -> Response | None:
    """``POST /v1/messages`` for a request the route would take: a JSON body that validates and a
    key with the ``send`` scope (:mod:`.lanes`); None for anything else, which the route answers."""
    if not is_json(request) or (key := await key_allowed(request, "send")) is None:
        return None
    try:
        body = MessageIn.model_validate(json.loads(await request.body()))
    except (ValueError, RecursionError):  # pydantic's ValidationError is a ValueError
        return None
    return await _submit(state_of(request), key, body)


async def _submit(api: ApiState, key: ApiKey, body: MessageIn) -> Response:
    """What the route does once the request is read: 202, or 409 / 422 / 429 as HTTPException."""
    _within_rate(api, key)
    try:
        message = api.submit.prepare(**body.model_dump(by_alias=False))
        sent = await api.submit.send_async(message)  # group commit with concurrent requests
    except SuppressedError as exc:
        raise HTTPException(409, suppressed_json(exc)) from exc
    except InputError as exc:
        raise HTTPException(422, str(exc)) from exc
    return answer(accepted_json(sent), 202)


@router.post("/v1/messages/raw", status_code=202, response_model=MessageAccepted, responses=SUBMITTED)
async def post_raw_message(body: RawMessageIn, key: SendKey, request: Request) -> Response:
    """Queue a message the application composed itself (MIME, base64) for the envelope given, as
    SMTP submission does: a missing Date or Message-ID is added; without ``idempotency_key`` the
    key is derived from the key, the Message-ID, the envelope and the bytes, so the same message
    again answers the first one's id with ``"existing": true``."""
    api = state_of(request)
    _within_rate(api, key)

    def prepare() -> NewMessage:  # decodes and hashes the whole message: off the event loop
        return api.submit.prepare_raw(
            body.message_bytes(),
            mail_from=body.mail_from,
            rcpt_to=body.to,
            tags=body.tags,
            category=body.category,
            idempotency_key=body.idempotency_key,
            idempotency_scope=f"key:{key.id}",
            deadline=body.deadline,
        )

    try:
        message = await asyncio.to_thread(prepare)
        sent = await api.submit.send_async(message)
    except SuppressedError as exc:
        raise HTTPException(409, suppressed_json(exc)) from exc
    except InputError as exc:
        raise HTTPException(422, str(exc)) from exc
    return answer(accepted_json(sent), 202)


@router.get(
    "/v1/messages/{message_id}",
    response_model=MessageOut,
    responses=documented(400, 401, 403, 404, 422, why={404: "no such message"}),
)
async def get_message(
    message_id: str,
    _: ReadKey,
    api: Api,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT, description="seconds to wait for the fate")] = 0,
) -> Response:
    """The message, each recipient's fate and the timeline (as ``mailfate trace --json``).

    With ``wait`` (seconds, at most 30) the answer comes as soon as every recipient's fate is
    final, or when the time is up, or at once with ``no_worker`` when no worker runs on the store
    (nothing would change): a client long-polls instead of asking again and again."""
    view = await asyncio.to_thread(api.store.messages.message, message_id)
    if view is None:
        raise HTTPException(404, f"no message {message_id!r}")
    end = time.monotonic() + wait
    ask_workers = 0.0  # at once, then every second: the heartbeats change every 5 s
    while wait and not _final(view):
        if time.monotonic() >= ask_workers:
            status = await asyncio.to_thread(
                api.store.workers.worker_status, datetime.now(UTC), threshold=STALE_AFTER
            )
            if not status.alive:
                return answer(message_json(view, no_worker=status.hint))
            ask_workers = time.monotonic() + ASK_WORKERS_EVERY
        if time.monotonic() >= end:
            break
        await asyncio.sleep(min(WAIT_POLL, max(0.0, end - time.monotonic())))
        view = await asyncio.to_thread(api.store.messages.message, message_id) or view
    return answer(message_json(view))


@router.get("/v1/messages", response_model=SearchOut, responses=documented(400, 401, 403, 422))
async def search(  # noqa: PLR0917 - one query parameter per filter
    _: ReadKey,
    api: Api,
    recipient: str | None = None,
    domain: str | None = None,
    fate: str | None = None,
    reason: str | None = None,
    since: Moment | None = None,
    until: Moment | None = None,
    tag: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")] = None,
    cursor: Annotated[str | None, Query(pattern=r"^m[0-9a-z]{26}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    """Messages newest first. With a recipient, domain or reason filter, ``fate`` is the matched
    recipient's (``domain=naver.com&fate=bounced``: messages whose Naver recipient bounced)."""
    items, nxt = await asyncio.to_thread(
        lambda: api.store.messages.search_messages(
            MessageQuery(
                recipient=recipient,
                domain=domain,
                fate=fate,
                reason=reason,
                since=since,
                until=until,
                tag=tag,
                cursor=cursor,
                limit=limit,
            )
        )
    )
    return answer(search_json(items, nxt))
