"""The demo's scenarios as data, for the report's golden files (``test_report_golden.py``).

``demo_views.json`` holds, per scenario of ``mailfate demo``, the message as the store gives it back
(its recipients and every event) and the receivers' health rows, from a real run of the demo
(simulator, engine, inbound server on loopback), its times shifted so the first message was
submitted at 2026-03-02 09:00:00 UTC. :func:`capture` makes it again from a fresh run; the golden
test calls it when ``MAILFATE_GOLDEN=capture``.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mailfate.model import Event, MessageView, RecipientView

__all__ = ["BASE", "FIXTURE", "capture", "load"]

HERE = Path(__file__).parent
FIXTURE = HERE / "golden" / "demo_views.json"
BASE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ENVELOPE = "bounces.mailfate.test"
"""The demo's VERP domain (the default ``[verp] domain``)."""


def _shift(value: Any, delta: timedelta) -> Any:
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return (datetime.fromisoformat(value) + delta).isoformat()
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: _shift(v, delta) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, delta) for v in value]
    return value


def _view_json(view: MessageView) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(view):
        value = getattr(view, f.name)
        if f.name == "recipients":
            value = [{g.name: getattr(r, g.name) for g in fields(r)} for r in value]
        elif f.name == "events":
            value = [{g.name: getattr(e, g.name) for g in fields(e)} for e in value]
        out[f.name] = value
    encoded = json.dumps(out, default=lambda v: v.isoformat() if isinstance(v, datetime) else list(v))
    decoded: dict[str, Any] = json.loads(encoded)
    return decoded


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _view(data: dict[str, Any]) -> MessageView:
    recipients = tuple(
        RecipientView(**{**r, "next_attempt_at": _when(r["next_attempt_at"])}) for r in data["recipients"]
    )
    events = tuple(Event(**{**e, "at": datetime.fromisoformat(e["at"])}) for e in data["events"])
    return MessageView(
        **{
            **data,
            "created_at": datetime.fromisoformat(data["created_at"]),
            "deadline": _when(data["deadline"]),
            "expires_at": datetime.fromisoformat(data["expires_at"]),
            "tags": tuple(data["tags"]),
            "recipients": recipients,
            "events": events,
        }
    )


def load() -> dict[str, tuple[MessageView, list[dict[str, Any]]]]:
    """Scenario name → (the message's view, the health rows of its receiver)."""
    raw = json.loads(FIXTURE.read_text("utf-8"))
    return {name: (_view(item["view"]), item["health"]) for name, item in raw.items()}


def capture() -> None:
    """Run the demo (a real simulator and engine on loopback) and write :data:`FIXTURE`."""
    from mailfate.cli.demo import SCENARIOS, run_demo
    from mailfate.doctor.inquiry import _health
    from mailfate.store import Store

    with tempfile.TemporaryDirectory(prefix="mailfate-golden-") as tmp:
        rows = asyncio.run(run_demo(Path(tmp), lambda rows: None))
        store = Store.open(Path(tmp) / "mailfate.db")
        try:
            store.rollups.catch_up_rollups(datetime.now(UTC))
            views = {
                sc.name: store.messages.message(row["message_id"])
                for sc, row in zip(SCENARIOS, rows, strict=True)
            }
            start = min(v.created_at for v in views.values() if v is not None)
            delta = BASE - start
            out: dict[str, Any] = {}
            for name, view in views.items():
                assert view is not None, name
                health = _health(store, start - timedelta(days=7), view.recipients[0].domain)
                out[name] = {"view": _shift(_view_json(view), delta), "health": health}
        finally:
            store.close()
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", "utf-8")
