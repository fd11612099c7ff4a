"""The simulator in-process: :class:`Simulator` in the running event loop, :class:`SimulatorThread`
on its own thread and loop (uvloop when available) for synchronous code and benchmarks.

::

    async with Simulator(load_config(), maildir=tmp / "mail", journal=tmp / "j.jsonl") as sim:
        ...  # send to 127.0.0.1:sim.port; sim.stored("accept.mailfate.test"); sim.counters()

``port=0`` (the default) binds a free port, readable from ``sim.port`` once ``ready`` is set.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ssl
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import dns.resolver

from mailfate.errors import ConfigError
from mailfate.simulator.config import SimulatorConfig, load_config
from mailfate.simulator.journal import Counters, Journal, MailStore
from mailfate.simulator.model import Clock, Personality, ReportSink, Services, SystemClock
from mailfate.simulator.personalities import personality_class
from mailfate.simulator.personalities.greylist import Greylist
from mailfate.simulator.server import DomainRuntime, SimulatorHandler, SimulatorSMTP

__all__ = ["Simulator", "SimulatorThread"]


class Simulator:
    """Every configured domain served on one SMTP port, in the running event loop."""

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        maildir: Path | None = None,
        journal: Path | None = None,
        clock: Clock | None = None,
        resolver: dns.resolver.Resolver | None = None,
        reports: ReportSink | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.config = config if config is not None else load_config()
        self.host = host
        self.port = port
        self.ready = asyncio.Event()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.maildir = maildir
        self.journal = Journal(journal)
        self.store = MailStore(maildir)
        self.counter_set = Counters()
        self.tls_context = tls_context
        if resolver is None and self.config.dns.nameserver:
            from mailfate.mailauth.dns import make_resolver

            resolver = make_resolver(self.config.dns.nameserver)
        if reports is None:
            from mailfate.simulator.reports import SmtpReportSink

            reports = SmtpReportSink(
                target=self.config.reports.smtp or None,
                store_dir=maildir / "_reports" if maildir else None,
                clock=self.clock,
                journal=self.journal.write,
                hostname=self.config.server.hostname,
            )
        self.reports = reports
        self.services = Services(self.clock, reports, self.config.server.hostname, resolver)
        self.domains = self._build_domains()
        self.handler = SimulatorHandler(
            self.config,
            self.domains,
            services=self.services,
            journal=self.journal,
            store=self.store,
            counters=self.counter_set,
        )
        self._server: asyncio.Server | None = None

    def _build_domains(self) -> dict[str, DomainRuntime]:
        built: dict[str, DomainRuntime] = {}
        out: dict[str, DomainRuntime] = {}
        for served, dom in self.config.domains.items():
            runtime = built.get(dom.name)
            if runtime is None:
                instances: list[Personality] = []
                for slug in dom.personalities:
                    try:
                        instances.append(personality_class(slug)(dom.options.get(slug, {}), self.services))
                    except ConfigError as exc:
                        raise ConfigError(f'domains."{dom.name}".{slug}: {exc}') from exc
                runtime = DomainRuntime(
                    dom.name, tuple(instances), dom.personalities, self.config.reply_book(dom.name)
                )
                built[dom.name] = runtime
            out[served] = runtime
        return out

    # -- life ----------------------------------------------------------------------------------
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        handler, tls = self.handler, self.tls_context
        self._server = await loop.create_server(
            lambda: SimulatorSMTP(handler, tls), self.host, self.port, backlog=1024, reuse_address=True
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        start = getattr(self.reports, "start", None)
        if start is not None:
            await start()
        self.ready.set()

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            tasks = []
            for proto in list(self.handler.live):
                if proto.transport is not None:
                    proto.transport.close()
                if proto._handler_coroutine is not None:
                    tasks.append(proto._handler_coroutine)
            if tasks:
                await asyncio.wait(tasks, timeout=5)
            await server.wait_closed()
        aclose = getattr(self.reports, "aclose", None)
        if aclose is not None:
            await aclose()
        self.journal.close()
        self.store.close()
        self.ready.clear()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # -- control -------------------------------------------------------------------------------
    def counters(self) -> dict[str, Any]:
        """``{"total": {outcome: n}, "domains": {d: {"personalities", "outcomes"}}, "personalities"}``."""
        return self.counter_set.snapshot()

    def reset_greylist(self) -> int:
        """Forget every greylist triplet of every domain; how many were forgotten."""
        seen: set[int] = set()
        count = 0
        for runtime in self.domains.values():
            for p in runtime.personalities:
                if isinstance(p, Greylist) and id(p) not in seen:
                    seen.add(id(p))
                    count += p.forget()
        return count

    def stored(self, domain: str) -> list[Path]:
        """The ``.eml`` files of a domain (an alias names its domain), oldest first."""
        runtime = self.domains.get(domain.lower())
        return self.store.stored(runtime.name if runtime else domain.lower())

    async def send_due_reports(self) -> int:
        """Send the late reports due now (the report sink's ``send_due``); how many."""
        send_due = getattr(self.reports, "send_due", None)
        if send_due is None:
            return 0
        return int(await send_due())


class SimulatorThread:
    """A :class:`Simulator` on its own thread and event loop; ``start()`` blocks until it listens."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.simulator = Simulator(*args, **kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return self.simulator.host

    @property
    def port(self) -> int:
        return self.simulator.port

    @property
    def config(self) -> SimulatorConfig:
        return self.simulator.config

    def start(self) -> SimulatorThread:
        started: concurrent.futures.Future[None] = concurrent.futures.Future()

        def run() -> None:
            try:
                import uvloop

                loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
            except ImportError:  # pragma: no cover - uvloop is pinned except on Windows
                loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.simulator.start())
            except BaseException as exc:
                started.set_exception(exc)
                loop.close()
                return
            started.set_result(None)
            loop.run_forever()
            loop.run_until_complete(self.simulator.stop())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

        self._thread = threading.Thread(target=run, name="mailfate-simulator", daemon=True)
        self._thread.start()
        started.result(timeout=30)
        return self

    def call(self, coro: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the simulator's loop and wait for its result."""
        assert self._loop is not None, "start() first"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        self._loop = self._thread = None

    def counters(self) -> dict[str, Any]:
        return dict(self.call(_value(self.simulator.counters)))

    def reset_greylist(self) -> int:
        return int(self.call(_value(self.simulator.reset_greylist)))

    def stored(self, domain: str) -> list[Path]:
        return self.simulator.stored(domain)

    def send_due_reports(self) -> int:
        return int(self.call(self.simulator.send_due_reports()))

    def __enter__(self) -> SimulatorThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def _value(fn: Any) -> Any:
    return fn()
