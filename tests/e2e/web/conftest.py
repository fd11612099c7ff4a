"""A real ``mailfate serve`` process with a few messages already at their fates, for the dashboard;
a headless Chromium (Debian's ``chromium``, driven by Playwright) for the tests that look at it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.chromium import headless_chromium
from tests.support.serve import mailfate, running, serve_args

SCENARIOS = {
    "ok1@accept.mailfate.test": "delivered",
    "ok2@accept.mailfate.test": "delivered",
    "ok3@accept.mailfate.test": "delivered",
    "bounce@simulator.mailfate.test": "bounced",
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from headless_chromium()


def read_key(data: Any) -> str:
    """A new key that may read, in the store of the data directory ``data``."""
    created = mailfate("keys", "create", "--scope", "read", "--json", "--data-dir", str(data))
    return str(json.loads(created.stdout)["key"])


def wait_for(condition: Any, timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="package")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data = tmp_path_factory.mktemp("dashboard")
    keys = {
        scope: json.loads(
            mailfate("keys", "create", "--scope", scope, "--json", "--data-dir", str(data)).stdout
        )["key"]
        for scope in ("send", "read")
    }
    args = serve_args(data)
    with (
        running(*args) as ready,
        httpx.Client(
            base_url=ready["http"], headers={"Authorization": f"Bearer {keys['send']}"}, timeout=20
        ) as send,
        httpx.Client(
            base_url=ready["http"], headers={"Authorization": f"Bearer {keys['read']}"}, timeout=20
        ) as read,
    ):
        ids = {}
        for address in SCENARIOS:
            answer = send.post(
                "/v1/messages",
                json={
                    "from": "App <no-reply@app.example>",
                    "to": [address],
                    "subject": "<script>alert(1)</script> 인증 코드",
                    "text": "123456",
                    "tags": ["signup"],
                },
            )
            assert answer.status_code == 202, answer.text
            ids[address] = answer.json()["message_id"]
        for address, fate in SCENARIOS.items():
            wait_for(
                lambda a=address, f=fate: read.get(f"/v1/messages/{ids[a]}").json()["fate"] == f,
                what=f"{address} {fate}",
            )
        yield {"url": ready["http"], "keys": keys, "ids": ids, "send": send, "read": read, "data": data}
