"""``mailfate simulator``: run the local receiving ISP, look at its counters, reset greylisting.

``run`` serves every configured domain on one SMTP port until SIGINT or SIGTERM; with
``--control-port`` (default: the SMTP port + 100, 2625; 0 = off) it also serves the control page
(``mailfate.simulator.control``), on 127.0.0.1 unless ``--control-host`` says otherwise.
``status`` and ``reset-greylist`` talk to that page; ``domains`` prints what a configuration
serves without starting anything. The same port serves the inbox (``--http-port`` is
``--control-port`` under Mailpit's name: its API is there, ``mailfate.simulator.mailpit``);
``wait`` prints the newest unread message for an address, or the verification code in it.
Every error a user can cause (a bad configuration file, a port in use, an unreachable control
page) is one line on standard error and exit code 2; ``wait`` timing out is exit code 1.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import signal
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from mailfate.cli.output import emit_json, error, out_console, port_problem
from mailfate.errors import MailfateError

if TYPE_CHECKING:
    from mailfate.simulator.config import SimulatorConfig

app = typer.Typer(
    help="A receiving ISP on this machine: simulated domains with greylisting, auth checks, bounces.",
    no_args_is_help=True,
)

DEFAULT_DIR = Path("mailfate-simulator")
CONTROL_OFFSET = 100
"""The control page listens on the SMTP port + this by default: 2625 beside 2525, clear of the
inbound report server's 2526 and the API's 8025."""
DEFAULT_CONTROL_URL = "http://127.0.0.1:2625"
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON output for scripts.")]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="A TOML file overlaid on the packaged defaults.", dir_okay=False),
]
UrlOpt = Annotated[str, typer.Option("--url", help="The simulator's control page.")]


def _fail(message: str) -> typer.Exit:
    """One error line (a JSON object under ``--json``), exit status 2 (:func:`mailfate.cli.output.error`)."""
    return error(message)


def _load(config: Path | None, greylist_delay: float | None = None) -> SimulatorConfig:
    from mailfate.simulator.config import load_config

    if config is not None and not config.is_file():
        raise _fail(f"configuration file {config} does not exist")
    overrides = {"server": {"greylist_delay": greylist_delay}} if greylist_delay is not None else None
    try:
        return load_config(config, overrides)
    except MailfateError as exc:
        raise _fail(f"configuration: {exc}") from exc


def _domains_table(domains: dict[str, dict[str, Any]], title: str) -> Table:
    table = Table(title=title)
    table.add_column("domain", no_wrap=True)
    for col in ("aliases", "personalities", "preset"):
        table.add_column(col, overflow="fold")
    for name, info in domains.items():
        table.add_row(name, ", ".join(info["aliases"]), ", ".join(info["personalities"]), info["preset"])
    return table


# -- domains ------------------------------------------------------------------------------------
@app.command("domains")
def domains_cmd(config: ConfigOpt = None, json_out: JsonOpt = False) -> None:
    """What a configuration serves (domain, aliases, personalities, reply preset); starts nothing."""
    from mailfate.simulator.control import served_domains

    cfg = _load(config)
    domains = served_domains(cfg)
    if json_out:
        emit_json({"hostname": cfg.server.hostname, "domains": domains})
        return
    out_console.print(_domains_table(domains, f"{len(domains)} simulated domains on {cfg.server.hostname}"))


# -- run ----------------------------------------------------------------------------------------
def _event_loop_runner() -> Callable[[Coroutine[Any, Any, None]], None]:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is pinned on every platform but Windows
        return asyncio.run
    return lambda main: asyncio.Runner(loop_factory=uvloop.new_event_loop).run(main)


async def _serve(
    cfg: SimulatorConfig,
    *,
    host: str,
    port: int,
    maildir: Path,
    journal: Path,
    control_port: int | None,
    control_host: str,
    json_out: bool,
    inbox: bool = True,
) -> None:
    from mailfate.simulator.control import ControlServer, served_domains
    from mailfate.simulator.runtime import Simulator

    sim = Simulator(cfg, host=host, port=port, maildir=maildir, journal=journal, inbox=inbox)
    await sim.start()
    control: ControlServer | None = None
    try:
        if control_port != 0:
            wanted = control_port if control_port is not None else (sim.port + CONTROL_OFFSET if port else 0)
            control = ControlServer(sim, host=control_host, port=wanted)
            try:
                await control.start()
            except OSError as exc:
                raise OSError(
                    exc.errno, f"control page on {control_host}:{wanted}: {exc.strerror or exc}"
                ) from exc
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        domains = served_domains(cfg)
        info = {
            "smtp": {"host": sim.host, "port": sim.port},
            "control_url": control.url if control else None,
            "maildir": str(maildir),
            "journal": str(journal),
            "hostname": cfg.server.hostname,
            "domains": domains,
        }
        if json_out:
            emit_json(info)
        else:
            out_console.print(_domains_table(domains, f"{len(domains)} simulated domains"))
            out_console.print(f"SMTP      [bold]{sim.host}:{sim.port}[/]  ({cfg.server.hostname})")
            out_console.print(f"control   {control.url + '  (inbox, Mailpit API)' if control else 'off'}")
            out_console.print(f"maildir   {maildir}\njournal   {journal}")
            out_console.print("[dim]Ctrl-C stops the simulator.[/]")
        await stop.wait()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    finally:
        if control is not None:
            await control.stop()
        await sim.stop()


@app.command("run")
def run_cmd(  # noqa: PLR0917 - Typer maps parameters to options
    config: ConfigOpt = None,
    host: Annotated[str, typer.Option(help="Listen address (loopback unless you mean it).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="SMTP port; 0 = a free port (printed).", min=0)] = 2525,
    greylist_delay: Annotated[
        float | None, typer.Option(help="Seconds before a greylisted retry passes (default 300).", min=0)
    ] = None,
    maildir: Annotated[Path, typer.Option(help="Where accepted mail is stored, one folder per domain.")] = (
        DEFAULT_DIR / "maildir"
    ),
    journal: Annotated[Path, typer.Option(help="JSON Lines log of every transaction.")] = (
        DEFAULT_DIR / "transactions.jsonl"
    ),
    control_port: Annotated[
        int | None,
        typer.Option(
            "--control-port",
            "--http-port",
            help="Port of the HTTP control page, the inbox and its Mailpit-compatible API "
            "(Mailpit's is 8025); default: SMTP port + 100; 0 = off.",
            min=0,
        ),
    ] = None,
    control_host: Annotated[
        str, typer.Option(help="Address of the control page (no authentication: keep it on loopback).")
    ] = "127.0.0.1",
    inbox: Annotated[
        bool,
        typer.Option(
            help="Keep the inbox (the API, the web inbox, `wait`); --no-inbox: maildir and journal only."
        ),
    ] = True,
    json_out: JsonOpt = False,
) -> None:
    """Serve the simulated domains on one SMTP port until Ctrl-C (SIGINT) or SIGTERM."""
    cfg = _load(config, greylist_delay)
    try:
        maildir.mkdir(parents=True, exist_ok=True)
        journal.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(f"cannot create {exc.filename}: {exc.strerror}") from exc
    main = _serve(
        cfg,
        host=host,
        port=port,
        maildir=maildir,
        journal=journal,
        control_port=control_port,
        control_host=control_host,
        json_out=json_out,
        inbox=inbox,
    )
    try:
        _event_loop_runner()(main)
    except MailfateError as exc:
        raise _fail(str(exc)) from exc
    except OSError as exc:
        control = port + 100 if control_port is None else control_port
        ports = {
            port: ("the simulator's SMTP server", "--port"),
            control: ("the inbox and control page", "--http-port"),
        }
        raise _fail(port_problem(exc, ports)) from exc
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        raise typer.Exit(130) from None


# -- status / reset-greylist --------------------------------------------------------------------
def _call(
    url: str,
    path: str,
    method: str = "GET",
    *,
    timeout: float = 10.0,
    refused: Callable[[urllib.error.HTTPError, str], None] | None = None,
) -> dict[str, Any]:
    """The JSON object ``url + path`` answers; every failure one clear error. ``refused`` may turn an
    HTTP error status (with the first 300 characters of its body) into its own error first."""
    target = url.rstrip("/") + path
    if not target.startswith(("http://", "https://")):
        raise _fail(f"control URL must start with http:// (got {url!r})")
    request = urllib.request.Request(target, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        if refused is not None:
            refused(exc, exc.read().decode("utf-8", "replace").strip()[:300])
        raise _fail(f"control page {target} answered HTTP {exc.code}") from exc
    except http.client.HTTPException as exc:  # not HTTP at all: another server on that port
        raise _fail(
            f"{url} does not answer HTTP ({type(exc).__name__}): another server listens there — "
            "mailfate's inbound report server (port 2526) or the simulator's SMTP port? "
            "The control page is on the SMTP port + 100 (2625) unless --control-port says otherwise"
        ) from exc
    except (urllib.error.URLError, OSError) as exc:
        why = getattr(exc, "reason", exc)
        raise _fail(f"control page {target} unreachable ({why}); is `mailfate simulator run` up?") from exc
    except ValueError as exc:
        raise _fail(f"control page {target} did not answer JSON") from exc
    if not isinstance(data, dict):
        raise _fail(f"control page {target} did not answer a JSON object")
    return data


@app.command("status")
def status_cmd(url: UrlOpt = DEFAULT_CONTROL_URL, json_out: JsonOpt = False) -> None:
    """Counters per domain and personality of a running simulator."""
    from mailfate.simulator.control import OUTCOMES

    status = _call(url, "/status")
    if json_out:
        emit_json(status)
        return
    smtp = status.get("smtp") or {}
    table = Table(
        title=f"simulator {status.get('hostname', '')} on {smtp.get('host')}:{smtp.get('port')}, "
        f"up {float(status.get('uptime_seconds', 0)):.0f} s"
    )
    table.add_column("domain", no_wrap=True)
    table.add_column("personalities", overflow="fold")
    for outcome in OUTCOMES:
        table.add_column(outcome, justify="right")
    for name, info in (status.get("domains") or {}).items():
        outcomes = info.get("outcomes") or {}
        table.add_row(
            name, ", ".join(info.get("personalities") or []), *(str(outcomes.get(o, 0)) for o in OUTCOMES)
        )
    total = status.get("total") or {}
    table.add_section()
    table.add_row("[bold]total[/]", "", *(f"[bold]{total.get(o, 0)}[/]" for o in OUTCOMES))
    out_console.print(table)
    personalities = status.get("personalities") or {}
    if personalities:
        ptable = Table(title="per personality")
        ptable.add_column("personality")
        for outcome in OUTCOMES:
            ptable.add_column(outcome, justify="right")
        for slug, counts in personalities.items():
            ptable.add_row(slug, *(str(counts.get(o, 0)) for o in OUTCOMES))
        out_console.print(ptable)


@app.command("reset-greylist")
def reset_greylist_cmd(url: UrlOpt = DEFAULT_CONTROL_URL, json_out: JsonOpt = False) -> None:
    """Forget every greylist triplet: the next attempt of every sender is greylisted again."""
    result = _call(url, "/greylist/reset", method="POST")
    if json_out:
        emit_json(result)
        return
    out_console.print(f"greylist reset: {result.get('forgotten', 0)} triplets forgotten")


# -- wait ---------------------------------------------------------------------------------------
class _Again(Exception):
    """The server's wait slice ended (408) with time left: ask again."""


def _wait_for(url: str, params: dict[str, str], timeout: float) -> dict[str, Any]:
    """Long-poll ``/api/v1/mailfate/wait`` (in slices of at most a minute) until found or timeout."""
    deadline = time.monotonic() + timeout

    def refused(exc: urllib.error.HTTPError, detail: str) -> None:
        if exc.code == 408 and deadline - time.monotonic() > 0.05:
            raise _Again
        if exc.code == 408:
            raise error(f"timed out: {detail or 'no message'}", code=1) from exc
        if exc.code == 404 and "route" not in detail.lower() and detail:
            raise _fail(f"{url}: {detail}") from exc
        raise _fail(f"{url} answered HTTP {exc.code}: {detail or 'no inbox API there'}") from exc

    while True:
        step = min(max(0.0, deadline - time.monotonic()), 60.0)
        query = urllib.parse.urlencode({**params, "timeout": f"{step:.3f}"})
        try:
            return _call(url, f"/api/v1/mailfate/wait?{query}", timeout=step + 15, refused=refused)
        except _Again:
            continue


@app.command("wait")
def wait_cmd(  # noqa: PLR0917 - Typer maps parameters to options
    to: Annotated[str, typer.Option("--to", help="The recipient address to wait for.")],
    timeout: Annotated[float, typer.Option(help="Seconds to wait before giving up (exit 1).", min=0)] = 30.0,
    code: Annotated[bool, typer.Option("--code", help="Print the verification code in the message.")] = False,
    pattern: Annotated[
        str | None, typer.Option(help="A regular expression for the code (its first group if it has one).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only messages accepted at or after this ISO 8601 time (with a zone).")
    ] = None,
    url: UrlOpt = DEFAULT_CONTROL_URL,
    json_out: JsonOpt = False,
) -> None:
    """Print the newest unread message's id for an address (or the code in it) as soon as it arrives.

    A message that arrived before the command started counts while it is unread; the command marks
    it read, so the next `wait` for the same address waits for the next message.
    """
    params = {"to": to, "code": "true" if code else "", "pattern": pattern or "", "since": since or ""}
    found = _wait_for(url, {k: v for k, v in params.items() if v}, timeout)
    if json_out:
        emit_json(found)
        return
    out_console.print(found["Code"] if code else found["ID"], markup=False, highlight=False)
