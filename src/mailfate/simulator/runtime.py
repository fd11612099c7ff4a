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
import contextlib
import ssl
import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import dns.resolver

from mailfate.errors import ConfigError
from mailfate.simulator.config import SimulatorConfig, load_config
from mailfate.simulator.inbox import Inbox
from mailfate.simulator.journal import Counters, Journal, MailStore
from mailfate.simulator.model import Clock, Personality, ReportSink, Services, SystemClock
from mailfate.simulator.personalities import personality_class
from mailfate.simulator.personalities.greylist import Greylist
from mailfate.simulator.rules import Chaos, RuleBook
from mailfate.simulator.server import DomainRuntime, SimulatorHandler, SimulatorSMTP

if TYPE_CHECKING:
    from mailfate.simulator.control import ControlServer
    from mailfate.simulator.waiting import SyncInbox

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
        inbox: bool = True,
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
        server = self.config.server
        self.inbox: Inbox | None = (
            Inbox(server.inbox_max_messages, server.inbox_max_attempts) if inbox else None
        )
        """The received messages and the attempts (``None`` when turned off)."""
        if self.inbox is not None and maildir is not None:
            self.inbox.rebuild(maildir)
        self.rules = RuleBook()
        self.chaos = Chaos()
        self.handler = SimulatorHandler(
            self.config,
            self.domains,
            services=self.services,
            journal=self.journal,
            store=self.store,
            counters=self.counter_set,
            inbox=self.inbox,
            rules=self.rules,
            chaos=self.chaos,
        )
        self._server: asyncio.Server | None = None
        self._indexer: asyncio.Task[None] | None = None

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
        if self.inbox is not None:
            self._indexer = loop.create_task(_index_when_idle(self.inbox))
        self.ready.set()

    async def stop(self) -> None:
        if self._indexer is not None:
            self._indexer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._indexer
            self._indexer = None
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
    """A :class:`Simulator` on its own thread and event loop; ``start()`` blocks until it listens.

    ``http_port`` serves the control app (the Mailpit-compatible API, the web inbox) too: ``0``
    on a free port, ``None`` (the default) not at all; its address is :attr:`http_url`.
    """

    def __init__(
        self, *args: Any, http_port: int | None = None, http_host: str = "127.0.0.1", **kwargs: Any
    ) -> None:
        self.simulator = Simulator(*args, **kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._http = (http_host, http_port)
        self.control: ControlServer | None = None

    @property
    def http_url(self) -> str:
        """The control app's URL (``http://127.0.0.1:PORT``); ``""`` when it is not served."""
        return self.control.url if self.control is not None else ""

    @property
    def inbox(self) -> SyncInbox:
        """The inbox, with ``wait(to=..., code=True)`` for synchronous tests."""
        from mailfate.simulator.waiting import SyncInbox

        if self.simulator.inbox is None:
            raise RuntimeError("this simulator runs without an inbox (inbox=False)")
        return SyncInbox(self, self.simulator.inbox)

    async def _start(self) -> None:
        await self.simulator.start()
        host, port = self._http
        if port is not None:
            from mailfate.simulator.control import ControlServer

            self.control = ControlServer(self.simulator, host=host, port=port)
            await self.control.start()

    async def _stop(self) -> None:
        if self.control is not None:
            await self.control.stop()
        await self.simulator.stop()

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
                loop.run_until_complete(self._start())
            except BaseException as exc:
                started.set_exception(exc)
                loop.close()
                return
            started.set_result(None)
            loop.run_forever()
            loop.run_until_complete(self._stop())
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


INDEX_TICK = 0.05
"""Seconds between two rounds of parsing the new messages' summaries."""


async def _index_when_idle(inbox: Inbox) -> None:
    """Parse new summaries beside the SMTP traffic: 20 ms a round when no mail arrived during the
    last round (idle), 1 ms while mail is arriving, so a flood of mail is not slowed and a search
    after it is not the one that parses thousands of messages."""
    seen = inbox.accepted
    while True:
        await asyncio.sleep(INDEX_TICK)
        busy = inbox.accepted != seen
        seen = inbox.accepted
        inbox.index_pending(0.001 if busy else 0.02)
