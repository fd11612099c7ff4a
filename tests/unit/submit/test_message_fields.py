"""One list of what a message is made of: compose, Client.send/prepare and the API's schema agree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mailfate.client import Client
from mailfate.config import load_settings
from mailfate.intake.api.schemas import MessageIn
from mailfate.submit.compose import MESSAGE_FIELDS, compose


def test_the_api_schema_takes_the_message_fields_and_the_client_s_own_two() -> None:
    assert set(MessageIn.model_fields) == set(MESSAGE_FIELDS) | {"idempotency_key", "deadline"}


def test_a_misspelt_or_missing_keyword_is_a_type_error(tmp_path: Path) -> None:
    fields: dict[str, Any] = {"from_": "a@app.example", "to": "kim@example.com", "subjct": "x", "text": "t"}
    with pytest.raises(TypeError, match="subjct"):
        compose(**fields)
    with Client(tmp_path / "s.db", settings=load_settings(None, data_dir=tmp_path)) as client:
        with pytest.raises(TypeError, match="subjct"):
            client.send(**fields)
        with pytest.raises(TypeError, match="to"):
            client.send(from_="a@app.example", text="t")  # type: ignore[call-arg]
        sent = client.send(from_="a@app.example", to="kim@example.com", subject="s", text="t", deadline="10m")
        assert client.message(sent.message_id).recipients[0].address == "kim@example.com"
