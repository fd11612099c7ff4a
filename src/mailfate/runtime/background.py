"""The background tasks a process runs beside its servers: outgoing webhooks, the alert watcher."""

from __future__ import annotations

import asyncio

from mailfate.config import Settings
from mailfate.store import Store
from mailfate.tracking.alert_push import AlertWatcher
from mailfate.tracking.ports import WebhookRepositories
from mailfate.tracking.webhooks_out import WebhookService

__all__ = ["start_webhooks"]


def start_webhooks(settings: Settings, store: Store, stop: asyncio.Event) -> list[asyncio.Task[None]]:
    """The webhook sender and the alert watcher as tasks that end when ``stop`` is set; none when
    no webhook is configured. A subscriber without its secret raises ``ConfigError`` here."""
    if not settings.webhooks:
        return []
    sender = WebhookService(WebhookRepositories.of(store), settings.webhooks)
    watcher = AlertWatcher(store.rollups, settings.webhooks, interval=settings.alert_interval)
    return [asyncio.create_task(sender.run(stop)), asyncio.create_task(watcher.run(stop))]
