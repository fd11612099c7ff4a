"""The composition root: one place that reads the settings and wires the parts into processes.

``serve`` (the HTTP API, the dashboard, SMTP submission, and — unless ``workers=False`` — the
delivery workers and the inbound report server), ``work`` (``mailfate worker``: delivery, inbound
reports, its own ``/metrics``), and :class:`WorkerService` (a worker's parts: store, transports,
router, engine, inbound server, an embedded simulator). The CLI parses flags and calls these;
nothing below this package starts a process's parts itself.
"""

from __future__ import annotations

from mailfate.runtime.process import loop_factory
from mailfate.runtime.serve import ServeOptions, serve
from mailfate.runtime.worker import WorkerOptions, work
from mailfate.runtime.worker_service import WorkerService

__all__ = ["ServeOptions", "WorkerOptions", "WorkerService", "loop_factory", "serve", "work"]
