"""A worker process's parts, wired from :class:`~mailfate.config.Settings`: the store, the
transports and router, the inbound server for asynchronous reports, the engine — and, when the
simulator transport has no address, a simulator started in the same event loop (the embedded
default: the whole path runs on a machine with no network)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mailfate.config import Settings, TransportSettings
from mailfate.delivery.dkim import DkimSigner
from mailfate.delivery.engine import Engine, EngineSettings
from mailfate.delivery.routing import Router
from mailfate.delivery.schedule import RetryPolicy
from mailfate.delivery.transports.base import Transport
from mailfate.errors import ConfigError
from mailfate.intake.smtp_inbound import InboundServer
from mailfate.model.verp import VerpCodec
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
        self.simulator: Any = None
        self.inbound: InboundServer | None = None
        self.engine: Engine | None = None
        self.store: Store | None = None

    async def start(self) -> None:
        s = self.settings
        store = self._store if self._store is not None else await asyncio.to_thread(Store.open, s.url)
        self.store = store
        codec = VerpCodec(s.verp_key(), s.verp_domain)
        signer = DkimSigner.from_directory(Path(s.dkim_keys)) if s.dkim_keys else DkimSigner()
        retry = RetryPolicy.from_config(s.retry) if s.retry else RetryPolicy()
        engine_box: list[Engine] = []

        async def sink(reports: list[Any], raw: bytes) -> None:
            await engine_box[0].on_inbound(reports, raw)

        async def prune(before: datetime) -> int:
            return await asyncio.to_thread(store.prune_reports, before)

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
        built: dict[str, Transport] = {}
        for name in {s.transport, *(r.transport for r in s.routes)}:
            built[name] = await self._transport(s.transport_settings(name))
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
            store,
            router,
            codec,
            signer=signer,
            retry=retry,
            settings=settings,
            clock=self.clock,
            observe=self.observe,
        )
        engine_box.append(self.engine)

    async def _transport(self, ts: TransportSettings) -> Transport:
        o = dict(ts.options)
        if ts.type == "simulator":
            from mailfate.delivery.transports.simulator import SimulatorTransport

            host, port = str(o.get("host", "")), int(o.get("port", 0))
            if not host:
                host, port = await self._start_simulator(o)
            return SimulatorTransport(host, port)
        if ts.type == "relay":
            from mailfate.delivery.transports.relay import RelayTransport

            if "host" not in o:
                raise ConfigError(f"transports.{ts.name}: a relay needs host (and port)")
            password = (
                os.environ.get(str(o["password_env"]), "")
                if o.get("password_env")
                else str(o.get("password", ""))
            )
            return RelayTransport(
                str(o["host"]),
                int(o.get("port", 587)),
                username=str(o.get("username", "")) or None,
                password=password or None,
                tls=str(o.get("tls", "starttls")),
            )
        if ts.type == "direct":
            from mailfate.delivery.limits import SiteLimits
            from mailfate.delivery.mx import make_async_resolver
            from mailfate.delivery.transports.direct import DirectTransport

            resolver = make_async_resolver(str(o["nameserver"])) if o.get("nameserver") else None
            sites = {
                str(name): (int(v.get("connections", 10)), float(v["rate"]) if v.get("rate") else None)
                for name, v in dict(o.get("sites", {})).items()
            }
            limits = SiteLimits(
                int(o.get("connections", 10)), rate=float(o["rate"]) if o.get("rate") else None, sites=sites
            )
            return DirectTransport(
                resolver,
                port=int(o.get("port", 25)),
                helo=str(o.get("helo", "")) or None,
                tls=str(o.get("tls", "opportunistic")),
                limits=limits,
            )
        if ts.type == "ses":
            from mailfate.delivery.transports.ses import SesTransport

            return SesTransport(
                str(o.get("region", "us-east-1")), configuration_set=o.get("configuration_set") or None
            )
        raise ConfigError(f"transports.{ts.name}: unknown type {ts.type!r}")

    async def _start_simulator(self, options: dict[str, Any]) -> tuple[str, int]:
        from mailfate.simulator.config import load_config
        from mailfate.simulator.runtime import Simulator

        assert self.inbound is not None
        overrides: dict[str, Any] = {"reports": {"smtp": f"{self.inbound.host}:{self.inbound.port}"}}
        for key, value in self.simulator_overrides.items():
            current = overrides.get(key)
            overrides[key] = (
                {**current, **value} if isinstance(current, dict) and isinstance(value, dict) else value
            )
        config = load_config(options.get("config") or None, overrides)
        folder = self.simulator_dir or self.settings.data_dir / "simulator"
        self.simulator = Simulator(config, maildir=folder / "maildir", journal=folder / "transactions.jsonl")
        await self.simulator.start()
        log.info("simulator started on %s:%s", self.simulator.host, self.simulator.port)
        return self.simulator.host, int(self.simulator.port)

    async def run(self, stop: asyncio.Event) -> None:
        if self.engine is None:
            await self.start()
        assert self.engine is not None
        try:
            await self.engine.run(stop)
        finally:
            await self.stop()

    async def stop(self) -> None:
        if self.engine is not None:
            await self.engine.aclose()
        if self.inbound is not None:
            with contextlib.suppress(Exception):
                await self.inbound.stop()
        if self.simulator is not None:
            await self.simulator.stop()
        if self.store is not None and self._store is None:
            self.store.close()
