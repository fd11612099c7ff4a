"""``mailfate suppression list|add|remove``: the addresses mailfate refuses to send to."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from mailfate.cli.messages import ConfigOpt, DataOpt, JsonOpt, fail, stored
from mailfate.cli.output import emit_json, out_console
from mailfate.model import NewSuppression

__all__ = ["app"]

app = typer.Typer(help="The suppression list: hard-bounced and complaining addresses.", no_args_is_help=True)
ScopeOpt = Annotated[str, typer.Option("--scope", help='A sending domain, or "*" for every sending domain.')]


@app.command("list")
def list_cmd(
    scope: Annotated[str | None, typer.Option("--scope", help="Only this sending domain.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 1000,
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Suppressed addresses, newest first."""
    with stored(config, data_dir) as store:
        items = store.suppressions.suppressions(scope=scope, limit=limit)
    if json_out:
        for s in items:
            emit_json(
                {
                    "scope": s.scope,
                    "address": s.address,
                    "reason": s.reason,
                    "detail": s.detail,
                    "since": s.created_at.isoformat(),
                    "message_id": s.source_message_id,
                }
            )
        return
    table = Table(title=f"{len(items)} suppressed addresses")
    for col in ("address", "scope", "reason", "since (UTC)", "detail"):
        table.add_column(col, overflow="fold")
    for s in items:
        table.add_row(
            escape(s.address),
            escape(s.scope),
            escape(s.reason),
            f"{s.created_at:%Y-%m-%d %H:%M}",
            escape(s.detail[:80]),
        )
    out_console.print(table)


@app.command("add")
def add_cmd(  # noqa: PLR0917 - Typer maps parameters to options
    address: Annotated[str, typer.Argument(help="The address to refuse.")],
    reason: Annotated[str, typer.Option(help="Why (shown when a send is refused).")] = "manual",
    scope: ScopeOpt = "*",
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Refuse mail to ADDRESS from now on."""
    from mailfate.submit.addresses import validate_address

    try:
        address = validate_address(address)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    with stored(config, data_dir, create=True) as store:
        added = store.suppressions.suppress(
            NewSuppression(scope.lower(), address, reason, "added by hand"), at=datetime.now(UTC)
        )
    if json_out:
        emit_json({"address": address, "scope": scope, "added": added})
    else:
        out_console.print(
            escape(f"{address} suppressed for {scope}" if added else f"{address} was already suppressed")
        )


@app.command("remove")
def remove_cmd(
    address: Annotated[str, typer.Argument(help="The address to send to again.")],
    scope: ScopeOpt = "*",
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Send to ADDRESS again (exit 1 if it was not suppressed)."""
    with stored(config, data_dir) as store:
        removed = store.suppressions.unsuppress(scope.lower(), address.strip().lower())
    if json_out:
        emit_json({"address": address, "scope": scope, "removed": removed})
    else:
        out_console.print(
            escape(f"{address} removed" if removed else f"{address} is not suppressed for {scope}")
        )
    if not removed:
        raise typer.Exit(1)
