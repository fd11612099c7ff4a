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

__all__ = ["worker_cmd"]


def worker_cmd(
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
    inbound_port: Annotated[
        int | None, typer.Option(help="Port of the inbound report server (0: any).")
    ] = None,
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
        service = WorkerService(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await service.start()
        assert service.inbound is not None and service.store is not None
        from mailfate.cli.webhooks import start_webhooks

        hooks = start_webhooks(settings, service.store, stop)  # outgoing webhooks and alerts, if any
        info = {
            "store": settings.url,
            "inbound": f"{service.inbound.host}:{service.inbound.port}",
            "verp_domain": settings.verp_domain,
            "transport": settings.transport,
            "simulator": f"{service.simulator.host}:{service.simulator.port}" if service.simulator else None,
        }
        if json_out:
            emit_json({"event": "ready", **info})
        else:
            err_console.print(
                f"[green]worker ready[/]: store {info['store']}, inbound reports on {info['inbound']}"
                + (f", simulator on {info['simulator']}" if info["simulator"] else "")
            )
        await service.run(stop)
        stop.set()
        await asyncio.gather(*hooks)
        if json_out:
            emit_json({"event": "stopped"})

    try:
        asyncio.run(main())
    except MailfateError as exc:
        raise fail(str(exc)) from exc
    except OSError as exc:
        raise fail(f"cannot start: {exc}") from exc
