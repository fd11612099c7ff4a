"""``mailfate send``, ``trace`` and ``queue``: hand a message over, follow it, see what waits.

All three work on the store named by ``--config`` / ``$MAILFATE_STORE_URL`` / ``--data-dir``
(default ``./mailfate-data/mailfate.db``); a ``mailfate worker`` delivers what ``send`` queued.
Errors a user can cause are one line on standard error and exit code 2; ``send`` to an address
that is suppressed exits 1 and says since when and why.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from mailfate.cli.output import emit_json, err_console, error, out_console
from mailfate.errors import MailfateError

if TYPE_CHECKING:
    from mailfate.config import Settings
    from mailfate.model import MessageView
    from mailfate.store import Store
    from mailfate.tracking.timeline import SenderFacts, Step

__all__ = ["queue_cmd", "send_cmd", "trace_cmd"]

JsonOpt = Annotated[bool, typer.Option("--json", help="JSON output for scripts.")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Settings file (TOML).", dir_okay=False)]
DataOpt = Annotated[Path | None, typer.Option("--data-dir", help="Where the SQLite store lives.")]
FATE_STYLE = {
    "delivered": "green",
    "bounced": "bold red",
    "expired": "red",
    "suppressed": "magenta",
    "rejected": "red",
    "complained": "magenta",
    "autoreplied": "cyan",
    "deferred": "yellow",
    "queued": "dim",
    "sending": "blue",
}


def fail(message: str, code: int = 2) -> typer.Exit:
    return error(message, code)  # one line for people, one JSON object under --json (cli/output.py)


def settings_for(config: Path | None, data_dir: Path | None) -> Settings:
    from mailfate.config import load_settings

    try:
        return load_settings(config, data_dir=data_dir)
    except MailfateError as exc:
        raise fail(str(exc)) from exc


def open_store(settings: Settings, *, create: bool = False) -> Store:
    """The store; a command that only reads (``create`` False) never creates one: a SQLite file
    that does not exist is an error naming the path and the flags, not an empty store that
    answers "no message"."""
    from mailfate.store import Store
    from mailfate.store.engine import normalize_url, sqlite_file

    try:
        url = normalize_url(settings.url)
        path = sqlite_file(url)
        if not create and path is not None and not path.exists():
            raise fail(
                f"no store at {path}: nothing was sent with this data directory; pass --data-dir or "
                "--config (or set MAILFATE_DATA_DIR / MAILFATE_STORE_URL) to name the right one"
            )
        return Store.open(url)
    except MailfateError as exc:
        raise fail(str(exc)) from exc  # the store's errors show its URL with the password masked


@contextmanager
def stored(config: Path | None, data_dir: Path | None, *, create: bool = False) -> Iterator[Store]:
    """The store of ``--config``/``--data-dir``, closed when the block ends (see :func:`open_store`)."""
    store = open_store(settings_for(config, data_dir), create=create)
    try:
        yield store
    finally:
        store.close()


def styled(fate: str) -> str:
    style = FATE_STYLE.get(fate, "")
    return f"[{style}]{fate}[/]" if style else fate


# -- send ---------------------------------------------------------------------------------------
def send_cmd(  # noqa: PLR0917 - Typer maps parameters to options
    from_: Annotated[str, typer.Option("--from", help='Sender: "Name <addr>" or addr.')],
    to: Annotated[list[str], typer.Option("--to", help="Recipient (repeat, or comma-separated).")],
    subject: Annotated[str | None, typer.Option(help="Subject (templates bring their own).")] = None,
    text: Annotated[str | None, typer.Option(help="Plain-text body.")] = None,
    html: Annotated[str | None, typer.Option(help="HTML body.")] = None,
    template: Annotated[str | None, typer.Option(help="Template name, e.g. verification-code.")] = None,
    var: Annotated[list[str] | None, typer.Option("--var", help="Template variable NAME=VALUE.")] = None,
    lang: Annotated[str, typer.Option(help="Template language: ko or en.")] = "en",
    header: Annotated[list[str] | None, typer.Option("--header", help='Extra header "Name: value".')] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="A tag for search and stats.")] = None,
    idempotency_key: Annotated[str | None, typer.Option(help="Same key again: the same message.")] = None,
    deadline: Annotated[str | None, typer.Option(help="Give up after this long: 10m, 1h, 90s.")] = None,
    category: Annotated[str, typer.Option(help="transactional or marketing.")] = "transactional",
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Queue a message; prints its id at once (a worker delivers it)."""
    from mailfate.client import Client, SuppressedError

    variables: dict[str, Any] = {}
    for item in var or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise fail(f"--var {item!r}: give NAME=VALUE")
        variables[name] = value
    headers: dict[str, str] = {}
    for item in header or []:
        name, sep, value = item.partition(":")
        if not sep:
            raise fail(f'--header {item!r}: give "Name: value"')
        headers[name.strip()] = value.strip()
    settings = settings_for(config, data_dir)
    try:
        with Client(open_store(settings, create=True), settings=settings) as client:
            sent = client.send(
                from_=from_,
                to=to,
                subject=subject,
                text=text,
                html=html,
                template=template,
                variables=variables or None,
                lang=lang,
                headers=headers or None,
                tags=tag or (),
                idempotency_key=idempotency_key,
                deadline=deadline,
                category=category,
            )
            no_worker = client.worker_status().hint  # nothing delivers it while no worker runs
    except SuppressedError as exc:
        if json_out:
            emit_json(
                {"message_id": exc.message_id, "fate": "suppressed", "suppressed": _supp(exc.suppressed)}
            )
        else:
            err_console.print(f"[magenta]refused:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from exc
    except MailfateError as exc:
        raise fail(str(exc)) from exc
    if json_out:
        out: dict[str, Any] = {"message_id": sent.message_id}
        if not sent.created:
            out["existing"] = True
        if sent.suppressed:
            out["suppressed"] = _supp(sent.suppressed)
        emit_json(out)
    else:
        out_console.print(sent.message_id)
        for address, reason, since in sent.suppressed:
            err_console.print(
                f"[magenta]not sent to {address}:[/] suppressed since {since:%Y-%m-%d %H:%M} UTC ({reason})"
            )
    if no_worker:  # on stderr either way: --json's answer on stdout keeps its shape
        err_console.print(f"[yellow]queued, but {escape(no_worker)}[/]", soft_wrap=True)


def _supp(items: tuple[tuple[str, str, datetime], ...]) -> list[dict[str, str]]:
    return [{"address": a, "reason": r, "since": s.isoformat()} for a, r, s in items]


# -- trace --------------------------------------------------------------------------------------
def _happened(step: Step) -> str:
    """The step's summary, marked when the simulator (not the named receiver) answered."""
    label = step.answered_by("en")
    return escape(step.summary) + (f" [cyan]({label})[/]" if label else "")


def print_view(view: MessageView, now: datetime, facts: SenderFacts | None = None) -> None:
    from mailfate.tracking.timeline import next_step, steps

    out_console.print(
        f"[bold]{view.id}[/]  {styled(view.fate)}  from {escape(view.from_addr)}  "
        f"[dim]{escape(repr(view.subject))}, queued {view.created_at:%Y-%m-%d %H:%M:%S} UTC[/]"
    )
    table = Table(show_header=True, header_style="bold")
    table.add_column("time (UTC)", no_wrap=True)
    table.add_column("recipient", overflow="fold")
    table.add_column("what happened", overflow="fold", ratio=2)
    table.add_column("what it means", overflow="fold", ratio=2)
    for step in steps(list(view.events), facts):  # facts: our HELO, VERP domain (who is at fault)
        table.add_row(
            f"{step.at:%H:%M:%S.%f}"[:-3],
            escape(step.event.recipient),
            _happened(step),
            f"[dim]{escape(step.meaning)}[/]",
        )
    out_console.print(table)
    for r in view.recipients:
        out_console.print(
            f"  {escape(r.address)}: {styled(r.fate)} — "
            + escape(next_step(r.fate, r.next_attempt_at, r.last_reason, now))
        )


def trace_cmd(  # noqa: PLR0917 - Typer maps parameters to options
    message_id: Annotated[str, typer.Argument(help="The id `send` printed.")],
    follow: Annotated[
        bool, typer.Option("--follow", help="Stream new events until the fate is final.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="With --follow: stop after this many seconds.")] = 3600.0,
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The timeline of one message: every attempt, its reply and what it means, the next retry, the fate."""
    from mailfate.intake.api.responses import event_json, message_json
    from mailfate.model import FINAL_FATES, Fate
    from mailfate.model.simulated import simulated_events
    from mailfate.tracking.fault import facts_from_settings
    from mailfate.tracking.timeline import explain

    settings = settings_for(config, data_dir)
    store, facts = open_store(settings), facts_from_settings(settings)
    try:
        view = store.messages.message(message_id)
        if view is None:
            raise fail(f"no message {message_id!r} in {store.shown}")
        if not follow:
            if json_out:
                emit_json(message_json(view))
            else:
                print_view(view, datetime.now(UTC), facts)
            return
        last, seen = 0, []
        end = time.monotonic() + timeout
        while True:
            for event in store.messages.events_since(message_id, last):
                last = event.id
                seen.append(event)  # a report is the simulator's when the attempt before it was
                answered = simulated_events(seen)
                if json_out:
                    emit_json(event_json(event, answered))
                else:
                    step = replace(explain(event, facts), simulated=event.id in answered)
                    out_console.print(
                        f"{step.at:%H:%M:%S} {escape(event.recipient)} {_happened(step)} "
                        f"[dim]{escape(step.meaning)}[/]"
                    )
            view = store.messages.message(message_id)
            assert view is not None
            if all(Fate(r.fate) in FINAL_FATES for r in view.recipients) or time.monotonic() > end:
                break
            time.sleep(0.2)
        if not json_out:
            out_console.print(f"fate: {styled(view.fate)}")
    finally:
        store.close()


# -- queue --------------------------------------------------------------------------------------
def queue_cmd(config: ConfigOpt = None, data_dir: DataOpt = None, json_out: JsonOpt = False) -> None:
    """What is waiting, per destination, with the top deferral reasons."""
    with stored(config, data_dir) as store:
        now = datetime.now(UTC)
        rows = store.stats.queue_summary(now)
        counts = store.stats.counts()
    if json_out:
        emit_json({"counts": counts, "destinations": [r.to_json() for r in rows]})
        return
    table = Table(title="Queue by destination")
    for col in ("domain", "queued", "sending", "deferred", "oldest", "next attempt", "top deferral reasons"):
        table.add_column(
            col, overflow="fold", justify="right" if col in ("queued", "sending", "deferred") else "left"
        )
    for r in rows:
        reasons = "\n".join(
            f"{reason} ×{n}: [dim]{escape(sample[:70])}[/]" for reason, n, sample in r.top_reasons
        )
        table.add_row(
            r.domain,
            str(r.queued),
            str(r.sending),
            str(r.deferred),
            f"{r.oldest:%m-%d %H:%M}" if r.oldest else "",
            f"{r.next_attempt_at:%H:%M:%S}" if r.next_attempt_at else "",
            reasons,
        )
    out_console.print(table)
    out_console.print(" · ".join(f"{styled(k)} {v}" for k, v in sorted(counts.items()) if v))
