"""``mailfate send / trace / queue / suppression / demo`` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailfate.cli.app import app

runner = CliRunner()


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    for var in ("MAILFATE_CONFIG", "MAILFATE_STORE_URL", "MAILFATE_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    return ["--data-dir", str(tmp_path / "d")]


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_send_prints_an_id_and_trace_shows_the_timeline(data: list[str]) -> None:
    code, out, err = invoke(
        "send",
        "--from",
        "App <no-reply@app.example>",
        "--to",
        "kim@naver.test",
        "--template",
        "verification-code",
        "--var",
        "code=123456",
        "--lang",
        "ko",
        "--deadline",
        "10m",
        "--tag",
        "signup",
        "--json",
        *data,
    )
    assert code == 0, err
    mid = json.loads(out)["message_id"]
    code, out, _ = invoke("trace", mid, "--json", *data)
    view = json.loads(out)
    assert (
        view["fate"] == "queued" and view["deadline"] and view["recipients"][0]["address"] == "kim@naver.test"
    )
    assert [e["type"] for e in view["events"]] == ["queued"]
    code, out, _ = invoke("trace", mid, *data)
    assert code == 0 and "queued" in out and "인증번호" in out
    code, out, _ = invoke("queue", "--json", *data)
    assert json.loads(out)["counts"] == {"queued": 1}


def test_idempotency_key_and_bad_input(data: list[str]) -> None:
    args = [
        "send",
        "--from",
        "no-reply@app.example",
        "--to",
        "a@x.test",
        "--subject",
        "s",
        "--text",
        "t",
        "--json",
    ]
    first = json.loads(invoke(*args, "--idempotency-key", "k1", *data)[1])
    again = json.loads(invoke(*args, "--idempotency-key", "k1", *data)[1])
    assert again == {"message_id": first["message_id"], "existing": True}
    code, _, err = invoke(
        "send",
        "--from",
        "no-reply@app.example",
        "--to",
        "not-an-address",
        "--subject",
        "s",
        "--text",
        "t",
        *data,
    )
    assert code == 2 and "not-an-address" in err
    code, _, err = invoke(
        "send",
        "--from",
        "a@app.example",
        "--to",
        "b@x.test",
        "--subject",
        "a\nBcc: c@d.test",
        "--text",
        "t",
        *data,
    )
    assert code == 2 and "injection" in err
    assert invoke("trace", "m" + "0" * 26, *data)[0] == 2


def test_suppression_list_add_remove_and_a_refused_send(data: list[str]) -> None:
    assert invoke("suppression", "add", "Kim@Naver.test", "--reason", "complaint", *data)[0] == 0
    code, out, _ = invoke("suppression", "list", "--json", *data)
    assert json.loads(out)["address"] == "kim@naver.test"
    code, out, _err = invoke(
        "send",
        "--from",
        "a@app.example",
        "--to",
        "kim@naver.test",
        "--subject",
        "s",
        "--text",
        "t",
        "--json",
        *data,
    )
    refused = json.loads(out)
    assert code == 1 and refused["fate"] == "suppressed" and refused["suppressed"][0]["reason"] == "complaint"
    assert invoke("suppression", "remove", "kim@naver.test", *data)[0] == 0
    assert invoke("suppression", "remove", "kim@naver.test", *data)[0] == 1
    assert (
        invoke(
            "send",
            "--from",
            "a@app.example",
            "--to",
            "kim@naver.test",
            "--subject",
            "s",
            "--text",
            "t",
            *data,
        )[0]
        == 0
    )


def test_demo_json_gives_one_line_per_scenario(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mailfate", "demo", "--json"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["scenario"] for r in rows] == [
        "delivered",
        "hard_bounce",
        "greylisted",
        "late_bounce",
        "complaint",
        "suppressed",
        "auth_softfail",
    ]
    assert all({"scenario", "to", "message_id", "fate", "reason", "attempts"} <= set(r) for r in rows)
    assert [r["fate"] for r in rows] == [
        "delivered",
        "bounced",
        "delivered",
        "bounced",
        "complained",
        "suppressed",
        "expired",
    ]


def test_config_show_merges_file_and_environment_and_hides_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.toml"
    path.write_text(
        '[transports.relay]\ntype = "relay"\nhost = "smtp.x.example"\npassword = "hunter2"\n'
        '[delivery]\ntransport = "relay"\n',
        "utf-8",
    )
    monkeypatch.setenv("MAILFATE_STORE_URL", "sqlite:///elsewhere.db")
    code, out, _ = invoke("config", "show", "--config", str(path), "--json")
    shown = json.loads(out)
    assert code == 0 and shown["transport"] == "relay" and shown["store_url"] == "sqlite:///elsewhere.db"
    assert shown["transports"]["relay"]["options"]["password"] == "(set)" and "hunter2" not in out
