"""``mailfate demo``: the whole path on this machine in under a minute.

A simulator and the engine start in one process on a temporary SQLite store; a verification code
goes to one address per scenario; a live table shows each fate as it becomes known. Delays are
scaled down (greylisting 1 s, first retry 1.5 s, late reports after 1.5 s) so a morning's worth of
retries fits in seconds. With ``--json``: one line per message,
``{"scenario", "to", "message_id", "fate", "reason", "attempts"}``.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from mailfate.cli.messages import JsonOpt, fail, styled
from mailfate.cli.output import emit_json, err_console, out_console
from mailfate.errors import MailfateError
from mailfate.model import NewSuppression

if TYPE_CHECKING:
    from mailfate.client import Client
    from mailfate.store import Store

__all__ = ["SCENARIOS", "demo_cmd", "run_demo"]

SENDER = "Mailfate Demo <no-reply@app.example>"


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    to: str
    expect: str
    """The fate that ends the scenario."""
    deadline: float | None = None
    note: str = ""


SCENARIOS = (
    Scenario("delivered", "new-user@accept.mailfate.test", "delivered", note="250 at once"),
    Scenario("hard_bounce", "bounce@simulator.mailfate.test", "bounced", note="550 5.1.1, then suppressed"),
    Scenario(
        "greylisted", "kim@greylist.mailfate.test", "delivered", note="451 4.7.1 first, the retry passes"
    ),
    Scenario(
        "late_bounce", "lee@late-bounce.mailfate.test", "bounced", note="250, then a DSN to the VERP address"
    ),
    Scenario("complaint", "complaint@simulator.mailfate.test", "complained", note="250, then an ARF report"),
    Scenario("suppressed", "former-user@accept.mailfate.test", "suppressed", note="refused before sending"),
    Scenario(
        "auth_softfail",
        "park@lenient-auth.mailfate.test",
        "expired",
        deadline=6.0,
        note="451 4.7.26 until the deadline",
    ),
)


def simulator_overrides(nameserver: str) -> dict[str, Any]:
    return {
        "server": {"greylist_delay": 1.0},
        "reports": {"delay": 1.5},
        "dns": {"nameserver": nameserver},  # a loopback server that knows no names: see emptydns
    }


async def run_demo(
    data_dir: Path,
    on_change: Callable[[list[dict[str, Any]]], None],
    timeout: float = 50.0,
    store_url: str = "",
) -> list[dict[str, Any]]:
    """Run every scenario; the rows (one per scenario) as they end or at ``timeout``."""
    from mailfate.client import Client
    from mailfate.config import load_settings
    from mailfate.runtime import WorkerService
    from mailfate.simulator.emptydns import EmptyDns

    settings = load_settings(
        None,
        data_dir=data_dir,
        store_url=store_url or None,
        inbound_port=0,
        retry={"first": 1.5, "factor": 1.5, "max_interval": 3.0, "max_age": 120.0, "jitter": 0.0},
        concurrency=20,
        batch=20,
    )
    dns = EmptyDns()
    await dns.start()
    service = WorkerService(
        settings, simulator_overrides=simulator_overrides(dns.address), simulator_dir=data_dir / "simulator"
    )
    await service.start()
    assert service.store is not None and service.engine is not None
    store, engine = service.store, service.engine
    stop = asyncio.Event()
    runner = asyncio.create_task(engine.run(stop))
    client = Client(store, settings=settings, on_submit=engine.wake)
    now = datetime.now(UTC)
    store.suppressions.suppress(
        NewSuppression(
            "*", "former-user@accept.mailfate.test", "complaint", "reported as spam on an earlier message"
        ),
        at=now - timedelta(days=3),
    )
    rows: list[dict[str, Any]] = []
    for sc in SCENARIOS:
        rows.append(await _send_code(client, sc))
    try:
        await _watch(store, rows, on_change, timeout)
    finally:
        stop.set()
        await runner
        await service.stop()
        dns.close()
    return rows


async def _send_code(client: Client, sc: Scenario) -> dict[str, Any]:
    """Send the scenario's verification code; its row (``suppressed`` at once when refused)."""
    from mailfate.client import SuppressedError

    row: dict[str, Any] = {
        "scenario": sc.name,
        "to": sc.to,
        "message_id": None,
        "fate": "queued",
        "reason": None,
        "attempts": 0,
    }
    try:
        sent = await asyncio.to_thread(
            client.send,
            from_=SENDER,
            to=sc.to,
            template="verification-code",
            variables={"code": f"{abs(hash(sc.name)) % 1_000_000:06d}", "app_name": "Mailfate Demo"},
            lang="ko" if sc.name in ("greylisted", "auth_softfail") else "en",
            deadline=sc.deadline,
            idempotency_key=None,
        )
        row["message_id"] = sent.message_id
    except SuppressedError as exc:
        row.update(message_id=exc.message_id, fate="suppressed", reason=exc.suppressed[0][1])
    return row


async def _watch(
    store: Store,
    rows: list[dict[str, Any]],
    on_change: Callable[[list[dict[str, Any]]], None],
    timeout: float,
) -> None:
    """Update the rows from the store every 0.2 s until every scenario has ended or ``timeout``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        done = True
        for sc, row in zip(SCENARIOS, rows, strict=True):
            view = (
                await asyncio.to_thread(store.messages.message, row["message_id"])
                if row["message_id"]
                else None
            )
            if view is not None:
                r = view.recipients[0]
                row.update(fate=r.fate, reason=r.last_reason, attempts=r.attempts)
                if sc.name == "hard_bounce":
                    row["suppressed"] = store.suppressions.suppression(sc.to, "app.example") is not None
                if sc.name == "complaint":
                    row["suppressed"] = store.suppressions.suppression(sc.to, "app.example") is not None
            finished = _finished(sc, row)
            done = done and finished
        on_change(rows)
        if done:
            break
        await asyncio.sleep(0.2)


def _finished(sc: Scenario, row: dict[str, Any]) -> bool:
    """The scenario has reached its expected fate (a bounce or complaint: and got suppressed), or
    another final one."""
    from mailfate.model import FINAL_FATES, Fate

    finished = row["fate"] == sc.expect or (
        sc.expect not in ("bounced", "complained") and Fate(row["fate"]) in FINAL_FATES
    )
    if sc.name in ("hard_bounce", "complaint") and not row.get("suppressed"):
        finished = False
    return finished


def _table(rows: list[dict[str, Any]], started: float) -> Table:
    """Two lines a scenario, to read well at 80 columns: the scenario and what the receiver does;
    the address and the message id (whole, to copy into ``mailfate trace``); the fate and reason."""
    table = Table(
        title=f"mailfate demo — {time.monotonic() - started:4.1f} s",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title_justify="left",
    )
    table.add_column("scenario", overflow="fold", ratio=1, min_width=13)
    table.add_column("to / message id", overflow="fold", no_wrap=True)
    table.add_column("fate / reason", overflow="fold", min_width=10)
    table.add_column("tries", justify="right", no_wrap=True)
    for sc, row in zip(SCENARIOS, rows, strict=False):
        fate = styled(str(row["fate"])) + ("\n[magenta]+ suppressed[/]" if row.get("suppressed") else "")
        reason = str(row["reason"] or "")
        if reason and reason != row["fate"]:
            fate += f"\n[dim]{escape(reason)}[/]"
        table.add_row(
            f"{sc.name}\n[dim]{escape(sc.note)}[/]",
            f"{escape(sc.to)}\n[bold]{row['message_id'] or ''}[/]",
            fate,
            str(row["attempts"]),
            end_section=True,
        )
    return table


def _hint(keep: Path | None, rows: list[dict[str, Any]]) -> str:
    """How to follow a message further: the exact command when the store is kept."""
    if keep is None:
        return "[dim]The demo's store is removed; run `mailfate demo --keep DIR` to trace a message.[/]"
    some = next((row["message_id"] for row in rows if row["message_id"]), "ID")
    return f"[dim]Trace a message:[/]\n  mailfate trace {some} --data-dir {escape(str(keep))}"


def demo_cmd(
    json_out: JsonOpt = False,
    keep: Annotated[
        Path | None, typer.Option(help="Keep the store and the simulator's mail in this directory.")
    ] = None,
) -> None:
    """Send a verification code to every scenario through a local simulator and show each fate."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mailfate-demo-") as tmp:
        data_dir = keep or Path(tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            if json_out:
                rows = asyncio.run(run_demo(data_dir, lambda rows: None))
            else:
                with Live(_table([], started), console=out_console, refresh_per_second=8) as live:
                    rows = asyncio.run(run_demo(data_dir, lambda rows: live.update(_table(rows, started))))
        except MailfateError as exc:
            raise fail(str(exc)) from exc
    if json_out:
        for row in rows:
            emit_json(row)
        return
    unexpected = [sc.name for sc, row in zip(SCENARIOS, rows, strict=True) if row["fate"] != sc.expect]
    if unexpected:
        err_console.print(f"[yellow]not as expected:[/] {', '.join(unexpected)}")
    out_console.print()  # the live table may end without a newline: never glue the hint to it
    out_console.print(_hint(keep, rows), soft_wrap=True)  # the command stays whole, to copy
