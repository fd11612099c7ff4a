"""Never lose a message: kill -9 the submitting application and the worker, mid-flight.

Delivery is at-least-once: after a worker is killed, recipients it held are tried again when
their lease runs out, so the receiver may see a message twice (only those in flight), never zero
times.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

from mailfate.simulator.config import load_config
from mailfate.simulator.runtime import SimulatorThread
from mailfate.store import Store

ROOT = Path(__file__).resolve().parents[3]
SUBMITTER = """
import sys
from mailfate.client import Client
from mailfate.config import load_settings
client = Client(sys.argv[1], settings=load_settings(None))
for i in range(100000):
    to = f"user{i}@accept.mailfate.test"
    sent = client.send(from_="no-reply@app.example", to=to, subject=f"n{i}", text="x")
    print(sent.message_id, flush=True)
"""


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILFATE_")}
    env["MAILFATE_DATA_DIR"] = str(tmp_path / "data")
    return env


def test_every_id_send_returned_survives_kill_9(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    Store.open(db).close()
    proc = subprocess.Popen(
        [sys.executable, "-c", SUBMITTER, str(db)],
        stdout=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    ids = []
    for line in proc.stdout:
        ids.append(line.strip())
        if len(ids) == 300:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(10)
    proc.stdout.close()
    store = Store.open(db)
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        for mid in ids:
            view = store.messages.message(mid)
            assert view is not None and view.fate == "queued" and len(view.events) == 1, mid
    finally:
        store.close()


def test_a_worker_killed_mid_batch_loses_nothing(tmp_path: Path) -> None:
    total = 1000
    config = load_config(overrides={"server": {"banner_delay": 0}})
    with SimulatorThread(config, maildir=tmp_path / "sim", journal=None) as sim:
        (tmp_path / "mailfate.toml").write_text(
            f'[store]\nurl = "{tmp_path / "store.db"}"\n'
            "[delivery]\nlease = 5\nconcurrency = 20\nbatch = 20\n"
            f'[transports.simulator]\ntype = "simulator"\nhost = "127.0.0.1"\nport = {sim.port}\n'
            "[inbound]\nport = 0\n",
            "utf-8",
        )
        store = Store.open(tmp_path / "store.db")
        from datetime import UTC, datetime

        from mailfate.client import Client
        from mailfate.config import load_settings

        settings = load_settings(tmp_path / "mailfate.toml")
        client = Client(store, settings=settings)
        ids = [
            client.send(
                from_="no-reply@app.example", to=f"u{i}@accept.mailfate.test", subject="s", text="t"
            ).message_id
            for i in range(total)
        ]
        cmd = [
            sys.executable,
            "-m",
            "mailfate",
            "worker",
            "--config",
            str(tmp_path / "mailfate.toml"),
            "--json",
        ]
        worker = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=_env(tmp_path), cwd=tmp_path)
        assert worker.stdout is not None
        assert json.loads(worker.stdout.readline())["event"] == "ready"
        deadline = time.monotonic() + 60
        while len(sim.stored("accept.mailfate.test")) < 60 and time.monotonic() < deadline:
            time.sleep(0.005)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        worker.stdout.close()
        stored_at_kill = len(sim.stored("accept.mailfate.test"))
        assert 0 < stored_at_kill < total, "the kill must land mid-run"
        leased = store.stats.counts().get("sending", 0)  # in flight: sent, maybe accepted, not yet recorded

        worker = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=_env(tmp_path), cwd=tmp_path)
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                counts = store.stats.counts()
                if counts.get("delivered", 0) == total:
                    break
                time.sleep(0.2)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(30)
            assert worker.stdout is not None
            worker.stdout.close()
        assert store.stats.counts() == {"delivered": total}
        for mid in ids[:: total // 20]:
            view = store.messages.message(mid)
            assert view is not None and view.fate == "delivered"
        arrived = len(sim.stored("accept.mailfate.test"))
        assert total <= arrived <= total + leased  # duplicates only for attempts that were in flight
        assert view is not None and datetime.now(UTC) > view.created_at
        store.close()
