"""Request bodies of the HTTP API: unknown fields are refused, every field is named in errors."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["MessageIn", "SuppressionIn"]


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

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
    deadline: str | float | None = None
    category: str = "transactional"
    reply_to: str | None = None
    list_unsubscribe: str | None = None


class SuppressionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str = Field(min_length=3, max_length=320)
    reason: str = Field(default="manual", max_length=200)
    scope: str = Field(default="*", max_length=255)
