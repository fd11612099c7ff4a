"""The heartbeat as a user meets it, with real processes: ``mailfate send`` says once that no
worker runs (none ever, or since a worker stopped), and says nothing while ``mailfate worker`` or
``mailfate serve`` (its embedded workers) runs; ``serve --no-workers`` alone is no worker."""

from __future__ import annotations

from pathlib import Path

from mailfate.client import Client
from mailfate.config import load_settings
from tests.support.serve import mailfate, running, serve_args


def send(data: Path, to: str = "kim@accept.mailfate.test") -> tuple[str, str]:
    done = mailfate(
        "send",
        "--from",
        "a@app.example",
        "--to",
        to,
        "--subject",
        "s",
        "--text",
        "t",
        "--data-dir",
        str(data),
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip(), done.stderr


def test_send_and_wait_follow_the_worker_process(tmp_path: Path) -> None:
    data = tmp_path / "d"
    first, err = send(data)
    assert err.count("no worker has ever run on this store") == 1
    worker = ("worker", "--data-dir", str(data), "--inbound-port", "0", "--metrics-port", "-1")
    with running(*worker):
        second, err = send(data)
        assert "no worker" not in err
        settings = load_settings(None, data_dir=data)
        with Client(settings.url, settings=settings) as client:
            for message_id in (first, second):  # the one sent before the worker started too
                view = client.wait(message_id, timeout=30)
                assert view.fate == "delivered" and view.no_worker is None
    _, err = send(data)  # SIGTERM is a clean stop: known at once, not 30 s later
    assert "no worker has run for" in err and "stopped at" in err


def test_serve_runs_workers_unless_told_not_to(tmp_path: Path) -> None:
    data = tmp_path / "d"
    serve = serve_args(data)
    with running(*serve, "--no-workers"):
        _, err = send(data)
        assert "no worker has ever run on this store" in err
    with running(*serve):
        _, err = send(data)
        assert "no worker" not in err
