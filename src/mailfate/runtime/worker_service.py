"""A worker process's parts, wired from :class:`~mailfate.config.Settings`: the store, the
transports and router, the inbound server for asynchronous reports, the engine — and, when the
simulator transport has no address, a simulator started in the same event loop (the embedded
default: the whole path runs on a machine with no network).

From ``start`` to ``stop`` the service writes its heartbeat to the store every
:data:`~mailfate.store.workers.BEAT_EVERY` seconds (:mod:`mailfate.store.workers`), so
``Client.wait`` and ``mailfate send`` can tell a sender when no worker is running."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mailfate.config import Settings
from mailfate.delivery.dkim import DkimSigner
from mailfate.delivery.engine import Engine, EngineSettings
from mailfate.delivery.ports import WorkerRepositories
from mailfate.delivery.routing import Router
from mailfate.delivery.schedule import RetryPolicy
from mailfate.delivery.transports.base import Transport
from mailfate.delivery.transports.registry import TransportContext, build_transport
from mailfate.intake.smtp_inbound import InboundServer
from mailfate.model.verp import VerpCodec
from mailfate.model.workers import BEAT_EVERY
from mailfate.simulator.config import load_config
from mailfate.simulator.runtime import Simulator
from mailfate.store import Store

__all__ = ["WorkerService"]

log = logging.getLogger(__name__)


class WorkerService:
    """``await start()``, ``await run(stop)`` or ``await stop()``; ``engine``, ``inbound`` and
    ``simulator`` (when one was started) are there after ``start``."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        simulator_overrides: dict[str, Any] | None = None,
        simulator_dir: Path | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        observe: Callable[..., None] | None = None,
    ) -> None:
        self.observe = observe
        self.settings = settings
        self._store = store
        self.simulator_overrides = simulator_overrides or {}
        self.simulator_dir = simulator_dir
        self.clock = clock
        self.simulator: Any = None  # a Simulator once one was started
        self.inbound: InboundServer | None = None
        self.engine: Engine | None = None
        self.store: Store | None = None
        self.worker_id = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
        """This worker's row in the store's heartbeats."""
        self._started_at = datetime.now(UTC)
        self._beating: asyncio.Task[None] | None = None

    async def start(self) -> None:
        s = self.settings
        store = self._store if self._store is not None else await asyncio.to_thread(Store.open, s.url)
        self.store = store
        await asyncio.to_thread(self._beat)  # alive from the start: a sender's wait sees it at once
        self._beating = asyncio.create_task(self._beat_forever())
        codec = VerpCodec(s.verp_key(), s.verp_domain)
        signer = DkimSigner.from_directory(Path(s.dkim_keys)) if s.dkim_keys else DkimSigner()
        retry = RetryPolicy.from_config(s.retry) if s.retry else RetryPolicy()
        engine_box: list[Engine] = []

        async def sink(reports: list[Any], raw: bytes) -> None:
            await engine_box[0].on_inbound(reports, raw)

        async def prune(before: datetime) -> int:
            return await asyncio.to_thread(store.messages.prune_reports, before)

        self.inbound = InboundServer(
            codec,
            sink,
            host=s.inbound_host,
            port=s.inbound_port,
            unmatched_dir=s.unmatched_dir,
            keep_days=s.keep_reports_days,
            prune=prune,
        )
        await self.inbound.start()
        context = TransportContext(source=s.source, start_simulator=self._start_simulator)
        built: dict[str, Transport] = {}
        for name in {s.transport, *(r.transport for r in s.routes)}:
            built[name] = await build_transport(s.transport_settings(name), context)
        router = Router([(r.domain, built[r.transport]) for r in s.routes], built[s.transport])
        settings = EngineSettings(
            concurrency=s.concurrency,
            batch=s.batch,
            lease=s.lease,
            suppress_after_soft=s.suppress_after_soft,
            pause_marketing=s.pause_marketing,
            pause_check=s.alert_interval,
        )
        self.engine = Engine(
            WorkerRepositories.of(store),
            router,
            codec,
            signer=signer,
            retry=retry,
            settings=settings,
            clock=self.clock,
            observe=self.observe,
        )
        engine_box.append(self.engine)

    def _beat(self) -> None:
        """One heartbeat (wall-clock time, whatever ``clock`` the engine is given)."""
        assert self.store is not None
        now = datetime.now(UTC)
        self.store.workers.worker_beat(
            self.worker_id, host=socket.gethostname(), pid=os.getpid(), started_at=self._started_at, now=now
        )

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(BEAT_EVERY)
            try:
                await asyncio.to_thread(self._beat)
            except Exception as exc:  # a busy or unreachable store: the next beat tries again
                log.warning("worker heartbeat: %s", exc)

    async def _stop_beating(self) -> None:
        if self._beating is None:
            return
        self._beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._beating
        self._beating = None
        assert self.store is not None
        with contextlib.suppress(Exception):  # a clean stop is known at once (else: silent for 30 s)
            await asyncio.to_thread(self.store.workers.worker_stopped, self.worker_id, now=datetime.now(UTC))

    async def _start_simulator(self, config: str | None) -> tuple[str, int]:
        """The embedded simulator (started once, for every ``simulator`` transport with no host);
        its late reports go to this worker's inbound server."""
        if self.simulator is not None:
            return self.simulator.host, int(self.simulator.port)
        assert self.inbound is not None
        overrides: dict[str, Any] = {"reports": {"smtp": f"{self.inbound.host}:{self.inbound.port}"}}
        for key, value in self.simulator_overrides.items():
            current = overrides.get(key)
            overrides[key] = (
                {**current, **value} if isinstance(current, dict) and isinstance(value, dict) else value
            )
        folder = self.simulator_dir or self.settings.data_dir / "simulator"
        simulator = Simulator(
            load_config(Path(config) if config else None, overrides),
            maildir=folder / "maildir",
            journal=folder / "transactions.jsonl",
        )
        await simulator.start()
        self.simulator = simulator
        log.info("simulator started on %s:%s", simulator.host, simulator.port)
        return simulator.host, int(simulator.port)

    async def run(self, stop: asyncio.Event) -> None:
        if self.engine is None:
            await self.start()
        assert self.engine is not None
        try:
            await self.engine.run(stop)
        finally:
            await self.stop()

    async def stop(self) -> None:
        await self._stop_beating()
        if self.engine is not None:
            await self.engine.aclose()
        if self.inbound is not None:
            with contextlib.suppress(Exception):
                await self.inbound.stop()
        if self.simulator is not None:
            await self.simulator.stop()
        if self.store is not None and self._store is None:
            self.store.close()
