"""rate-limit end to end: N accepted messages per window per client IP, then 421 4.7.0."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mailfate.errors import ConfigError
from mailfate.simulator.config import load_config
from mailfate.simulator.runtime import Simulator
from tests.unit.simulator.simkit import FakeClock, send, serve


def test_limit_per_window_then_window_slides(tmp_path: Path) -> None:
    clock = FakeClock()
    overrides = {
        "domains": {"rl.test": {"personalities": ["rate-limit"], "rate-limit": {"messages": 2, "window": 60}}}
    }

    async def body(sim: Any) -> None:
        assert (await send(sim.port, ["a@rl.test"])).startswith("250")
        clock.advance(30)
        assert (await send(sim.port, ["b@rl.test"])).startswith("250")
        limited = await send(sim.port, ["c@rl.test"])
        assert (
            limited == "421 4.7.0 mx.mailfate.test Error: too many messages from 127.0.0.1, try again later"
        )
        clock.advance(30)  # the first message left the window
        assert (await send(sim.port, ["d@rl.test"])).startswith("250")
        assert (await send(sim.port, ["e@rl.test"])).startswith("421 4.7.0")

    serve(tmp_path, body, overrides, clock=clock)


def test_refused_rcpts_do_not_count(tmp_path: Path) -> None:
    overrides = {
        "domains": {
            "rl.test": {
                "personalities": ["unknown-users", "rate-limit"],
                "unknown-users": {"patterns": ["^nobody"]},
                "rate-limit": {"messages": 1, "window": 60},
            }
        }
    }

    async def body(sim: Any) -> None:
        for _ in range(3):
            assert (await send(sim.port, ["nobody@rl.test"])).startswith("550 5.1.1")
        assert (await send(sim.port, ["a@rl.test"])).startswith("250")
        assert (await send(sim.port, ["a@rl.test"])).startswith("421")

    serve(tmp_path, body, overrides, clock=FakeClock())


@pytest.mark.parametrize("options", [{"messages": 0}, {"window": "1m"}, {"burst": 3}])
def test_bad_options(options: dict[str, Any]) -> None:
    cfg = load_config(
        overrides={"domains": {"rl.test": {"personalities": ["rate-limit"], "rate-limit": options}}}
    )
    with pytest.raises(ConfigError, match=r'domains\."rl\.test"\.rate-limit'):
        Simulator(cfg)
