"""``mailfate simulator run --port N --http-port M`` as a process, ``mailfate simulator wait`` as
another: the code printed as soon as the mail arrives, exit 1 on timeout, the Mailpit API there."""

from __future__ import annotations

import json
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

MAILFATE = Path(sys.executable).parent / "mailfate"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[int, str]]:
    smtp, http = free_port(), free_port()
    proc = subprocess.Popen(
        [
            str(MAILFATE),
            "simulator",
            "run",
            "--port",
            str(smtp),
            "--http-port",
            str(http),
            "--json",
            "--maildir",
            str(tmp_path / "m"),
            "--journal",
            str(tmp_path / "j.jsonl"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        info = json.loads(proc.stdout.readline() or "{}")
        assert info.get("control_url") == f"http://127.0.0.1:{http}", (
            proc.stderr.read() if proc.stderr else ""
        )
        assert info["smtp"]["port"] == smtp
        yield smtp, info["control_url"]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=20)
            assert proc.returncode == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


def send(port: int, to: str, body: str) -> None:
    msg = f"From: app@app.example\r\nTo: {to}\r\nSubject: Verify\r\n\r\n{body}\r\n"
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        s.sendmail("bounce@app.example", [to], msg.encode())


def wait_cmd(url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(MAILFATE), "simulator", "wait", "--url", url, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_wait_prints_the_code_as_soon_as_it_arrives(running: tuple[int, str]) -> None:
    smtp, url = running
    waiting = wait_cmd(url, "--to", "new@accept.mailfate.test", "--code", "--timeout", "20")
    time.sleep(1.0)
    assert waiting.poll() is None  # nothing yet: it waits
    t0 = time.monotonic()
    send(smtp, "new@accept.mailfate.test", "Your verification code is 551177. It expires in 10 minutes.")
    out, err = waiting.communicate(timeout=20)
    assert waiting.returncode == 0, err
    assert out.strip() == "551177"
    assert time.monotonic() - t0 < 5
    # the message is now read: a second wait times out with exit 1 and one clear line
    again = wait_cmd(url, "--to", "new@accept.mailfate.test", "--timeout", "0.5")
    out, err = again.communicate(timeout=20)
    assert again.returncode == 1 and out == ""
    assert "no unread message for new@accept.mailfate.test" in err and "Traceback" not in err


def test_wait_counts_an_unread_message_that_arrived_before_and_prints_its_id(
    running: tuple[int, str],
) -> None:
    smtp, url = running
    send(smtp, "early@accept.mailfate.test", "PIN AB12CD")
    done = wait_cmd(url, "--to", "early@accept.mailfate.test", "--json", "--timeout", "5")
    out, err = done.communicate(timeout=20)
    assert done.returncode == 0, err
    found = json.loads(out)
    listed = httpx.get(f"{url}/api/v1/messages", timeout=10).json()["messages"]
    assert found["ID"] == listed[0]["ID"] and listed[0]["Read"] is True
    send(smtp, "early@accept.mailfate.test", "PIN ZX98QW")
    code = wait_cmd(
        url, "--to", "early@accept.mailfate.test", "--code", "--pattern", r"PIN (\w+)", "--timeout", "5"
    )
    out, err = code.communicate(timeout=20)
    assert (code.returncode, out.strip()) == (0, "ZX98QW"), err


def test_wait_against_nothing_is_exit_2(tmp_path: Path) -> None:
    done = wait_cmd(f"http://127.0.0.1:{free_port()}", "--to", "a@b.test", "--timeout", "1")
    _, err = done.communicate(timeout=20)
    assert done.returncode == 2 and "unreachable" in err and "Traceback" not in err
