"""``mailfate serve``: the HTTP API, the workers and the inbound report server in one process;
``mailfate keys create|list|revoke``: the API's keys."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from mailfate.cli.messages import ConfigOpt, DataOpt, JsonOpt, fail, open_store, settings_for
from mailfate.cli.output import emit_json, err_console, out_console
from mailfate.errors import MailfateError

__all__ = ["config_app", "keys_app", "serve_cmd", "ses_app"]

keys_app = typer.Typer(help="API keys for the HTTP API (stored hashed; shown once).", no_args_is_help=True)


def serve_cmd(  # noqa: PLR0917 - Typer maps parameters to options
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
    http_host: Annotated[str, typer.Option(help="Address of the HTTP API.")] = "127.0.0.1",
    http_port: Annotated[int, typer.Option(help="Port of the HTTP API (0: any free port).")] = 8025,
    inbound_port: Annotated[int | None, typer.Option(help="Port of the inbound report server.")] = None,
    submission_port: Annotated[
        int, typer.Option(help="Port of the SMTP submission server (0: any free port; -1: off).")
    ] = 2587,
    workers: Annotated[
        bool,
        typer.Option(
            "--workers/--no-workers", help="Run the delivery workers here (or in `mailfate worker`)."
        ),
    ] = True,
    webhooks: Annotated[
        bool, typer.Option("--webhooks/--no-webhooks", help="Send the outgoing webhooks and alerts here.")
    ] = True,
    json_out: JsonOpt = False,
) -> None:
    """Run the HTTP API (/v1, docs at /v1/docs), the dashboard (/), SMTP submission (STARTTLS + AUTH
    with an API key), the delivery workers and the inbound report server."""
    import uvicorn

    from mailfate.client import Client
    from mailfate.delivery.service import WorkerService
    from mailfate.intake.api.app import create_app
    from mailfate.intake.sns import SnsVerifier
    from mailfate.store import Store

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    settings = settings_for(config, data_dir)
    if inbound_port is not None:
        settings = replace(settings, inbound_port=inbound_port)

    async def main() -> None:
        from mailfate.tracking.metrics import Metrics

        metrics = Metrics()
        loop = asyncio.get_running_loop()
        service: WorkerService | None = None
        wake: Callable[[], None] | None = None
        if workers:
            service = WorkerService(settings, observe=metrics.observe)
            await service.start()
            assert service.store is not None and service.engine is not None
            store = service.store
            engine = service.engine

            def wake() -> None:  # called from the API's worker threads
                loop.call_soon_threadsafe(engine.wake)

        else:  # the API alone: workers run elsewhere (`mailfate worker`) on the same store
            store = await asyncio.to_thread(Store.open, settings.url)
        metrics.watch(store)
        client = Client(store, settings=settings, on_submit=wake)
        submission = None
        if submission_port >= 0:
            from mailfate.intake.smtp_submission import SubmissionServer
            from mailfate.intake.tls import self_signed, server_context

            cert, key = self_signed(settings.data_dir)
            submission = SubmissionServer(
                store,
                client,
                server_context(cert, key),
                host=http_host,
                port=submission_port,
                rate_per_key=settings.submission_per_key,
            )
            await submission.start()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(
                    store,
                    client,
                    metrics=metrics,
                    sns=SnsVerifier(settings.sns_topics, seen=store) if settings.sns_topics else None,
                    rate_per_key=settings.api_per_key,
                    burst_per_key=settings.api_burst,
                ),
                host=http_host,
                port=http_port,
                log_level="warning",
                lifespan="off",
                access_log=False,
            )
        )
        stop = asyncio.Event()

        def shutdown() -> None:
            stop.set()
            server.should_exit = True

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, shutdown)
        from mailfate.cli.webhooks import start_webhooks

        hooks = start_webhooks(settings, store, stop) if webhooks else []
        api = asyncio.create_task(server.serve())
        from mailfate.tracking.rollup import fold_forever

        folding = asyncio.create_task(fold_forever(store, stop))
        while not server.started and not api.done():
            await asyncio.sleep(0.02)
        if api.done():
            await api
            raise MailfateError(f"the HTTP API could not start on {http_host}:{http_port}")
        port = server.servers[0].sockets[0].getsockname()[1]
        info = {
            "event": "ready",
            "http": f"http://{http_host}:{port}",
            "inbound": f"{service.inbound.host}:{service.inbound.port}"
            if service and service.inbound
            else None,
            "submission": f"{http_host}:{submission.port}" if submission else None,
            "store": settings.url,
        }
        if json_out:
            emit_json(info)
        else:
            err_console.print(
                f"[green]serving[/]: API {info['http']}/v1 (docs /v1/docs), SMTP submission on "
                f"{info['submission'] or 'off'}, workers and inbound reports "
                f"{'on ' + str(info['inbound']) if info['inbound'] else 'elsewhere'}, store {info['store']}"
            )
        try:
            if service is not None:
                await service.run(stop)
            else:
                await stop.wait()
        finally:
            server.should_exit = True
            stop.set()
            await api
            await folding
            await asyncio.gather(*hooks)
            if submission is not None:
                await submission.stop()
            if service is None:
                store.close()

    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(main())
    except MailfateError as exc:
        raise fail(str(exc)) from exc
    except OSError as exc:
        raise fail(f"cannot start: {exc}") from exc


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (it is a dependency off Windows): the HTTP server,
    SMTP submission and the workers spend most of their time in the loop."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


@keys_app.command("create")
def create_cmd(
    scope: Annotated[str, typer.Option(help="Comma-separated: send, read, admin.")] = "send,read",
    name: Annotated[str, typer.Option(help="A label for people.")] = "",
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Print a new API key (it is stored hashed: save it now)."""
    store = open_store(settings_for(config, data_dir))
    try:
        key = store.create_key(
            {s.strip() for s in scope.split(",") if s.strip()}, at=datetime.now(UTC), name=name
        )
    except MailfateError as exc:
        raise fail(str(exc)) from exc
    finally:
        store.close()
    if json_out:
        emit_json({"key": key})
    else:
        out_console.print(key)


@keys_app.command("list")
def list_cmd(config: ConfigOpt = None, data_dir: DataOpt = None, json_out: JsonOpt = False) -> None:
    """The keys: prefix, name, scopes, when made, whether revoked (never the key itself)."""
    store = open_store(settings_for(config, data_dir))
    try:
        keys = store.list_keys()
    finally:
        store.close()
    if json_out:
        for k in keys:
            emit_json(
                {
                    "prefix": k.prefix,
                    "name": k.name,
                    "scopes": sorted(k.scopes),
                    "created_at": k.created_at.isoformat(),
                    "revoked": k.revoked_at is not None,
                }
            )
        return
    table = Table(title="API keys")
    for col in ("prefix", "name", "scopes", "created (UTC)", "revoked"):
        table.add_column(col)
    for k in keys:
        table.add_row(
            k.prefix,
            k.name,
            ",".join(sorted(k.scopes)),
            f"{k.created_at:%Y-%m-%d %H:%M}",
            "yes" if k.revoked_at else "",
        )
    out_console.print(table)


@keys_app.command("revoke")
def revoke_cmd(
    prefix: Annotated[str, typer.Argument(help="The key's prefix (mf_ and 7 characters), from keys list.")],
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Revoke a key: requests with it get 401 from now on (exit 1 if there was none to revoke)."""
    store = open_store(settings_for(config, data_dir))
    try:
        done = store.revoke_key(prefix, at=datetime.now(UTC))
    finally:
        store.close()
    out_console.print(f"{prefix} revoked" if done else f"no active key {prefix}")
    if not done:
        raise typer.Exit(1)


config_app = typer.Typer(help="The engine's settings.", no_args_is_help=True)


@config_app.command("show")
def config_show_cmd(config: ConfigOpt = None, data_dir: DataOpt = None, json_out: JsonOpt = False) -> None:
    """The merged, effective settings: defaults, the file, the environment (secrets hidden)."""
    import dataclasses
    import json as jsonlib

    settings = settings_for(config, data_dir)
    values = dataclasses.asdict(settings)
    values["data_dir"] = str(settings.data_dir)
    values["store_url"] = settings.url
    if values.get("verp_secret"):
        values["verp_secret"] = "(set)"
    for hook in values.get("webhooks", ()):
        if hook.get("secret"):
            hook["secret"] = "(set)"
    for transport in values.get("transports", {}).values():
        options = transport.get("options", {})
        for name in list(options):
            if "password" in name and name != "password_env":
                options[name] = "(set)"
    if json_out:
        emit_json(values)
    else:
        out_console.print_json(jsonlib.dumps(values, default=str))


ses_app = typer.Typer(help="Amazon SES events.", no_args_is_help=True)


@ses_app.command("import")
def ses_import_cmd(
    files: Annotated[list[Path], typer.Argument(help="Exported SES events or SNS notifications (JSON).")],
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Load SES events in bulk: bounces, complaints and delays land on the messages they concern."""
    from mailfate.intake.ses import SesImport, import_ses

    store = open_store(settings_for(config, data_dir))
    total = SesImport()
    try:
        for path in files:
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise fail(f"{path}: {exc.strerror}") from exc
            try:
                one = import_ses(store, data)
            except MailfateError as exc:
                raise fail(f"{path}: {exc}") from exc
            for field in ("applied", "delivered", "unmatched", "ignored", "errors"):
                setattr(total, field, getattr(total, field) + getattr(one, field))
    finally:
        store.close()
    summary = {k: getattr(total, k) for k in ("applied", "delivered", "unmatched", "ignored", "errors")}
    if json_out:
        emit_json(summary)
    else:
        out_console.print(" · ".join(f"{k} {v}" for k, v in summary.items()))
