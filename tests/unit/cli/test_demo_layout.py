"""``mailfate demo`` reads well at 80 columns: every message id whole (to copy into ``trace``),
every address whole, no line wider than the terminal, the hint on its own line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mailfate.cli import demo
from mailfate.cli.app import app

runner = CliRunner()
BOX = set("│┃┆┊║─━┼╋└┘┌┐╇┩┡┏┓┗┛")


def _rows() -> list[dict[str, Any]]:
    fates = {
        "delivered": ("delivered", "delivered", 1, False),
        "hard_bounce": ("bounced", "userunknown", 1, True),
        "greylisted": ("delivered", "delivered", 2, False),
        "late_bounce": ("bounced", "userunknown", 1, False),
        "complaint": ("complained", "feedback", 1, True),
        "suppressed": ("suppressed", "suppressed", 0, False),
        "auth_softfail": ("expired", "authfailure", 3, False),
    }
    rows = []
    for n, sc in enumerate(demo.SCENARIOS):
        fate, reason, attempts, suppressed = fates[sc.name]
        rows.append(
            {
                "scenario": sc.name,
                "to": sc.to,
                "message_id": f"m01m94qkgf4stppanc6v59tb8y{n}",  # 27 characters, as the store makes them
                "fate": fate,
                "reason": reason,
                "attempts": attempts,
                "suppressed": suppressed,
            }
        )
    return rows


@pytest.fixture
def fake_demo(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    rows = _rows()

    async def run_demo(
        data_dir: Path, on_change: Callable[[list[dict[str, Any]]], None], **_: Any
    ) -> list[dict[str, Any]]:
        on_change(rows[:3])
        on_change(rows)
        return rows

    monkeypatch.setattr(demo, "run_demo", run_demo)
    return rows


def _lines(out: str) -> list[str]:
    return [line.rstrip() for line in out.splitlines()]


def test_the_demo_fits_80_columns_and_shows_every_id_and_address(fake_demo: list[dict[str, Any]]) -> None:
    result = runner.invoke(app, ["demo"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    lines = _lines(result.stdout)
    assert max(len(line) for line in lines) <= 80, "\n".join(x for x in lines if len(x) > 80)
    for row in fake_demo:
        assert any(row["message_id"] in line for line in lines), row["message_id"]
        assert any(row["to"] in line for line in lines), row["to"]
        assert any(row["scenario"] in line for line in lines), row["scenario"]
    assert "+ suppressed" in result.stdout and "authfailure" in result.stdout
    [hint] = [i for i, line in enumerate(lines) if "--keep DIR" in line]
    assert not BOX & set(lines[hint]), "the hint is not glued to the table"
    assert lines[hint].lstrip().startswith("The demo's store is removed")


def test_with_keep_the_hint_is_the_exact_trace_command(
    fake_demo: list[dict[str, Any]], tmp_path: Path
) -> None:
    keep = tmp_path / "kept"
    result = runner.invoke(app, ["demo", "--keep", str(keep)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    lines = _lines(result.stdout)
    command = f"mailfate trace {fake_demo[0]['message_id']} --data-dir {keep}"
    [at] = [i for i, line in enumerate(lines) if command in line]  # whole, on one line, to copy
    assert "Trace a message" in lines[at - 1] and not BOX & set(lines[at - 1])


def test_the_demo_json_keeps_one_line_per_scenario_with_its_id(fake_demo: list[dict[str, Any]]) -> None:
    result = runner.invoke(app, ["demo", "--json"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("\n") == len(demo.SCENARIOS)
    assert all(row["message_id"] in result.stdout for row in fake_demo)
