"""``mailfate serve``: the HTTP API, the workers and the inbound report server in one process;
``mailfate keys create|list|revoke``: the API's keys."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from mailfate.cli.messages import ConfigOpt, DataOpt, JsonOpt, fail, open_store, settings_for, stored
from mailfate.cli.output import emit_json, err_console, out_console, port_problem
from mailfate.errors import MailfateError
from mailfate.intake.api.ses_keys import load_master, new_key_id, secret_for

__all__ = ["config_app", "keys_app", "serve_cmd", "ses_app", "stop_on_signals"]

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
    from mailfate.runtime import ServeOptions, loop_factory, serve

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    settings = settings_for(config, data_dir)
    if inbound_port is not None:
        settings = replace(settings, inbound_port=inbound_port)
    options = ServeOptions(http_host, http_port, submission_port, workers, webhooks)

    def ready(info: dict[str, Any]) -> None:
        if json_out:
            emit_json(info)
            return
        err_console.print(
            "[green]serving[/]: "
            + escape(
                f"API {info['http']}/v1 (docs /v1/docs), SMTP submission on "
                f"{info['submission'] or 'off'}, workers and inbound reports "
                f"{'on ' + str(info['inbound']) if info['inbound'] else 'elsewhere'}, store {info['store']}"
            )
        )

    async def main() -> None:
        await serve(settings, options, stop_on_signals(), ready)

    try:
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            runner.run(main())
    except MailfateError as exc:
        raise fail(str(exc)) from exc
    except OSError as exc:
        ports = {
            http_port: ("the HTTP API", "--http-port"),
            submission_port: ("SMTP submission", "--submission-port"),
        }
        if workers:
            ports[settings.inbound_port] = ("the inbound server", "--inbound-port")
        raise fail(port_problem(exc, ports)) from exc


def stop_on_signals() -> asyncio.Event:
    """An event SIGINT and SIGTERM set (call inside the running loop)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


@keys_app.command("create")
def create_cmd(  # noqa: PLR0917 - Typer maps parameters to options
    scope: Annotated[str, typer.Option(help="Comma-separated: send, read, admin.")] = "send,read",
    name: Annotated[str, typer.Option(help="A label for people.")] = "",
    aws: Annotated[
        bool, typer.Option("--aws", help="An AWS access key id and secret for the SES endpoint (SigV4).")
    ] = False,
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Print a new API key (it is stored hashed: save it now); with --aws, an access key id and a
    secret access key for SES clients (the secret is also a Bearer key for /v1)."""
    settings = settings_for(config, data_dir)
    scopes = {s.strip() for s in scope.split(",") if s.strip()}
    store = open_store(settings, create=True)
    try:
        if aws:
            key_id = new_key_id()
            key = secret_for(load_master(settings.data_dir), key_id)
            store.keys.add_key(key, prefix=key_id, scopes=scopes, at=datetime.now(UTC), name=name)
        else:
            key = store.keys.create_key(scopes, at=datetime.now(UTC), name=name)
    except MailfateError as exc:
        raise fail(str(exc)) from exc
    finally:
        store.close()
    if aws and json_out:
        emit_json({"aws_access_key_id": key_id, "aws_secret_access_key": key})
    elif aws:
        out_console.print(f"aws_access_key_id = {key_id}\naws_secret_access_key = {key}")
    elif json_out:
        emit_json({"key": key})
    else:
        out_console.print(key)


@keys_app.command("list")
def list_cmd(config: ConfigOpt = None, data_dir: DataOpt = None, json_out: JsonOpt = False) -> None:
    """The keys: prefix, name, scopes, when made, whether revoked (never the key itself)."""
    with stored(config, data_dir) as store:
        keys = store.keys.list_keys()
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
            escape(k.prefix),
            escape(k.name),
            escape(",".join(sorted(k.scopes))),
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
    with stored(config, data_dir) as store:
        done = store.keys.revoke_key(prefix, at=datetime.now(UTC))
    out_console.print(escape(f"{prefix} revoked" if done else f"no active key {prefix}"))
    if not done:
        raise typer.Exit(1)


config_app = typer.Typer(help="The engine's settings.", no_args_is_help=True)


@config_app.command("show")
def config_show_cmd(config: ConfigOpt = None, data_dir: DataOpt = None, json_out: JsonOpt = False) -> None:
    """The merged, effective settings: defaults, the file, the environment (secrets hidden)."""
    import dataclasses
    import json as jsonlib

    from mailfate.store.engine import redact_url

    settings = settings_for(config, data_dir)
    values = dataclasses.asdict(settings)
    values["data_dir"] = str(settings.data_dir)
    values["store_url"] = redact_url(settings.url)
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
                one = import_ses(store.messages, data)
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
