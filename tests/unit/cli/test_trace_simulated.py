"""``mailfate trace`` says which replies came from the built-in simulator (text and ``--json``),
and the timeline knows it (``Step.simulated``, ``Step.answered_by``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailfate.cli.app import app
from mailfate.model import AttemptRecord, AttemptResult, NewEvent, NewMessage
from mailfate.model.simulated import SIMULATED_LABEL
from mailfate.store import Store
from mailfate.tracking.timeline import steps

runner = CliRunner()
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
def sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Two messages delivered with the same reply: one by the simulator, one by direct MX."""
    for var in ("MAILFATE_CONFIG", "MAILFATE_STORE_URL", "MAILFATE_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    data = tmp_path / "d"
    data.mkdir()
    store = Store.open(data / "mailfate.db")
    ids: dict[str, str] = {"data": str(data)}
    try:
        for transport in ("simulator", "direct"):
            message = store.queue.submit(NewMessage("no-reply@app.example", ("kim@naver.com",), b"x"), NOW)
            [claimed] = store.queue.claim(1, now=NOW, lease=60, owner="w")
            result = AttemptResult(
                "delivered", 250, "2.0.0", "Ok: queued as Q1", "delivered", False, transport=transport
            )
            store.queue.record_attempts([AttemptRecord(claimed.recipient_id, result, NOW)], owner="w")
            ids[transport] = message.message_id
    finally:
        store.close()
    return ids


def test_trace_marks_the_simulators_reply_and_only_it(sent: dict[str, str]) -> None:
    label = SIMULATED_LABEL["en"]
    simulated = runner.invoke(
        app, ["trace", sent["simulator"], "--data-dir", sent["data"]], env={"COLUMNS": "200"}
    )
    assert simulated.exit_code == 0, simulated.stderr
    [line] = [x for x in simulated.stdout.splitlines() if "delivered: 250 2.0.0" in x]
    assert f"({label})" in line
    direct = runner.invoke(app, ["trace", sent["direct"], "--data-dir", sent["data"]], env={"COLUMNS": "200"})
    assert direct.exit_code == 0, direct.stderr
    assert "delivered: 250 2.0.0" in direct.stdout and label not in direct.stdout


def test_trace_json_says_which_attempt_the_simulator_answered(sent: dict[str, str]) -> None:
    for transport, expected in (("simulator", True), ("direct", False)):
        shown = runner.invoke(app, ["trace", sent[transport], "--json", "--data-dir", sent["data"]])
        assert shown.exit_code == 0, shown.stderr
        doc = json.loads(shown.stdout)
        [attempt] = [e for e in doc["events"] if e["type"] == "attempt"]
        assert attempt["transport"] == transport and attempt["simulated"] is expected
        assert attempt.get("answered_by") == (SIMULATED_LABEL["en"] if expected else None)
        assert all("simulated" not in e for e in doc["events"] if e["type"] != "attempt")


def test_trace_follow_json_labels_each_attempt_line(sent: dict[str, str]) -> None:
    shown = runner.invoke(
        app, ["trace", sent["simulator"], "--follow", "--timeout", "1", "--json", "--data-dir", sent["data"]]
    )
    assert shown.exit_code == 0, shown.stderr
    events = [json.loads(line) for line in shown.stdout.splitlines()]
    [attempt] = [e for e in events if e["type"] == "attempt"]
    assert attempt["simulated"] is True and attempt["answered_by"] == SIMULATED_LABEL["en"]


def test_the_timeline_step_knows_and_names_it_per_language(sent: dict[str, str]) -> None:
    store = Store.open(Path(sent["data"]) / "mailfate.db")
    try:
        for transport, expected in (("simulator", True), ("direct", False)):
            view = store.messages.message(sent[transport])
            assert view is not None
            [attempt] = [s for s in steps(list(view.events)) if s.type == "attempt"]
            assert attempt.simulated is expected
            assert attempt.answered_by("ko") == (SIMULATED_LABEL["ko"] if expected else "")
            assert attempt.answered_by("xx") == (SIMULATED_LABEL["en"] if expected else "")
    finally:
        store.close()


def test_a_report_after_a_simulated_attempt_is_the_simulators_too(sent: dict[str, str]) -> None:
    """A DSN carries no transport: it is the simulator's when the attempt before it was (the
    simulator's late bounces), and the real receiver's after a direct attempt."""
    store = Store.open(Path(sent["data"]) / "mailfate.db")
    try:
        for transport in ("simulator", "direct"):
            mid = sent[transport]
            rid = store.messages.find_recipient(mid, "kim@naver.com")
            data = {"hardbounce": True, "status": "5.1.1", "diagnostic": "550 5.1.1 unknown"}
            store.messages.append_event(
                NewEvent(mid, rid, "bounced", NOW.replace(minute=5), data, reason="userunknown")
            )
    finally:
        store.close()
    for transport, expected in (("simulator", True), ("direct", False)):
        shown = runner.invoke(app, ["trace", sent[transport], "--json", "--data-dir", sent["data"]])
        assert shown.exit_code == 0, shown.stderr
        [bounce] = [e for e in json.loads(shown.stdout)["events"] if e["type"] == "bounced"]
        assert bounce["simulated"] is expected
        text = runner.invoke(
            app, ["trace", sent[transport], "--data-dir", sent["data"]], env={"COLUMNS": "200"}
        )
        [line] = [x for x in text.stdout.splitlines() if "5.1.1" in x and "bounce" in x.lower()]
        assert (f"({SIMULATED_LABEL['en']})" in line) is expected
