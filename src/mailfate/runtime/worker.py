"""``mailfate worker``'s process: deliver, take asynchronous reports, serve ``/metrics``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mailfate.config import Settings
from mailfate.runtime.background import start_webhooks
from mailfate.runtime.process import settle
from mailfate.runtime.worker_service import WorkerService
from mailfate.store.engine import redact_url
from mailfate.tracking.metrics import Metrics
from mailfate.tracking.ports import MetricsRepositories

__all__ = ["WorkerOptions", "work"]


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0
    """0: any free port (named on the ready line); -1: no /metrics."""


async def work(
    settings: Settings, options: WorkerOptions, stop: asyncio.Event, ready: Callable[[dict[str, Any]], None]
) -> None:
    """Run until ``stop`` is set; ``ready`` gets what listens where once everything has started."""
    metrics = Metrics()
    service = WorkerService(settings, observe=metrics.observe)
    await service.start()
    assert service.inbound is not None and service.store is not None
    hooks = start_webhooks(settings, service.store, stop)  # outgoing webhooks and alerts, if any
    metrics.watch(MetricsRepositories.of(service.store))
    scrape, stop_metrics = None, None
    if options.metrics_port >= 0:
        host, port, stop_metrics = metrics.serve(options.metrics_host, options.metrics_port)
        scrape = f"http://{host}:{port}/metrics"
    settle()
    ready(
        {
            "store": redact_url(settings.url),
            "inbound": f"{service.inbound.host}:{service.inbound.port}",
            "verp_domain": settings.verp_domain,
            "transport": settings.transport,
            "simulator": f"{service.simulator.host}:{service.simulator.port}" if service.simulator else None,
            "metrics": scrape,
        }
    )
    try:
        await service.run(stop)
    finally:
        stop.set()
        await asyncio.gather(*hooks)
        if stop_metrics is not None:
            stop_metrics()
