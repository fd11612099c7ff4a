"""``mailfate worker --verbose`` logs one line per attempt: recipient, reply, fate."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from mailfate.client import Client
from mailfate.config import load_settings
from tests.support.serve import clean_env


def test_verbose_logs_each_attempt(tmp_path: Path) -> None:
    data = tmp_path / "d"
    settings = load_settings(None, data_dir=data)
    with Client(settings.url, settings=settings) as client:
        sent = client.send(from_="a@app.example", to="kim@accept.mailfate.test", subject="s", text="t")
        args = [
            "worker",
            "--verbose",
            "--json",
            "--data-dir",
            str(data),
            "--inbound-port",
            "0",
            "--metrics-port",
            "-1",
        ]
        proc = subprocess.Popen(
            [sys.executable, "-m", "mailfate", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(),
        )
        try:
            assert proc.stdout is not None
            assert json.loads(proc.stdout.readline())["event"] == "ready"
            assert client.wait(sent.message_id, timeout=20).fate == "delivered"
        finally:
            time.sleep(0.2)
            proc.terminate()
            _, err = proc.communicate(timeout=30)
    lines = [line for line in err.splitlines() if "kim@accept.mailfate.test" in line]
    assert len(lines) == 1, err[-2000:]
    assert sent.message_id in lines[0] and " 250 " in lines[0] and "-> delivered" in lines[0]
