"""``mailfate worker``: deliver what the store holds, take asynchronous reports, until stopped."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Annotated, Any

import typer
from rich.markup import escape

from mailfate.cli.messages import ConfigOpt, DataOpt, JsonOpt, fail, settings_for
from mailfate.cli.output import emit_json, err_console, port_problem
from mailfate.errors import MailfateError

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
    from mailfate.cli.serve import stop_on_signals
    from mailfate.runtime import WorkerOptions, loop_factory, work

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    if verbose:  # mailfate's own lines (one per attempt), not the libraries' chatter
        logging.getLogger("mailfate").setLevel(logging.INFO)
    settings = settings_for(config, data_dir)
    if inbound_port is not None:
        settings = replace(settings, inbound_port=inbound_port)

    def ready(info: dict[str, Any]) -> None:
        if json_out:
            emit_json({"event": "ready", **info})
            return
        err_console.print(
            "[green]worker ready[/]: "
            + escape(
                f"store {info['store']}, inbound reports on {info['inbound']}"
                + (f", simulator on {info['simulator']}" if info["simulator"] else "")
                + (f", metrics on {info['metrics']}" if info["metrics"] else "")
            )
        )

    async def main() -> None:
        await work(settings, WorkerOptions(metrics_host, metrics_port), stop_on_signals(), ready)
        if json_out:
            emit_json({"event": "stopped"})

    try:
        with asyncio.Runner(loop_factory=loop_factory()) as runner:  # uvloop, as serve's
            runner.run(main())
    except MailfateError as exc:
        raise fail(str(exc)) from exc
    except OSError as exc:
        ports = {
            settings.inbound_port: ("the inbound server", "--inbound-port"),
            metrics_port: ("the /metrics endpoint", "--metrics-port"),
        }
        raise fail(port_problem(exc, ports)) from exc
