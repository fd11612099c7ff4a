"""``mailfate worker``: deliver what the store holds, take asynchronous reports, until stopped."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Annotated

import typer

from mailfate.cli.messages import ConfigOpt, DataOpt, JsonOpt, fail, settings_for
from mailfate.cli.output import emit_json, err_console
from mailfate.errors import MailfateError
from mailfate.tracking.metrics import Metrics

__all__ = ["worker_cmd"]


def worker_cmd(  # noqa: PLR0917 - typer reads the options from the signature
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
    inbound_port: Annotated[
        int | None, typer.Option(help="Port of the inbound report server (0: any).")
    ] = None,
    metrics_host: Annotated[
        str, typer.Option(help="Address of the Prometheus /metrics endpoint.")
    ] = "127.0.0.1",
    metrics_port: Annotated[
        int, typer.Option(help="Port of the Prometheus /metrics endpoint (0: any free port, -1: none).")
    ] = 0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every attempt.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Run the delivery workers and the inbound server for bounces, complaints and auto-replies.

    Stops cleanly on SIGINT or SIGTERM: attempts in flight finish (or their lease runs out and
    another worker retries them: delivery is at-least-once).
    """
    from mailfate.delivery.service import WorkerService

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(message)s")
    settings = settings_for(config, data_dir)
    if inbound_port is not None:
        from dataclasses import replace

        settings = replace(settings, inbound_port=inbound_port)

    async def main() -> None:
        metrics = Metrics()
        service = WorkerService(settings, observe=metrics.observe)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await service.start()
        assert service.inbound is not None and service.store is not None
        from mailfate.cli.webhooks import start_webhooks

        hooks = start_webhooks(settings, service.store, stop)  # outgoing webhooks and alerts, if any
        metrics.watch(service.store)
        scrape, stop_metrics = None, None
        if metrics_port >= 0:
            host, port, stop_metrics = metrics.serve(metrics_host, metrics_port)
            scrape = f"http://{host}:{port}/metrics"
        info = {
            "store": settings.url,
            "inbound": f"{service.inbound.host}:{service.inbound.port}",
            "verp_domain": settings.verp_domain,
            "transport": settings.transport,
            "simulator": f"{service.simulator.host}:{service.simulator.port}" if service.simulator else None,
            "metrics": scrape,
        }
        if json_out:
            emit_json({"event": "ready", **info})
        else:
            err_console.print(
                f"[green]worker ready[/]: store {info['store']}, inbound reports on {info['inbound']}"
                + (f", simulator on {info['simulator']}" if info["simulator"] else "")
                + (f", metrics on {scrape}" if scrape else "")
            )
        await service.run(stop)
        stop.set()
        await asyncio.gather(*hooks)
        if stop_metrics is not None:
            stop_metrics()
        if json_out:
            emit_json({"event": "stopped"})

    try:
        asyncio.run(main())
    except MailfateError as exc:
        raise fail(str(exc)) from exc
    except OSError as exc:
        raise fail(f"cannot start: {exc}") from exc
