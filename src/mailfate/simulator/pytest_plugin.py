"""A pytest fixture running the simulator: ``mailfate_simulator``.

The fixture starts a :class:`~mailfate.simulator.runtime.SimulatorThread` (its own thread and
event loop, so tests stay synchronous) on 127.0.0.1, a free port, with the maildir and the
journal in ``tmp_path``, and yields it; it is stopped after the test. Configure it with the
``simulator`` marker::

    @pytest.mark.simulator(greylist_delay=5, overrides={"domains": {"x.test": {"personalities": ["accept"]}}})
    def test_something(mailfate_simulator):
        send_to(mailfate_simulator.host, mailfate_simulator.port)
        assert mailfate_simulator.stored("x.test")
        assert mailfate_simulator.counters()["total"]["accepted"] == 1

Marker keywords: ``overrides`` (a dict with the configuration file's schema), ``greylist_delay``
(seconds), ``config`` (a TOML file overlaid on the packaged defaults), ``clock`` (a
:class:`~mailfate.simulator.model.Clock`, e.g. a fake one the test advances), ``http`` (serve the
control app, the Mailpit-compatible API, on a free port: ``mailfate_simulator.http_url``;
default ``True``). The journal is ``tmp_path / "simulator.jsonl"``, the maildir
``tmp_path / "simulator-maildir"``.

``mailfate_inbox`` is the running simulator's inbox (:class:`~mailfate.simulator.waiting.SyncInbox`)::

    def test_sign_up(mailfate_simulator, mailfate_inbox):
        sign_up("alice@accept.mailfate.test", smtp_port=mailfate_simulator.port)
        code = mailfate_inbox.wait(to="alice@accept.mailfate.test", code=True, timeout=10)
        mailfate_inbox.set_rules([{"match": "*@naver.test", "reply": "451 4.7.1 DKIM soft fail", "times": 2}])
        assert [a.code for a in mailfate_inbox.attempts("kim@naver.test")] == [...]
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mailfate.simulator.config import load_config
from mailfate.simulator.runtime import SimulatorThread
from mailfate.simulator.waiting import SyncInbox

__all__ = ["mailfate_inbox", "mailfate_simulator", "pytest_configure"]

MARKER = (
    "simulator(overrides=None, greylist_delay=None, config=None, clock=None, http=True): "
    "configure the mailfate_simulator fixture"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)


@pytest.fixture
def mailfate_simulator(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SimulatorThread]:
    """A running simulator (``SimulatorThread``) configured by ``@pytest.mark.simulator``."""
    marker = request.node.get_closest_marker("simulator")
    kwargs: dict[str, Any] = dict(marker.kwargs) if marker else {}
    overrides: dict[str, Any] = dict(kwargs.get("overrides") or {})
    delay = kwargs.get("greylist_delay")
    if delay is not None:
        overrides["server"] = {**overrides.get("server", {}), "greylist_delay": delay}
    config = load_config(kwargs.get("config"), overrides)
    sim = SimulatorThread(
        config,
        maildir=tmp_path / "simulator-maildir",
        journal=tmp_path / "simulator.jsonl",
        clock=kwargs.get("clock"),
        http_port=0 if kwargs.get("http", True) else None,
    )
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def mailfate_inbox(mailfate_simulator: SimulatorThread) -> SyncInbox:
    """The inbox of ``mailfate_simulator``: ``wait(to=..., code=True)``, ``attempts(to)``, ``set_rules``."""
    return mailfate_simulator.inbox
