"""The delivery worker: claim due recipients, sign, address, deliver, record, retry.

One asyncio task runs the loop; deliveries run concurrently up to ``concurrency``; the store is
used from one thread (``store_thread``) so SQLite sees a single writer and the event loop never
waits on a disk. Results are recorded in batches (group commit): a batch is one transaction.

For each claimed recipient:

1. past its deadline or maximum age → ``expired`` (no attempt);
2. suppressed meanwhile (a complaint arrived after it was queued) → ``suppressed``;
3. the message is DKIM-signed once (cached), the envelope sender is the recipient's VERP
   address, the router picks the transport by recipient domain;
4. the reply becomes an ``attempt`` event: delivered, bounced, or deferred with the next attempt
   time from the retry policy (or, past the deadline, ``expired`` with the last reason);
5. a hard bounce suppresses the address for the sending domain.

Asynchronous reports (:meth:`Engine.on_inbound`, the inbound server's sink) are recorded by
:func:`mailfate.tracking.reports.record_reports` once the pending attempts are written; a hard bounce
(after an attempt or in a DSN) or a complaint suppresses the address by the one
:class:`~mailfate.tracking.suppression.SuppressionPolicy`.

Delivery is at-least-once: a worker killed mid-attempt leaves a lease that runs out, and the
recipient is tried again — a receiver may see that one message twice, never zero times.

Leases hold while the worker lives: a claimed recipient may wait long for a connection slot behind
a slow receiver, so the worker renews, every ``lease / 3`` seconds, the leases of every recipient
it claimed and has not recorded yet (one UPDATE; see :meth:`Engine._renew_leases`). Results are
recorded with the worker's owner name: a result whose lease was lost anyway (the store was
unreachable longer than a lease) is kept as an ``attempt`` event but does not overwrite what the
worker now holding the recipient records.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import random
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from mailfate.delivery.dkim import DkimSigner
from mailfate.delivery.ports import WorkerStore
from mailfate.delivery.routing import Router
from mailfate.delivery.schedule import RetryPolicy
from mailfate.model import AttemptRecord, AttemptResult, Claimed, Envelope, EventType, Hold, NewEvent
from mailfate.model.reasons import Reason
from mailfate.model.verp import VerpCodec
from mailfate.tracking.alerts import evaluate
from mailfate.tracking.reports import InboundReport, record_reports
from mailfate.tracking.suppression import SuppressionPolicy, suppress

__all__ = ["Engine", "EngineSettings"]

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class EngineSettings:
    concurrency: int = 200
    """Deliveries in flight at once (across all destinations; per destination see the limits)."""
    batch: int = 200
    """Recipients claimed per store round trip."""
    lease: float = 600.0
    """Seconds a claimed recipient stays ours; a worker that dies releases it after this. A live
    worker renews its leases every ``lease / 3`` seconds until the results are recorded."""
    idle_poll: float = 0.05
    """Longest sleep when nothing is due: how soon mail submitted by another process is seen
    (a verification code waits at most this long for a worker)."""
    claim_pause: float = 0.01
    """Shortest pause between claims that did not fill a batch."""
    flush_every: float = 0.02
    """Results are written at least this often (seconds) while deliveries complete."""
    suppress_hard: bool = True
    suppress_complaints: bool = True
    suppress_after_soft: int = 0
    """Suppress an address whose last N messages all expired on soft failures (0: never)."""
    pause_marketing: bool = False
    """Hold marketing mail from a sending domain while a critical bounce or complaint alert is on
    (SES's pause lines: 10 % hard bounces, 0.5 % complaints; Gmail/Yahoo's 0.3 % spam rate)."""
    pause_check: float = 60.0
    """Seconds between two looks at the alerts (when ``pause_marketing``)."""
    pause_hold: float = 900.0
    """Seconds a held recipient waits before it is looked at again."""


def _now() -> datetime:
    return datetime.now(UTC)


class Engine:
    """Delivers what the store holds; :meth:`run` until ``stop`` is set."""

    def __init__(
        self,
        store: WorkerStore,
        router: Router,
        codec: VerpCodec,
        *,
        signer: DkimSigner | None = None,
        retry: RetryPolicy | None = None,
        settings: EngineSettings | None = None,
        clock: Callable[[], datetime] = _now,
        rng: random.Random | None = None,
        observe: Callable[[Claimed, AttemptResult, datetime], None] | None = None,
    ) -> None:
        self.store = store
        self.observe = observe
        self.router = router
        self.codec = codec
        self.signer = signer or DkimSigner()
        self.retry = retry or RetryPolicy()
        self.settings = settings or EngineSettings()
        self.policy = SuppressionPolicy(
            hard=self.settings.suppress_hard,
            complaints=self.settings.suppress_complaints,
            soft_streak=self.settings.suppress_after_soft,
        )
        self.clock = clock
        self.rng = rng or random.Random()
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.store_thread = ThreadPoolExecutor(1, thread_name_prefix="mailfate-store")
        self._signed: collections.OrderedDict[str, bytes] = collections.OrderedDict()
        self._pending: list[AttemptRecord] = []
        self._after: list[Callable[[], None]] = []
        self._flushing: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._held: set[int] = set()
        """Recipients claimed and not recorded yet: their leases are renewed."""
        self.leases_lost = 0
        """Results recorded after their lease was lost (another worker may have delivered too)."""
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._slots = asyncio.Semaphore(self.settings.concurrency)
        self._refill = max(1, min(self.settings.batch, self.settings.concurrency // 2))
        """Claim no fewer at once while deliveries are waiting for a slot."""
        self.delivered = 0
        self.attempts = 0
        self.paused: dict[str, dict[str, Any]] = {}
        """Sending domains whose marketing mail is held, with the alert that holds it."""
        self._pauses_next = 0.0

    # -- plumbing -------------------------------------------------------------------------------
    async def db(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a store call on the store thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.store_thread, lambda: func(*args, **kwargs))

    def wake(self) -> None:
        """Something was submitted: look for due work now instead of after the idle sleep."""
        self._wake.set()

    # -- the loop -------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        renewing = asyncio.create_task(self._renew_leases())
        try:
            while not stop.is_set():
                if self.settings.pause_marketing and time.monotonic() >= self._pauses_next:
                    await self.refresh_pauses()
                # Up to ``concurrency`` deliveries run; as many more wait for a slot, claimed ahead,
                # so that a claim — a transaction that commits, an fsync on a durable store — takes
                # many recipients at once and no slot idles while it runs.
                room = 2 * self.settings.concurrency - len(self._inflight)
                if room < self._refill:
                    await self._room_for_a_claim()
                    continue
                want = min(room, self.settings.batch)
                claimed = await self.db(
                    self.store.queue.claim,
                    want,
                    now=self.clock(),
                    lease=self.settings.lease,
                    owner=self.owner,
                )
                self._start(claimed)
                if len(claimed) >= want:
                    await asyncio.sleep(0)  # more may be due: claim again soon
                    continue
                await self._idle(stop)
        finally:
            try:
                if self._inflight:
                    await asyncio.wait(self._inflight, timeout=30)
                if self._flushing is not None:  # a batch being written: let it end, not die with the loop
                    await asyncio.wait([self._flushing])
                await self.flush()
            finally:
                renewing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewing

    def _start(self, claimed: list[Claimed]) -> None:
        for item in claimed:
            self._held.add(item.recipient_id)
            task = asyncio.create_task(self._one(item))
            self._inflight.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        if 2 * self.settings.concurrency - len(self._inflight) >= self._refill:
            self._room.set()

    async def _room_for_a_claim(self) -> None:
        """Wait until ``_refill`` recipients can be claimed (the claimed-ahead ones keep every slot
        busy meanwhile), or ``claim_pause`` has passed."""
        self._room.clear()
        if 2 * self.settings.concurrency - len(self._inflight) < self._refill:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._room.wait(), self.settings.claim_pause)

    async def _renew_leases(self) -> None:
        """Every ``lease / 3`` seconds, extend the leases of what this worker holds.

        Why renewal rather than claiming only what can start within a lease: how long a recipient
        waits depends on the receiver (a slow or tarpitting server holds each connection slot for
        seconds or minutes), which the worker cannot know when it claims. Renewal keeps a lease for
        exactly as long as the worker is alive and holds the recipient, whatever the speeds, at the
        cost of one UPDATE per ``lease / 3`` seconds; a worker that dies stops renewing, so its
        leases still run out within one lease. Renewing at a third of the lease leaves two more
        chances if one renewal is late (a busy store thread) or fails."""
        period = self.settings.lease / 3
        while True:
            await asyncio.sleep(period)
            ids = sorted(self._held)
            if not ids:
                continue
            try:
                renewed = await self.db(
                    self.store.queue.renew, ids, now=self.clock(), lease=self.settings.lease, owner=self.owner
                )
            except Exception:  # loop boundary: try again at the next period (the lease has 2 more)
                log.exception("renewing %d leases failed", len(ids))
                continue
            if len(renewed) < len(ids):
                log.debug(
                    "%d of %d leases not renewed (recorded meanwhile, or lost)",
                    len(ids) - len(renewed),
                    len(ids),
                )

    async def refresh_pauses(self) -> None:
        """Look at the alerts: which sending domains' marketing mail is held now."""
        self._pauses_next = time.monotonic() + self.settings.pause_check
        try:
            # its own thread, not the store thread: a catch-up fold must not hold up the deliveries
            alerts = await asyncio.to_thread(evaluate, self.store.rollups, self.clock())
        except Exception:  # loop boundary: keep the pauses as they were, look again later
            log.exception("the alerts could not be evaluated; marketing pauses unchanged")
            return
        paused = {
            a.subject: a.to_json()
            for a in alerts
            if a.severity == "critical" and a.rule in ("bounce_rate", "complaint_rate")
        }
        for domain in paused.keys() - self.paused.keys():
            log.warning("marketing mail from %s paused: %s", domain, paused[domain]["message"])
        for domain in self.paused.keys() - paused.keys():
            log.warning("marketing mail from %s resumed", domain)
        self.paused = paused

    async def _idle(self, stop: asyncio.Event) -> None:
        """After a partial claim: let work gather for ``claim_pause`` before the next claim (one
        claim per few messages costs the store, and the write lock, more than the messages)."""
        if self._inflight:
            await asyncio.wait(self._inflight, timeout=self.settings.claim_pause)
            return
        due = await self.db(self.store.queue.due_in, self.clock())
        wait = self.settings.idle_poll if due is None else min(due, self.settings.idle_poll)
        wait = max(wait, self.settings.claim_pause)
        self._wake.clear()
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()

    async def run_until_idle(self, timeout: float = 60.0) -> None:
        """Deliver until nothing is due now and nothing is in flight (tests, benchmarks)."""
        renewing = asyncio.create_task(self._renew_leases())
        try:
            deadline = asyncio.get_running_loop().time() + timeout
            while asyncio.get_running_loop().time() < deadline:
                claimed = await self.db(
                    self.store.queue.claim,
                    self.settings.batch,
                    now=self.clock(),
                    lease=self.settings.lease,
                    owner=self.owner,
                )
                if not claimed and not self._inflight:
                    break
                self._start(claimed)
                if self._inflight:
                    await asyncio.wait(self._inflight, return_when=asyncio.FIRST_COMPLETED)
            if self._inflight:
                await asyncio.wait(self._inflight)
            await self.flush()
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing

    # -- one recipient --------------------------------------------------------------------------
    async def _one(self, item: Claimed) -> None:
        recorded = False
        try:
            async with self._slots:
                recorded = await self._deliver(item)
        except Exception:
            log.exception("delivery of recipient %s (message %s) failed", item.recipient_id, item.message_id)
            # the lease (no longer renewed) runs out and the recipient is tried again: nothing is lost
        finally:
            if not recorded:  # else it stays held until its result is written (``flush``)
                self._held.discard(item.recipient_id)

    async def _deliver(self, item: Claimed) -> bool:
        """Attempt ``item``; True when its result waits in the batch to be written, False when it was
        settled without an attempt (expired, suppressed, held)."""
        now = self.clock()
        limit = min(item.expires_at, item.deadline) if item.deadline else item.expires_at
        if now >= limit:
            why = "deadline" if item.deadline and now >= item.deadline else "max_age"
            facts = {"why": why, "attempts": item.attempts - 1}
            expired = NewEvent(
                item.message_id, item.recipient_id, EventType.EXPIRED, now, facts, str(Reason.EXPIRED)
            )
            await self.db(self.store.messages.append_event, expired, owner=self.owner)
            return False
        found = item.suppressed
        if found is not None:
            why_not = {"reason": found.reason, "since": found.created_at.isoformat(), "detail": found.detail}
            refused = NewEvent(
                item.message_id, item.recipient_id, EventType.SUPPRESSED, now, why_not, str(Reason.SUPPRESSED)
            )
            await self.db(self.store.messages.append_event, refused, owner=self.owner)
            return False
        pause = self.paused.get(item.sending_domain) if item.category == "marketing" else None
        if pause is not None:
            until = now + timedelta(seconds=self.settings.pause_hold)
            held = Hold(
                item.message_id,
                item.recipient_id,
                now,
                until,
                {"alert": pause, "next_look_at": until.isoformat()},
            )
            await self.db(self.store.queue.hold, held, owner=self.owner)
            return False
        data = await self._signed_copy(item)
        envelope = Envelope(
            mail_from=self.codec.encode(item.message_id, item.recipient_id),
            recipients=(item.address,),
            data=data,
            keys=(item.recipient_id,),
            message_id=item.message_id,
        )
        transport = self.router.route(item.domain)
        [result] = await transport.deliver(envelope)
        self.attempts += 1
        if log.isEnabledFor(logging.INFO):  # `mailfate worker --verbose`: one line per attempt
            log.info(
                "%s (message %s) via %s: %s %s %s -> %s (%s)",
                item.address,
                item.message_id,
                result.remote_host or transport.name,
                result.code,
                result.status,
                result.text[:200],
                result.outcome,
                result.reason,
            )
        self._record(item, result)
        return True

    async def _signed_copy(self, item: Claimed) -> bytes:
        cached = self._signed.get(item.message_id)
        if cached is not None:
            self._signed.move_to_end(item.message_id)
            return cached
        raw = item.raw or await self.db(self.store.queue.raw, item.message_id)
        signed = self.signer.sign(raw, item.sending_domain)
        if signed is not raw:  # only signatures are worth caching; the claim brings the raw bytes
            self._signed[item.message_id] = signed
            while len(self._signed) > 512:
                self._signed.popitem(last=False)
        return signed

    def _record(self, item: Claimed, result: AttemptResult) -> None:
        now = self.clock()
        if self.observe is not None:
            self.observe(item, result, now)
        next_at: datetime | None = None
        expire = False
        why = ""
        if result.outcome == "deferred":
            next_at, why = self.retry.next_attempt(
                attempts=item.attempts,
                now=now,
                created_at=item.created_at,
                deadline=item.deadline,
                retry_after=result.retry_after,
                rng=self.rng,
            )
            expire = next_at is None
        elif result.outcome == "delivered":
            self.delivered += 1
        self._pending.append(
            AttemptRecord(item.recipient_id, result, now, next_at, expire, why or "deadline")
        )
        if expire and self.policy.soft_streak > 0:
            self._after.append(lambda: self._soft_streak(item, result, now))
        reason = self.policy.reason_for(
            result.outcome, hardbounce=result.hardbounce, evidence=result.evidence, reason=result.reason
        )
        if reason is not None:
            self._after.append(lambda: self._suppress(item, reason, result.text, now))
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush_soon())

    def _suppress(self, item: Claimed, reason: str, detail: str, at: datetime) -> None:
        """On the store thread: suppress the address for the sending domain, noted on its timeline."""
        suppress(
            self.store.suppressions,
            message_id=item.message_id,
            recipient_id=item.recipient_id,
            address=item.address,
            scope=item.sending_domain,
            reason=reason,
            detail=detail,
            at=at,
        )

    def _soft_streak(self, item: Claimed, result: AttemptResult, at: datetime) -> None:
        """On the store thread: N expiries in a row for one address → suppress it."""
        reason = self.policy.streak_reason(self.store.messages, item.address, result.reason)
        if reason is not None:
            self._suppress(item, reason, result.text, at)

    async def _flush_soon(self) -> None:
        try:
            await asyncio.sleep(self.settings.flush_every)
            await self.flush()
        finally:
            self._flushing = None

    async def flush(self) -> None:
        """Write the recorded attempts (one transaction), then the suppressions they caused."""
        while self._pending or self._after:
            records, self._pending = self._pending, []
            after, self._after = self._after, []
            if records:
                try:
                    lost = await self.db(self.store.queue.record_attempts, records, owner=self.owner)
                finally:  # written, or failed (then the leases run out and the attempts are made again)
                    self._held.difference_update(r.recipient_id for r in records)
                if lost:
                    self.leases_lost += lost
                    log.warning(
                        "%d results recorded after their lease was lost: another worker holds those"
                        " recipients and may have delivered them too",
                        lost,
                    )
            for job in after:
                await self.db(job)

    # -- asynchronous results -------------------------------------------------------------------
    async def on_inbound(self, reports: list[InboundReport], raw: bytes) -> None:
        """The inbound server's sink: keep ``raw`` and append each report to its recipient's
        timeline (:func:`~mailfate.tracking.reports.record_reports`, with this engine's policy).

        The attempts this worker has recorded but not yet written go first: a DSN can arrive within
        milliseconds of the 250 it reports on, and the timeline must show the attempt before the
        report about it (the cached fate is then the fold of the events in order)."""
        await self.flush()
        await self.db(record_reports, self.store.messages, reports, raw=raw, policy=self.policy)

    async def aclose(self) -> None:
        for transport in self.router.transports():
            with contextlib.suppress(Exception):
                await transport.aclose()
        self.store_thread.shutdown(wait=True)
