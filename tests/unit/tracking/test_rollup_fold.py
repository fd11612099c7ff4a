"""The background fold: catches up in short batches, survives a failed round, stops when told."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mailfate.model import RollupQuery
from mailfate.store import Store
from mailfate.tracking.rollup import fold_forever
from tests.unit.engine.test_alerts import OK, send


def test_folds_in_batches_and_survives_a_failure(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = Store.open(tmp_path / "s.db")
    send(store, 30, "a@app.example", "naver.test", OK, at=datetime.now(UTC) - timedelta(minutes=1))
    calls: list[int] = []
    real = store.rollups.fold_rollups

    def flaky(now: datetime, *, batch: int = 20_000) -> int:
        calls.append(batch)
        if len(calls) == 2:
            raise RuntimeError("disk hiccup")
        return real(now, batch=batch)

    store.rollups.fold_rollups = flaky  # type: ignore[method-assign]

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(fold_forever(store.rollups, stop, interval=0.01, batch=7, pause=0))
        for _ in range(500):
            if store.rollups.rollup_backlog() == 0:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 5)

    asyncio.run(main())
    assert store.rollups.rollup_backlog() == 0
    assert set(calls) == {7} and len(calls) >= 60 // 7  # 60 events (queued + attempt) in batches of 7
    assert "folding events into the rollups failed" in caplog.text
    delivered: Any = [
        n
        for k, n in store.rollups.rollup_sums(RollupQuery(datetime.now(UTC) - timedelta(hours=2)))
        if k == "delivered"
    ]
    assert delivered == [30]
    store.close()
