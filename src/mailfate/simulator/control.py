"""The simulator's control page: counters, the domains it serves, a greylist reset, over HTTP.

``create_control_app(sim)`` returns a FastAPI app with three routes:

``GET /status``
    JSON: ``{"hostname", "smtp": {"host", "port"}, "uptime_seconds", "total": {outcome: n},
    "domains": {name: {"aliases", "personalities", "preset", "outcomes"}}, "personalities":
    {slug: {outcome: n}}}``. Outcomes are ``accepted``, ``deferred``, ``rejected``, ``dropped``.
``GET /counters``
    The same as a small HTML page (no JavaScript; it reloads itself every 10 seconds).
``GET /`` and the other pages of the web inbox
    :mod:`mailfate.simulator.pages` (its router is mounted here).
``POST /greylist/reset``
    Forgets every greylist triplet of every domain: ``{"forgotten": n}``.

It also serves the inbox: Mailpit's API (:mod:`mailfate.simulator.mailpit`, ``/api/v1/...`` and
the ``/api/events`` websocket) and mailfate's own (:mod:`mailfate.simulator.mailfate_api`,
``/api/v1/mailfate/...``). ``app.state.simulator`` is the simulator, ``app.state.inbox`` its
:class:`~mailfate.simulator.inbox.Inbox` (``None`` when it runs without one).

The app is served by uvicorn inside the simulator's own event loop (``ControlServer``), on
127.0.0.1 unless told otherwise: it has no authentication and is meant for the machine it runs
on. ``served_domains(config)`` is what ``mailfate simulator domains`` prints without starting
anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import socket
import time
from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, PlainTextResponse

from mailfate.simulator.pages import inbox_router

if TYPE_CHECKING:
    from mailfate.simulator.config import SimulatorConfig
    from mailfate.simulator.runtime import Simulator

__all__ = ["OUTCOMES", "ControlServer", "create_control_app", "served_domains", "status_of"]

OUTCOMES = ("accepted", "deferred", "rejected", "dropped")


def served_domains(config: SimulatorConfig) -> dict[str, dict[str, Any]]:
    """The configured domains, each once, with its aliases, personalities and reply preset.

    ``config.domains`` holds aliases expanded (an alias maps to its domain's ``DomainConfig``);
    here they are folded back under the domain they belong to. Sorted by name.
    """
    out: dict[str, dict[str, Any]] = {}
    for key, dom in config.domains.items():
        info = out.setdefault(
            dom.name,
            {"aliases": set(), "personalities": list(dom.personalities), "preset": dom.preset},
        )
        info["aliases"].update(a for a in (*dom.aliases, key) if a.lower() != dom.name.lower())
    for info in out.values():
        info["aliases"] = sorted(info["aliases"])
    return dict(sorted(out.items()))


def _outcomes(raw: Any) -> dict[str, int]:
    """An outcome mapping with the four standard outcomes always present."""
    counts = {k: 0 for k in OUTCOMES}
    if isinstance(raw, Mapping):
        for key, value in raw.items():
            if isinstance(value, int) and not isinstance(value, bool):
                counts[str(key)] = value
    return counts


def status_of(sim: Simulator, started: float) -> dict[str, Any]:
    """The ``/status`` document: the simulator's counters joined with the domains it serves."""
    counters = sim.counters()
    per_domain: Mapping[str, Any] = counters.get("domains") or {}
    domains: dict[str, dict[str, Any]] = {}
    for name, info in served_domains(sim.config).items():
        seen = per_domain.get(name) or {}
        raw = seen.get("outcomes", seen) if isinstance(seen, Mapping) else {}
        domains[name] = {**info, "outcomes": _outcomes(raw)}
    for name, seen in per_domain.items():  # domains seen but not configured (unknown_domains)
        if name not in domains and isinstance(seen, Mapping):
            domains[name] = {
                "aliases": [],
                "personalities": list(seen.get("personalities") or []),
                "preset": "",
                "outcomes": _outcomes(seen.get("outcomes", seen)),
            }
    personalities = counters.get("personalities") or {}
    return {
        "hostname": sim.config.server.hostname,
        "smtp": {"host": sim.host, "port": sim.port},
        "uptime_seconds": round(time.monotonic() - started, 3),
        "total": _outcomes(counters.get("total")),
        "domains": domains,
        "personalities": {
            str(k): _outcomes(v) for k, v in sorted(personalities.items()) if isinstance(v, Mapping)
        },
    }


def _html_page(status: dict[str, Any]) -> str:
    esc = html.escape
    cols = list(OUTCOMES)
    for info in status["domains"].values():
        cols += [k for k in info["outcomes"] if k not in cols]
    head = "".join(f"<th>{esc(c)}</th>" for c in cols)
    rows = []
    for name, info in status["domains"].items():
        aliases = ", ".join(info["aliases"])
        cells = "".join(f'<td class="n">{info["outcomes"].get(c, 0)}</td>' for c in cols)
        rows.append(
            f"<tr><td>{esc(name)}</td><td>{esc(aliases)}</td>"
            f"<td>{esc(', '.join(info['personalities']))}</td><td>{esc(info['preset'])}</td>{cells}</tr>"
        )
    body = "\n".join(rows)
    total = "".join(f'<td class="n">{status["total"].get(c, 0)}</td>' for c in cols)
    prows = "".join(
        f"<tr><td>{esc(slug)}</td>"
        + "".join(f'<td class="n">{counts.get(c, 0)}</td>' for c in cols)
        + "</tr>"
        for slug, counts in status["personalities"].items()
    )
    personalities = (
        f"<h2>Personalities</h2><table><tr><th>personality</th>{head}</tr>{prows}</table>" if prows else ""
    )
    smtp = status["smtp"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="10">
<title>mailfate simulator: {esc(status["hostname"])}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2em .6em;text-align:left}}td.n{{text-align:right}}</style>
</head><body>
<h1>mailfate simulator</h1>
<p><a href="/">← Inbox</a></p>
<p>{esc(status["hostname"])} on SMTP {esc(str(smtp["host"]))}:{smtp["port"]},
up {status["uptime_seconds"]:.0f} s. JSON: <a href="status">/status</a>.
Reset greylisting: <code>POST /greylist/reset</code> or <code>mailfate simulator reset-greylist</code>.</p>
<h2>Domains</h2>
<table><tr><th>domain</th><th>aliases</th><th>personalities</th><th>preset</th>{head}</tr>
{body}
<tr><th colspan="4">total</th>{total}</tr></table>
{personalities}
</body></html>
"""


def create_control_app(sim: Simulator) -> FastAPI:
    """The control app of one running simulator."""
    from mailfate.simulator import mailfate_api, mailpit

    started = time.monotonic()
    app = FastAPI(title="mailfate simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.simulator = sim
    app.state.inbox = sim.inbox
    app.state.started = started
    app.include_router(mailpit.router)
    app.include_router(mailfate_api.router)

    @app.exception_handler(mailpit.ApiError)
    async def api_error(request: Request, exc: mailpit.ApiError) -> PlainTextResponse:
        return mailpit.error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> PlainTextResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()))
        return PlainTextResponse(f"bad request: {where} {first.get('msg', '')}".strip(), status_code=400)

    @app.get("/status")
    def status() -> dict[str, Any]:
        return status_of(sim, started)

    @app.get("/counters", response_class=HTMLResponse)
    def page() -> str:
        return _html_page(status_of(sim, started))

    @app.post("/greylist/reset")
    def reset_greylist() -> dict[str, int]:
        return {"forgotten": sim.reset_greylist()}

    app.include_router(inbox_router(lambda: sim.inbox, lambda: f"{sim.host}:{sim.port}"))
    return app


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the simulator's runner owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class ControlServer:
    """The control app served by uvicorn in the running event loop.

    The socket is bound in :meth:`start` (so a port in use is an ``OSError`` there, not an exit
    inside uvicorn); ``port`` is the bound port (``0`` asks the system for a free one).
    """

    def __init__(self, sim: Simulator, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._app = create_control_app(sim)
        self._server: _QuietServer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(self._app, log_level="warning", lifespan="off", access_log=False)
        self._server = _QuietServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise OSError(f"the control page did not start on {self.url}")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._server = self._task = None
