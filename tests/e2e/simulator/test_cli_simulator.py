"""``mailfate simulator ...``: domains through Typer's runner, run as a real subprocess stopped by SIGINT.

Error paths (bad configuration, port in use, control page unreachable) must be one clear line and
exit code 2, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from typer.testing import CliRunner

from mailfate.cli.app import app

pytest.importorskip("mailfate.simulator.config")

runner = CliRunner()
MAILFATE = Path(sys.executable).parent / "mailfate"
MSG = (
    b"From: a@app.example\r\nTo: x@accept.mailfate.test\r\nSubject: hi\r\n"
    b"Message-ID: <m1@app.example>\r\n\r\nhi\r\n"
)


def _one_error_line(result: Any) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, result.stderr
    return str(lines[0])


# -- domains --------------------------------------------------------------------------------------
def test_domains_json_lists_every_default_domain_once() -> None:
    result = runner.invoke(app, ["simulator", "domains", "--json"])
    assert result.exit_code == 0, result.output
    (doc,) = [json.loads(x) for x in result.stdout.splitlines() if x.strip()]
    domains = doc["domains"]
    assert domains["greylist.mailfate.test"]["personalities"] == ["greylist"]
    assert domains["naver.test"]["preset"] == "naver"
    assert "hanmail.test" in domains["daum.test"]["aliases"]
    assert "hanmail.test" not in domains
    assert doc["hostname"] == "mx.mailfate.test"


def test_domains_table_shows_domains_and_personalities() -> None:
    result = runner.invoke(app, ["simulator", "domains"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "strict-auth.mailfate.test" in result.stdout
    assert "mailbox-simulator" in result.stdout
    row = next(line for line in result.stdout.splitlines() if "daum.test" in line)
    assert "hanmail.test" in row


def test_domains_with_user_file_overlays_the_defaults(tmp_path: Path) -> None:
    cfg = tmp_path / "sim.toml"
    cfg.write_text(
        '[domains."corp.example"]\npersonalities = ["greylist", "unknown-users"]\n'
        'aliases = ["corp2.example"]\n'
    )
    result = runner.invoke(app, ["simulator", "domains", "--json", "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    domains = json.loads(result.stdout)["domains"]
    assert domains["corp.example"]["personalities"] == ["greylist", "unknown-users"]
    assert domains["corp.example"]["aliases"] == ["corp2.example"]
    assert "accept.mailfate.test" in domains


def test_bad_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[domains."x.test"]\npersonalities = ["no-such-personality"]\n')
    line = _one_error_line(runner.invoke(app, ["simulator", "domains", "--config", str(cfg)]))
    assert "no-such-personality" in line


def test_unparsable_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[server\nhostname = ")
    _one_error_line(runner.invoke(app, ["simulator", "run", "--config", str(cfg)]))


def test_missing_config_file_is_exit_2(tmp_path: Path) -> None:
    line = _one_error_line(
        runner.invoke(app, ["simulator", "domains", "--config", str(tmp_path / "no.toml")])
    )
    assert "does not exist" in line


# -- status / reset against nothing ---------------------------------------------------------------
@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("verb", ["status", "reset-greylist"])
def test_unreachable_control_page_is_exit_2(verb: str, closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    line = _one_error_line(runner.invoke(app, ["simulator", verb, "--url", url]))
    assert "unreachable" in line


def test_status_against_an_smtp_server_says_what_listens_there() -> None:
    """The inbound report server (2526) answers SMTP: no traceback, one line naming the mix-up."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]

        def greet() -> None:
            conn, _ = server.accept()
            with conn:
                conn.sendall(b"220 mailfate.localhost mailfate inbound\r\n")
                conn.recv(4096)

        thread = threading.Thread(target=greet, daemon=True)
        thread.start()
        line = _one_error_line(
            runner.invoke(app, ["simulator", "status", "--url", f"http://127.0.0.1:{port}"])
        )
        thread.join(5)
    assert "does not answer HTTP" in line and "2625" in line


def test_run_on_a_port_in_use_is_exit_2(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        args = ["simulator", "run", "--port", str(port), "--control-port", "0"]
        args += ["--maildir", str(tmp_path / "m"), "--journal", str(tmp_path / "j.jsonl")]
        line = _one_error_line(runner.invoke(app, args))
    assert str(port) in line


# -- run as a real process ------------------------------------------------------------------------
@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    if not MAILFATE.exists():
        pytest.skip(f"{MAILFATE} is not installed (pip install -e .)")
    args = [str(MAILFATE), "simulator", "run", "--json", "--port", "0"]  # control page on a free port
    args += ["--maildir", str(tmp_path / "maildir"), "--journal", str(tmp_path / "journal.jsonl")]
    args += ["--greylist-delay", "5"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        first = lines.get(timeout=30)
    except queue.Empty:
        proc.kill()
        pytest.fail("no JSON line from `mailfate simulator run` within 30 s")
    if not first:
        proc.wait(timeout=10)
        pytest.fail(f"simulator exited: {proc.stderr.read() if proc.stderr else ''}")
    try:
        yield proc, json.loads(first)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def test_run_serves_stores_counts_and_stops_on_sigint(
    running: tuple[subprocess.Popen[str], dict[str, Any]], tmp_path: Path
) -> None:
    proc, info = running
    port = info["smtp"]["port"]
    assert info["smtp"]["host"] == "127.0.0.1" and port > 0
    assert info["domains"]["accept.mailfate.test"]["personalities"] == ["accept"]
    assert info["control_url"].startswith("http://127.0.0.1:")

    async def send() -> tuple[Any, Any]:
        client = aiosmtplib.SMTP(
            hostname="127.0.0.1", port=port, local_hostname="out.app.example", timeout=10
        )
        async with client:
            ok = await client.sendmail("a@app.example", ["x@accept.mailfate.test"], MSG)
            with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as grey:
                await client.sendmail("a@app.example", ["x@greylist.mailfate.test"], MSG)
        return ok, grey.value.recipients[0]

    (refused, reply), grey = asyncio.run(send())
    assert refused == {} and reply.startswith("2.0.0")
    assert grey.code == 451
    stored = list((tmp_path / "maildir" / "accept.mailfate.test").glob("*.eml"))
    assert len(stored) == 1
    assert b"Message-ID: <m1@app.example>" in stored[0].read_bytes()

    url = info["control_url"]
    status = runner.invoke(app, ["simulator", "status", "--url", url, "--json"])
    assert status.exit_code == 0, status.output
    doc = json.loads(status.stdout)
    assert doc["domains"]["accept.mailfate.test"]["outcomes"]["accepted"] == 1
    assert doc["domains"]["greylist.mailfate.test"]["outcomes"]["deferred"] == 1
    table = runner.invoke(app, ["simulator", "status", "--url", url], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    row = next(line for line in table.stdout.splitlines() if "accept.mailfate.test" in line)
    cells = [c.strip() for c in row.split("│") if c.strip()]
    assert cells[-4:] == ["1", "0", "0", "0"]  # accepted, deferred, rejected, dropped
    reset = runner.invoke(app, ["simulator", "reset-greylist", "--url", url, "--json"])
    assert reset.exit_code == 0, reset.output
    assert json.loads(reset.stdout) == {"forgotten": 1}

    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 0
    err = proc.stderr.read() if proc.stderr else ""
    assert "Traceback" not in err, err
    journal = [json.loads(x) for x in (tmp_path / "journal.jsonl").read_text().splitlines() if x.strip()]
    assert len(journal) >= 2
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_run_stops_on_sigterm(running: tuple[subprocess.Popen[str], dict[str, Any]]) -> None:
    proc, _ = running
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0


def test_run_answers_real_names_and_every_other_domain_by_default(
    running: tuple[subprocess.Popen[str], dict[str, Any]], tmp_path: Path
) -> None:
    """A standalone simulator serves like the embedded one: kim@naver.com and any domain get 250."""
    proc, info = running
    assert info["domains"]["naver.com"]["preset"] == "naver"
    assert "hotmail.com" in info["domains"]["outlook.com"]["aliases"]

    async def send() -> list[tuple[dict[str, Any], str]]:
        client = aiosmtplib.SMTP(
            hostname="127.0.0.1", port=info["smtp"]["port"], local_hostname="out.app.example", timeout=10
        )
        async with client:
            return [
                await client.sendmail("a@app.example", [rcpt], MSG)
                for rcpt in ("kim@naver.com", "lee@hanmail.net", "ops@customer-company.example")
            ]

    assert all(refused == {} and reply.startswith("2.0.0") for refused, reply in asyncio.run(send()))
    assert len(list((tmp_path / "maildir" / "daum.net").glob("*.eml"))) == 1
    assert len(list((tmp_path / "maildir" / "customer-company.example").glob("*.eml"))) == 1
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
