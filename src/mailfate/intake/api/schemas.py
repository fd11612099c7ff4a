"""Request bodies and query values of the HTTP API: unknown fields are refused, every field is
named in errors, and nothing a client sends can reach the store or the composer unusable.

What is refused with 422 here (one rule each):

- text holding a lone surrogate (the JSON escape ``"\\ud800"`` alone), in any field, list item,
  dict key or nested template variable (:func:`mailfate.submit.compose.require_utf8`, the rule
  the Python client's ``compose`` applies too);
- a ``deadline`` that is not a finite duration (:func:`mailfate.model.duration.parse_duration`)
  or is longer than :data:`MAX_DEADLINE`;
- ids and cursors outside the store's signed 64-bit integers (:data:`MAX_ID`): refused, never
  clamped, so a client that computed a wrong cursor hears about it;
- a time (``since``, ``until``) that leaves the years 1-9999 once converted to UTC
  (``9999-12-31T23:59:59-23:59``); a time without a zone is taken as UTC (:data:`Moment`).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from mailfate.errors import InputError
from mailfate.model.duration import parse_duration
from mailfate.submit.compose import require_utf8

__all__ = [
    "MAX_DEADLINE",
    "MAX_ID",
    "BeforeId",
    "EventCursor",
    "MessageIn",
    "Moment",
    "RawMessageIn",
    "SuppressionIn",
]

MAX_ID = 2**63
"""Event and log ids are signed 64-bit integers in the store: a cursor is 0 <= cursor < MAX_ID."""
MAX_DEADLINE = 30 * 86400.0
"""The longest ``deadline`` the API takes (30 days; the default retry ``max_age`` is 5)."""

EventCursor = Annotated[int, Query(ge=0, lt=MAX_ID, description="the last event id seen (0: from the start)")]
BeforeId = Annotated[int | None, Query(ge=1, lt=MAX_ID, description="log entries with a smaller id")]


def _utc(value: datetime) -> datetime:
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("outside the years 1-9999 once converted to UTC") from exc


Moment = Annotated[datetime, AfterValidator(_utc)]
"""A time in UTC (one without a zone is taken as UTC); 422 if it cannot be converted."""


class _Body(BaseModel):
    """Every request body: unknown fields refused, no text that cannot be written as UTF-8."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _utf8(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name or "body"
        field = cls.model_fields.get(name)
        require_utf8(value, (field.alias if field else None) or name)  # "from", not "from_"
        return value


class MessageIn(_Body):
    from_: str = Field(alias="from", min_length=3, max_length=320)
    to: list[str] = Field(min_length=1, max_length=1000)
    subject: str | None = Field(default=None, max_length=998)
    text: str | None = None
    html: str | None = None
    template: str | None = Field(default=None, max_length=100)
    variables: dict[str, Any] | None = None
    lang: str = Field(default="en", max_length=8)
    headers: dict[str, str] | None = None
    tags: list[str] = Field(default_factory=list, max_length=20)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    deadline: str | float | None = Field(
        default=None,
        description=(
            f'seconds, or a duration such as "10m", "1h30m", "2d"; at most {MAX_DEADLINE / 86400:g} days'
        ),
    )
    category: str = "transactional"
    reply_to: str | None = None
    list_unsubscribe: str | None = None

    @field_validator("deadline", mode="after")
    @classmethod
    def _deadline(cls, value: str | float | None) -> float | None:
        """Seconds from now: finite, > 0, at most MAX_DEADLINE."""
        if value is None:
            return None
        seconds = parse_duration(value, maximum=MAX_DEADLINE)
        return seconds


class RawMessageIn(_Body):
    """A message the application composed itself (MIME, base64) with its envelope: what
    ``Client.send_raw`` and SMTP submission take (``POST /v1/messages/raw``)."""

    mail_from: str = Field(max_length=320, description='the envelope sender ("" for none)')
    to: list[str] = Field(min_length=1, max_length=1000, description="the envelope recipients")
    raw: str = Field(min_length=1, description="the message's bytes, base64")
    tags: list[str] = Field(default_factory=list, max_length=20)
    category: str = "transactional"
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    deadline: str | float | None = Field(
        default=None, description=MessageIn.model_fields["deadline"].description
    )

    @field_validator("deadline", mode="after")
    @classmethod
    def _deadline(cls, value: str | float | None) -> float | None:
        return None if value is None else parse_duration(value, maximum=MAX_DEADLINE)

    def message_bytes(self) -> bytes:
        """The decoded message (InputError when ``raw`` is not base64)."""
        try:
            return base64.b64decode(self.raw, validate=True)
        except ValueError as exc:  # binascii.Error, or text that is not ASCII
            raise InputError(f"raw: not base64 ({exc})") from exc


class SuppressionIn(_Body):
    address: str = Field(min_length=3, max_length=320)
    reason: str = Field(default="manual", max_length=200)
    scope: str = Field(default="*", max_length=255)
