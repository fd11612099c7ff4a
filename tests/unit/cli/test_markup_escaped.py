"""Text from data goes through Rich literally: square brackets in a subject, an address, a reply
or an error are shown, not taken for markup (and never break the output)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailfate.cli.app import app

runner = CliRunner()
MARKUP = "[mailfate] [bold]x[/] [[y]] [/]"


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    for var in ("MAILFATE_CONFIG", "MAILFATE_STORE_URL", "MAILFATE_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    return ["--data-dir", str(tmp_path / "d")]


def test_a_subject_with_square_brackets_is_shown_as_written(data: list[str]) -> None:
    sent = runner.invoke(
        app,
        [
            "send",
            "--from",
            "a@app.example",
            "--to",
            "kim@example.org",
            "--subject",
            MARKUP,
            "--text",
            "t",
            "--json",
            *data,
        ],
    )
    assert sent.exit_code == 0, sent.stderr
    mid = json.loads(sent.stdout)["message_id"]
    shown = runner.invoke(app, ["trace", mid, *data], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.stderr
    assert MARKUP in shown.stdout


def test_an_error_quoting_brackets_is_shown_as_written(data: list[str]) -> None:
    runner.invoke(app, ["send", "--from", "a@app.example", "--to", "kim@example.org", "--text", "t", *data])
    result = runner.invoke(app, ["trace", "[bold]nope[/]", *data])
    assert result.exit_code != 0
    assert "[bold]nope[/]" in result.stderr


def test_webhooks_list_names_the_table_to_add(data: list[str]) -> None:
    runner.invoke(app, ["send", "--from", "a@app.example", "--to", "kim@example.org", "--text", "t", *data])
    result = runner.invoke(app, ["webhooks", "list", *data])
    assert "add [[webhooks]] to the configuration" in result.stdout


def test_a_read_never_creates_a_store_and_says_which_path(data: list[str], tmp_path: Path) -> None:
    result = runner.invoke(app, ["trace", "m123", "--data-dir", str(tmp_path / "typo")])
    assert result.exit_code != 0
    assert "no store at" in result.stderr and "typo" in result.stderr and "--data-dir" in result.stderr
    assert not (tmp_path / "typo" / "mailfate.db").exists()
    for read in (["queue"], ["suppression", "list"], ["keys", "list"], ["webhooks", "log"]):
        assert runner.invoke(app, [*read, "--data-dir", str(tmp_path / "typo")]).exit_code != 0, read
    assert not (tmp_path / "typo" / "mailfate.db").exists()


def test_config_show_masks_a_postgresql_password(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MAILFATE_STORE_URL", "postgresql+psycopg://mailer:s3cret@db.internal/mailfate")
    result = runner.invoke(app, ["config", "show", "--json", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    assert "s3cret" not in result.stdout and "mailer:***@db.internal" in result.stdout


def test_a_store_error_masks_the_password(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MAILFATE_STORE_URL", "mysql://mailer:s3cret@db.internal/mailfate")
    result = runner.invoke(app, ["queue", "--data-dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "s3cret" not in result.stderr and "mailer:***@db.internal" in result.stderr
