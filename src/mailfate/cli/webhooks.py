"""``mailfate webhooks list|log|verify``: the outgoing webhooks' subscribers, their delivery log,
and a signature check for receivers being debugged. The sender and the alert watcher run inside
``mailfate serve`` and ``mailfate worker`` (:mod:`mailfate.runtime.background`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from mailfate.cli.messages import ConfigOpt, DataOpt, JsonOpt, fail, open_store, settings_for, stored
from mailfate.cli.output import emit_json, out_console

if TYPE_CHECKING:
    pass

__all__ = ["app"]

app = typer.Typer(help="Outgoing webhooks: subscribers, delivery log, signatures.", no_args_is_help=True)

OUTCOME_STYLE = {"delivered": "green", "retry": "yellow", "failed": "bold red"}


@app.command("list")
def list_cmd(config: ConfigOpt = None, data_dir: DataOpt = None, json_out: JsonOpt = False) -> None:
    """Each subscriber: URL, events, position (last event done), backlog, retries, last error."""
    settings = settings_for(config, data_dir)
    store = open_store(settings)
    try:
        states = {s.subscriber: s for s in store.webhooks.webhook_states()}
        rows: list[dict[str, Any]] = []
        for hook in settings.webhooks:
            state = states.pop(hook.name, None)
            kinds = None if "*" in hook.events else [k for k in hook.events if k != "alert"]
            position = state.position if state else None
            rows.append(
                {
                    "name": hook.name,
                    "url": hook.url,
                    "events": list(hook.events),
                    "position": position,
                    "backlog": store.webhooks.count_events_after(position, kinds)
                    if position is not None
                    else None,
                    "attempts": state.attempts if state else 0,
                    "next_at": state.next_at.isoformat() if state and state.next_at else None,
                    "last_error": state.last_error if state else "",
                }
            )
        for state in states.values():  # in the store, no longer configured
            rows.append(
                {
                    "name": state.subscriber,
                    "url": None,
                    "events": [],
                    "position": state.position,
                    "backlog": None,
                    "attempts": state.attempts,
                    "next_at": state.next_at.isoformat() if state.next_at else None,
                    "last_error": state.last_error,
                }
            )
    finally:
        store.close()
    if json_out:
        for row in rows:
            emit_json(row)
        return
    if not rows:
        out_console.print(escape("no webhooks: add [[webhooks]] to the configuration (docs/webhooks.md)"))
        return
    table = Table(title="Webhooks")
    for col in ("name", "url", "events", "position", "backlog", "retrying", "last error"):
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(
            escape(row["name"]),
            escape(row["url"]) if row["url"] else "[dim](not configured)[/]",
            escape(",".join(row["events"])),
            "not started" if row["position"] is None else str(row["position"]),
            "" if row["backlog"] is None else str(row["backlog"]),
            f"attempt {row['attempts']}, next {row['next_at'] or 'now'}" if row["attempts"] else "",
            escape(row["last_error"] or ""),
        )
    out_console.print(table)


@app.command("log")
def log_cmd(
    subscriber: Annotated[str | None, typer.Option(help="Only this subscriber.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="How many rows (newest first).")] = 50,
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The delivery log, newest first: every POST with its status, error, duration and outcome."""
    with stored(config, data_dir) as store:
        entries = store.webhooks.webhook_log(subscriber=subscriber, limit=limit)
    if json_out:
        for entry in entries:
            emit_json(entry.to_json())
        return
    table = Table(title="Webhook deliveries")
    for col in ("at (UTC)", "subscriber", "event", "attempt", "status", "ms", "outcome", "error"):
        table.add_column(col, overflow="fold")
    for e in entries:
        style = OUTCOME_STYLE.get(e.outcome, "")
        table.add_row(
            f"{e.at:%Y-%m-%d %H:%M:%S}",
            escape(e.subscriber),
            str(e.event_id),
            str(e.attempt),
            "" if e.status_code is None else str(e.status_code),
            str(e.duration_ms),
            f"[{style}]{escape(e.outcome)}[/]" if style else escape(e.outcome),
            escape(e.error or ""),
        )
    out_console.print(table)


@app.command("verify")
def verify_cmd(
    file: Annotated[Path, typer.Argument(help="The raw request body as received ('-': standard input).")],
    secret: Annotated[
        str,
        typer.Option(envvar="MAILFATE_WEBHOOK_SECRET", help="The subscriber's secret.", show_default=False),
    ],
    header: Annotated[str, typer.Option(help="The Mailfate-Signature header value: t=...,v1=...")],
    tolerance: Annotated[
        float, typer.Option(min=0, help="Seconds the timestamp may be off (a saved body: raise it).")
    ] = 300,
) -> None:
    """Check a signature the way a receiver must: HMAC-SHA256 of "<t>.<body>", and a fresh t."""
    from mailfate.tracking.webhooks_out import signature_problem

    try:
        body = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as exc:
        raise fail(f"{file}: {exc.strerror}") from exc
    problem = signature_problem(secret, header, body, tolerance=tolerance)
    if problem is not None:
        out_console.print(f"[red]invalid[/]: {escape(problem)}")
        raise typer.Exit(1)
    out_console.print("[green]valid[/]: signed with this secret, timestamp within the tolerance")
