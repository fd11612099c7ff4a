"""Errors that help, from the real ``mailfate`` process: a port in use names the component and the
flag that moves it; under ``--json`` every error is one JSON object on standard error with the
exit code (README, "Exit codes")."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailfate.cli.output import EXIT_CODES, port_in_use, port_problem
from tests.support.serve import mailfate


@pytest.fixture
def busy() -> Iterator[int]:
    """A port another process (here: this one) listens on."""
    with socket.create_server(("127.0.0.1", 0)) as held:
        yield held.getsockname()[1]


def _only_json(stderr: str) -> dict[str, object]:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    found: dict[str, object] = json.loads(lines[0])
    return found


@pytest.mark.parametrize(
    ("command", "component", "flag"),
    [
        (["serve", "--no-workers", "--submission-port", "-1", "--http-port"], "the HTTP API", "--http-port"),
        (
            ["serve", "--no-workers", "--http-port", "0", "--submission-port"],
            "SMTP submission",
            "--submission-port",
        ),
        (
            ["serve", "--http-port", "0", "--submission-port", "-1", "--inbound-port"],
            "the inbound server",
            "--inbound-port",
        ),
        (["worker", "--metrics-port", "-1", "--inbound-port"], "the inbound server", "--inbound-port"),
        (["worker", "--inbound-port", "0", "--metrics-port"], "the /metrics endpoint", "--metrics-port"),
    ],
)
def test_a_port_in_use_names_the_component_and_the_flag(
    tmp_path: Path, busy: int, command: list[str], component: str, flag: str
) -> None:
    result = mailfate(*command, str(busy), "--data-dir", str(tmp_path))
    assert result.returncode == 2, result.stderr
    said = " ".join(result.stderr.split())
    assert f"port {busy} ({component}, `{flag}`) is in use" in said
    assert "Traceback" not in result.stderr


def test_under_json_a_port_in_use_is_one_json_object(tmp_path: Path, busy: int) -> None:
    result = mailfate(
        "serve", "--no-workers", "--submission-port", "-1", "--http-port", str(busy), "--json",
        "--data-dir", str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stdout == ""
    assert _only_json(result.stderr) == {
        "error": port_in_use(busy, "the HTTP API", "--http-port") + ": stop what holds it or choose another",
        "exit_code": 2,
    }


def test_under_json_every_kind_of_error_is_one_json_object(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]
    sent = mailfate(
        "send",
        "--from",
        "a@app.example",
        "--to",
        "kim@example.org",
        "--subject",
        "s",
        "--text",
        "t",
        "--json",
        *data,
    )
    assert sent.returncode == 0, sent.stderr
    missing = mailfate("trace", "m0000000000000000000000000[bold]", "--json", *data)
    assert missing.returncode == 2
    error = _only_json(missing.stderr)
    assert error["exit_code"] == 2 and "[bold]" in str(error["error"]) and "no message" in str(error["error"])
    usage = mailfate("trace", "--json", "--no-such-flag", *data)  # Click's own error, before the command
    assert usage.returncode == 2
    assert "--no-such-flag" in str(_only_json(usage.stderr)["error"])
    bad_config = tmp_path / "bad.toml"
    bad_config.write_text("[transports.x]\ntype = 'nope'\n")
    config = mailfate("queue", "--json", "--config", str(bad_config), *data)
    assert config.returncode == 2 and _only_json(config.stderr)["exit_code"] == 2


def test_without_json_an_error_is_one_line_for_people(tmp_path: Path) -> None:
    result = mailfate("trace", "m123", "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith("error: no store at") and not result.stderr.lstrip().startswith("{")


def test_exit_codes_are_documented() -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text("utf-8")
    section = readme.split("### Exit codes", 1)[1].split("\n#", 1)[0]
    for code in EXIT_CODES:
        assert f"| {code} |" in section, code


def test_port_problem_without_an_address_lists_what_the_command_listens_on() -> None:
    exc = OSError(98, "Address already in use")
    two = port_problem(
        exc, {2526: ("the inbound server", "--inbound-port"), 9100: ("/metrics", "--metrics-port")}
    )
    assert "2526 (the inbound server, `--inbound-port`)" in two and "9100 (/metrics, `--metrics-port`)" in two
    assert port_problem(OSError(13, "Permission denied"), {25: ("x", "--x")}).startswith("cannot start:")


def test_a_worker_with_a_helo_receivers_reject_does_not_start_and_says_how_to_set_it(tmp_path: Path) -> None:
    config = tmp_path / "mailfate.toml"
    config.write_text(
        '[delivery]\ntransport = "direct"\n[transports.direct]\ntype = "direct"\nhelo = "localhost"\n'
    )
    result = mailfate(
        "worker", "--config", str(config), "--data-dir", str(tmp_path), "--inbound-port", "0",
        "--metrics-port", "-1", "--json",
    )  # fmt: skip
    assert result.returncode == 2
    error = str(_only_json(result.stderr)["error"])
    assert "the HELO name 'localhost' (configured) is not fully qualified" in error
    assert '[transports.direct]\n    helo = "mail.example.com"' in error


@pytest.mark.parametrize(
    ("args", "component", "flag"),
    [
        (["--control-port", "0", "--port"], "the simulator's SMTP server", "--port"),
        (["--port", "0", "--control-port"], "the inbox and control page", "--http-port"),
        (["--port", "0", "--http-port"], "the inbox and control page", "--http-port"),
    ],
)
def test_the_simulator_names_its_port_in_use_too(
    tmp_path: Path, busy: int, args: list[str], component: str, flag: str
) -> None:
    result = mailfate(
        "simulator", "run", *args, str(busy), "--maildir", str(tmp_path / "m"),
        "--journal", str(tmp_path / "j.jsonl"), "--json",
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    said = _only_json(result.stderr)
    assert said["exit_code"] == 2 and f"port {busy} ({component}, `{flag}`) is in use" in str(said["error"])


def test_doctor_errors_are_json_under_json(tmp_path: Path) -> None:
    missing = mailfate(
        "doctor",
        "lint",
        str(tmp_path / "no-such.eml"),
        "--country",
        "KR",
        "--kind",
        "transactional",
        "--json",
    )
    assert missing.returncode == 2 and missing.stdout == ""
    assert "cannot read" in str(_only_json(missing.stderr)["error"])
