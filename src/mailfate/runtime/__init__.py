"""The composition root: one place that reads the settings and wires the parts into processes.

``serve`` (the HTTP API, the dashboard, SMTP submission, and — unless ``workers=False`` — the
delivery workers and the inbound report server), ``work`` (``mailfate worker``: delivery, inbound
reports, its own ``/metrics``), and :class:`WorkerService` (a worker's parts: store, transports,
router, engine, inbound server, an embedded simulator). The CLI parses flags and calls these;
nothing below this package starts a process's parts itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from mailfate.runtime.serve import ServeOptions, serve
from mailfate.runtime.worker import WorkerOptions, work
from mailfate.runtime.worker_service import WorkerService

__all__ = ["ServeOptions", "WorkerOptions", "WorkerService", "loop_factory", "serve", "work"]


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop factory where it is installed (a dependency off Windows), else None: the
    HTTP server, SMTP submission and the workers spend most of their time in the loop."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
