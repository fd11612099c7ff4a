"""Every demo scenario end to end — real SMTP to the simulator, DSNs and ARF back to the inbound
server — on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from mailfate.cli.demo import run_demo
from mailfate.store import Store


def test_every_scenario_reaches_its_fate(store_url: str, tmp_path: Path) -> None:
    rows = asyncio.run(run_demo(tmp_path / "demo", lambda rows: None, timeout=45, store_url=store_url))
    by: dict[str, dict[str, Any]] = {r["scenario"]: r for r in rows}
    assert (by["delivered"]["fate"], by["delivered"]["attempts"]) == ("delivered", 1)
    assert (by["hard_bounce"]["fate"], by["hard_bounce"]["reason"]) == ("bounced", "userunknown")
    assert by["hard_bounce"]["suppressed"] is True
    assert by["greylisted"]["fate"] == "delivered" and by["greylisted"]["attempts"] >= 2
    assert (by["late_bounce"]["fate"], by["late_bounce"]["attempts"]) == ("bounced", 1)
    assert (by["complaint"]["fate"], by["complaint"]["suppressed"]) == ("complained", True)
    assert (by["suppressed"]["fate"], by["suppressed"]["attempts"]) == ("suppressed", 0)
    assert (by["auth_softfail"]["fate"], by["auth_softfail"]["reason"]) == ("expired", "authfailure")
    assert by["auth_softfail"]["attempts"] >= 2

    store = Store.open(store_url)
    try:
        late = store.messages.message(by["late_bounce"]["message_id"])
        assert late is not None
        kinds = [(e.type, e.data.get("outcome")) for e in late.events]
        assert kinds[:3] == [("queued", None), ("attempt", "delivered"), ("bounced", None)]
        grey = store.messages.message(by["greylisted"]["message_id"])
        assert grey is not None
        first = next(e for e in grey.events if e.type == "attempt")
        assert (first.data["outcome"], first.data["code"]) == ("deferred", 451)
        assert "greylisting" in first.data["rule_id"]
        assert "next_attempt_at" in first.data
    finally:
        store.close()
