"""``mailfate serve``'s process: the HTTP API and the dashboard, SMTP submission, the rollup fold,
outgoing webhooks, and — unless the workers run elsewhere — the delivery workers and the inbound
report server, all in one event loop."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from mailfate.client import Client
from mailfate.config import Settings
from mailfate.errors import MailfateError
from mailfate.intake.api.app import create_app
from mailfate.intake.api.ses_keys import load_master
from mailfate.intake.ports import ApiRepositories, SubmissionRepositories
from mailfate.intake.smtp_submission import SubmissionServer
from mailfate.intake.sns import SnsVerifier
from mailfate.intake.tls import self_signed, server_context
from mailfate.runtime.background import start_webhooks
from mailfate.runtime.process import settle
from mailfate.runtime.worker_service import WorkerService
from mailfate.store import Store
from mailfate.store.engine import redact_url
from mailfate.tracking.fault import facts_from_settings
from mailfate.tracking.metrics import Metrics
from mailfate.tracking.ports import MetricsRepositories
from mailfate.tracking.rollup import fold_forever
from mailfate.web.dashboard import mount_dashboard
from mailfate.web.deps import DashboardRepositories

__all__ = ["ServeOptions", "build_app", "serve"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServeOptions:
    http_host: str = "127.0.0.1"
    http_port: int = 8025
    """0: any free port."""
    submission_port: int = 2587
    """0: any free port; -1: no SMTP submission."""
    workers: bool = True
    """Run the delivery workers and the inbound report server here (else ``mailfate worker``)."""
    webhooks: bool = True


def build_app(store: Store, client: Client, **options: Any) -> FastAPI:
    """The HTTP API with the dashboard mounted on it (both sign in with the same keys)."""
    app = create_app(ApiRepositories.of(store), client, **options)
    sender = facts_from_settings(client.settings)
    mount_dashboard(app, DashboardRepositories.of(store), app.state.api.keys.lookup, sender=sender)
    return app


@dataclass(slots=True)
class _Parts:
    store: Store
    client: Client
    service: WorkerService | None
    submission: SubmissionServer | None = None


async def serve(
    settings: Settings, options: ServeOptions, stop: asyncio.Event, ready: Callable[[dict[str, Any]], None]
) -> None:
    """Run until ``stop`` is set; ``ready`` gets what listens where once everything has started."""
    metrics = Metrics()
    api_socket = _bind(options.http_host, options.http_port)  # first: a port in use says which
    try:
        parts = await _start_parts(settings, options, metrics)
    except BaseException:
        api_socket.close()
        raise
    app = build_app(
        parts.store,
        parts.client,
        metrics=metrics,
        sns=SnsVerifier(settings.sns_topics, seen=parts.store.sns) if settings.sns_topics else None,
        rate_per_key=settings.api_per_key,
        burst_per_key=settings.api_burst,
    )
    app.state.aws_master = load_master(settings.data_dir)  # the SES endpoint's AWS keys (ses_keys)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=options.http_host,
            port=options.http_port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
    )
    hooks = start_webhooks(settings, parts.store, stop) if options.webhooks else []
    api = asyncio.create_task(server.serve(sockets=[api_socket]))
    folding = asyncio.create_task(fold_forever(parts.store.rollups, stop))
    exiting = asyncio.create_task(_exit_on(stop, server))
    try:
        port = await _listening(server, api, options)
        settle()
        ready(_ready_line(settings, options, parts, port))
        if parts.service is not None:
            await parts.service.run(stop)
        else:
            await stop.wait()
    finally:
        server.should_exit = True
        stop.set()
        for ended in await asyncio.gather(api, folding, exiting, *hooks, return_exceptions=True):
            if isinstance(ended, Exception):  # every part is waited for; none ends silently
                log.error("serve: a part ended with an error", exc_info=ended)
        if parts.submission is not None:
            await parts.submission.stop()
        if parts.service is None:
            parts.store.close()


async def _start_parts(settings: Settings, options: ServeOptions, metrics: Metrics) -> _Parts:
    """The store (through the workers when they run here), the client, SMTP submission."""
    service: WorkerService | None = None
    wake: Callable[[], None] | None = None
    if options.workers:
        service = WorkerService(settings, observe=metrics.observe)
        await service.start()
        assert service.store is not None and service.engine is not None
        store, engine, loop = service.store, service.engine, asyncio.get_running_loop()

        def wake() -> None:  # called from the API's worker threads
            loop.call_soon_threadsafe(engine.wake)

    else:  # the API alone: workers run elsewhere (`mailfate worker`) on the same store
        store = await asyncio.to_thread(Store.open, settings.url)
    metrics.watch(MetricsRepositories.of(store))
    parts = _Parts(store, Client(store, settings=settings, on_submit=wake), service)
    if options.submission_port >= 0:
        if settings.submission_cert:  # a CA's certificate: clients verify it like any server's
            cert, key = Path(settings.submission_cert), Path(settings.submission_key)
        else:
            cert, key = self_signed(settings.data_dir)
        parts.submission = SubmissionServer(
            SubmissionRepositories.of(store),
            parts.client,
            server_context(cert, key),
            host=options.http_host,
            port=options.submission_port,
            rate_per_key=settings.submission_per_key,
        )
        await parts.submission.start()
    return parts


def _bind(host: str, port: int) -> socket.socket:
    """The HTTP API's listening socket; an ``OSError`` naming the address (uvicorn would only log
    the error and exit)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        raise OSError(exc.errno, f"the HTTP API cannot listen on ({host!r}, {port}): {exc.strerror}") from exc


async def _exit_on(stop: asyncio.Event, server: uvicorn.Server) -> None:
    await stop.wait()
    server.should_exit = True


async def _listening(server: uvicorn.Server, api: asyncio.Task[None], options: ServeOptions) -> int:
    """The HTTP API's port once it listens; MailfateError if it could not start."""
    while not server.started and not api.done():
        await asyncio.sleep(0.02)
    if api.done():
        await api
        raise MailfateError(f"the HTTP API could not start on {options.http_host}:{options.http_port}")
    return int(server.servers[0].sockets[0].getsockname()[1])


def _ready_line(settings: Settings, options: ServeOptions, parts: _Parts, port: int) -> dict[str, Any]:
    inbound = parts.service.inbound if parts.service else None
    return {
        "event": "ready",
        "http": f"http://{options.http_host}:{port}",
        "inbound": f"{inbound.host}:{inbound.port}" if inbound else None,
        "submission": f"{options.http_host}:{parts.submission.port}" if parts.submission else None,
        "store": redact_url(settings.url),
    }
