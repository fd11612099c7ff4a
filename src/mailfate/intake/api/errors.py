"""Error answers of the HTTP API: how they are rendered, and how OpenAPI documents them.

Every error keeps FastAPI's shape, ``{"detail": ...}``, and is rendered by :func:`safe_json`,
which cannot fail: whatever a client sent is echoed as valid UTF-8 JSON (text that is not UTF-8
with backslash escapes, NaN as a string, long strings and deep nesting cut).

:func:`documented` gives a route's ``responses=`` for OpenAPI: one entry per status it can
answer, each with the :class:`ErrorOut` model (or a finer one) and the headers that come with it
(``WWW-Authenticate`` on 401, ``Retry-After`` on 429 and 503).
"""

import inspect
import math
from collections.abc import Mapping
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.utils import is_body_allowed_for_status_code
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = [
    "ErrorOut",
    "ValidationErrorOut",
    "documented",
    "error_response",
    "handled",
    "http_error",
    "safe_json",
    "validation_error",
]

_MAX_ECHO = 1000
"""Longest string echoed back in an error (the rest is cut: a 10 MB body is not sent back)."""
_MAX_DEPTH = 20
"""Deepest nesting echoed back in an error (deeper lists and objects are shown as "…")."""


def _clean_text(text: str) -> str:
    text = text if len(text) <= _MAX_ECHO else text[:_MAX_ECHO] + "…"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def safe_json(value: object) -> Any:
    """``value`` as plain JSON data that always serialises: strings cut at ``_MAX_ECHO`` and lone
    surrogates written as ``\\udXXX`` text, bytes decoded the same way, NaN and infinities as
    strings, anything else (exceptions in pydantic's ``ctx``) as its ``str``, nesting cut at
    ``_MAX_DEPTH``."""
    root: list[Any] = [None]
    stack: list[tuple[list[Any] | dict[str, Any], int | str, object, int]] = [(root, 0, value, 0)]
    while stack:
        into, slot, item, depth = stack.pop()
        out: Any
        if item is None or isinstance(item, bool | int):
            out = item
        elif isinstance(item, float):
            out = item if math.isfinite(item) else str(item)
        elif isinstance(item, str):
            out = _clean_text(item)
        elif isinstance(item, bytes | bytearray):
            out = _clean_text(bytes(item).decode("utf-8", "backslashreplace"))
        elif isinstance(item, dict | list | tuple) and depth >= _MAX_DEPTH:
            out = "…"
        elif isinstance(item, dict):
            pairs = [(_clean_text(str(k)), v) for k, v in item.items()]
            out = dict.fromkeys(k for k, _ in pairs)  # the keys in their order
            stack.extend((out, k, v, depth + 1) for k, v in pairs)
        elif isinstance(item, list | tuple):
            out = [None] * len(item)
            stack.extend((out, i, v, depth + 1) for i, v in enumerate(item))
        else:
            out = _clean_text(str(item))
        into[slot] = out  # type: ignore[index]
    return root[0]


def error_response(status: int, detail: object, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse({"detail": safe_json(detail)}, status_code=status, headers=headers)


async def validation_error(request: Request, exc: Exception) -> Response:
    """422 ``{"detail": [pydantic errors]}`` as FastAPI's own handler, but never failing."""
    assert isinstance(exc, RequestValidationError)
    return error_response(422, exc.errors())


async def handled(request: Request, exc: StarletteHTTPException) -> Response:
    """``exc`` rendered by the handler the app registered for its class or the nearest base (as
    Starlette's exception middleware picks it); :func:`http_error` when there is none."""
    handlers = getattr(request.app, "exception_handlers", {})
    for cls in type(exc).__mro__:
        if cls in handlers:
            response = handlers[cls](request, exc)
            return await response if inspect.isawaitable(response) else response  # type: ignore[no-any-return]
    return await http_error(request, exc)


async def http_error(request: Request, exc: Exception) -> Response:
    """FastAPI's HTTPException handler, rendering the detail with :func:`safe_json`."""
    assert isinstance(exc, StarletteHTTPException)
    if not is_body_allowed_for_status_code(exc.status_code):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return error_response(exc.status_code, exc.detail, exc.headers)


# -- OpenAPI ------------------------------------------------------------------------------------
class ErrorOut(BaseModel):
    """Every error: what went wrong, in words."""

    detail: str


class ValidationIssue(BaseModel):
    """One refused value, as pydantic names it."""

    type: str
    loc: list[str | int]
    msg: str
    input: Any = None
    ctx: dict[str, Any] | None = None


class ValidationErrorOut(BaseModel):
    """422: each refused field (a list), or one sentence when the value was read but is unusable
    (an address the validator refuses, a template that does not exist)."""

    detail: list[ValidationIssue] | str


_WHY: dict[int, str] = {
    400: "a NUL (%00) in the path or the query string",
    401: "no API key, or an unknown or revoked one",
    403: "the key lacks the route's scope",
    404: "not found",
    409: "conflict",
    413: "the body is larger than the limit",
    422: "the body or a parameter is invalid (each field named)",
    429: "this key is over its rate: retry after Retry-After seconds",
    503: "unavailable now: retry after Retry-After seconds",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
    503: {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
}


def documented(
    *statuses: int,
    why: Mapping[int, str] | None = None,
    models: Mapping[int, type[BaseModel]] | None = None,
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error ``statuses`` a route answers, each with its model
    (:class:`ErrorOut`; :class:`ValidationErrorOut` for 422; ``models`` overrides), a description
    (``why`` overrides) and its headers."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        model = (models or {}).get(status, ValidationErrorOut if status == 422 else ErrorOut)
        entry: dict[str, Any] = {"model": model, "description": (why or {}).get(status, _WHY[status])}
        if status in _HEADERS:
            entry["headers"] = _HEADERS[status]
        out[status] = entry
    return out
