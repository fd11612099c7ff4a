"""``/v1/suppressions``: the addresses not sent to (``read``), added and removed by hand (``admin``)."""

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response

from mailfate.errors import InputError
from mailfate.intake.api.auth import AdminKey, ReadKey
from mailfate.intake.api.errors import documented
from mailfate.intake.api.responses import (
    SuppressionAdded,
    SuppressionRemoved,
    SuppressionsOut,
    answer,
    suppressions_json,
)
from mailfate.intake.api.schemas import SuppressionIn
from mailfate.intake.api.state import Api
from mailfate.model import NewSuppression
from mailfate.submit.addresses import validate_address

__all__ = ["router"]

router = APIRouter(tags=["suppressions"])


@router.get("/v1/suppressions", response_model=SuppressionsOut, responses=documented(400, 401, 403, 422))
async def list_suppressions(
    _: ReadKey,
    api: Api,
    scope: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
) -> Response:
    items = await asyncio.to_thread(lambda: api.store.suppressions.suppressions(scope=scope, limit=limit))
    return answer(suppressions_json(items))


@router.post(
    "/v1/suppressions",
    status_code=201,
    response_model=SuppressionAdded,
    responses=documented(401, 403, 413, 422),
)
async def add_suppression(body: SuppressionIn, _: AdminKey, api: Api) -> Response:
    try:
        address = validate_address(body.address)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from exc
    added = await asyncio.to_thread(
        lambda: api.store.suppressions.suppress(
            NewSuppression(body.scope, address, body.reason, "added through the API"), at=datetime.now(UTC)
        )
    )
    return answer({"address": address.lower(), "scope": body.scope.lower(), "added": added}, 201)


@router.delete(
    "/v1/suppressions/{address}",
    response_model=SuppressionRemoved,
    responses=documented(400, 401, 403, 404, why={404: "the address is not suppressed in that scope"}),
)
async def remove_suppression(address: str, _: AdminKey, api: Api, scope: str = "*") -> Response:
    removed = await asyncio.to_thread(api.store.suppressions.unsuppress, scope, address)
    if not removed:
        raise HTTPException(404, f"{address} is not suppressed for {scope}")
    return answer({"address": address.lower(), "scope": scope, "removed": True})
