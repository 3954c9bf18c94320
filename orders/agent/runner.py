"""The agent's loop: claim due orders, run them, keep the heartbeat and the leases fresh.

One Runner per process. The main thread claims a batch (``AGENT_CLAIM_BATCH`` orders, or as many
as there are free worker threads if that is more) when a worker is free, waits for work (a Redis
wake-up or the poll interval) and handles signals; the orders run inline (``concurrency=1``) or
on worker threads; a keeper thread writes the heartbeat and extends the lease of every order in
flight, in one statement. Orders delivered in full are booked together (``finish_completed``):
when a batch's worth has completed, when nothing is left to run (inline: the end of the claimed
batch), on worker threads when the oldest has waited ``FINISH_WAIT`` seconds, and at once after a
slow backend call — an order executed but not yet booked is re-run if the agent dies, so it never
waits behind a supplier.
"""

import logging
import os
import queue
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import DatabaseError, connections
from django.utils.translation import gettext, gettext_noop

from orders.agent import conf
from orders.agent.claim import Claim, claim_due, leases_extend
from orders.agent.heartbeat import agent_register, agent_stopped, heartbeat
from orders.agent.side_tasks import start_side_tasks
from orders.agent.wakeup import redis_connection, wake_key
from orders.agent.worker import (
    ERROR,
    FAILED,
    RELEASED,
    TERMINAL_OUTCOMES,
    completes_in_bulk,
    execute_claim,
    finish,
    finish_completed,
    order_release_now,
    outcome_label,
)
from orders.fulfilment import FulfilmentResult

logger = logging.getLogger(__name__)

WAKE_BATCH = 100
LEASE_SCAN_SECONDS = 1.0  # dead agents' orders wait at most this long for the next look
# Longest a completed order waits to be booked with others; a backend call this slow is booked
# at once (batching saves milliseconds, not worth holding a delivered order for).
FINISH_WAIT = 0.05
SUMMARY = gettext_noop("%(finished)d order(s) finished in %(seconds).1f s (%(parts)s)")
NOTHING_DUE = gettext_noop("nothing was due")
SHUTDOWN_RELEASE = gettext_noop("Released: the agent is shutting down.")
PARTS_SEPARATOR = gettext_noop(", ")


def tidy_connections() -> None:
    """Drop broken or expired database connections (what Django does around each request).

    Skipped inside a transaction: a test (or a caller) that wraps the agent in one keeps it.
    """
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


def default_name() -> str:
    """host:pid, unique among running agents."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class RunStats:
    outcomes: Counter = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)

    @property
    def finished(self) -> int:
        return sum(self.outcomes[o] for o in TERMINAL_OUTCOMES)

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def summary(self) -> str:
        """One line: how many finished, how long it took, and every outcome counted."""
        parts = gettext(PARTS_SEPARATOR).join(
            f"{outcome_label(k)} {v}" for k, v in sorted(self.outcomes.items())
        )
        return gettext(SUMMARY) % {
            "finished": self.finished,
            "seconds": self.seconds,
            "parts": parts or gettext(NOTHING_DUE),
        }


class Runner:
    """Run with ``run()``; stop from another thread or a signal handler with ``stop()``."""

    def __init__(
        self,
        *,
        name: str | None = None,
        concurrency: int = 1,
        once: bool = False,
        poll_interval: float | None = None,
        report: Callable[[str, str, str], None] | None = None,
    ):
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.name = name or default_name()
        self.concurrency = concurrency
        self.batch = conf.claim_batch()
        self.once = once
        self.poll_interval = conf.poll_interval() if poll_interval is None else poll_interval
        self.report = report or (lambda number, outcome, detail: None)
        self.stats = RunStats()
        self._stopping = threading.Event()
        self._interrupts = 0
        self._lock = threading.Condition()
        self._in_flight: dict[int, str] = {}  # order pk → number
        self._woken: list[str] = []
        self._queue: queue.Queue[Claim | None] = queue.Queue()
        self._completed: list[tuple[Claim, FulfilmentResult]] = []  # executed, not yet booked
        self._completed_since = 0.0
        self._workers: list[threading.Thread] = []
        self._redis_down = False
        self._shutting_down = False
        self._next_lease_scan = 0.0

    # -- lifecycle ---------------------------------------------------------------------------

    def stop(self) -> None:
        """Claim nothing more; let the orders in flight finish."""
        self._stopping.set()

    @property
    def in_flight(self) -> int:
        with self._lock:
            return len(self._in_flight)

    def run(self) -> RunStats:
        """Run until stopped (or, with ``once``, until nothing is due); returns what it did."""
        agent_register(name=self.name)
        previous = self._install_signals()
        keeper = threading.Thread(target=self._keep, name=f"{self.name}-keeper", daemon=True)
        keeper.start()
        side_tasks = [] if self.once else start_side_tasks(self._stopping, name=self.name)
        for n in range(self.concurrency if self.concurrency > 1 else 0):
            worker = threading.Thread(target=self._work, name=f"{self.name}-{n}", daemon=True)
            worker.start()
            self._workers.append(worker)
        logger.info("agent %s started (concurrency %d)", self.name, self.concurrency)
        try:
            self._loop()
        finally:
            self._shutdown()
            self._stopping.set()
            keeper.join(timeout=5)
            for thread in side_tasks:
                thread.join(timeout=5)
            self._restore_signals(previous)
            try:
                agent_stopped(name=self.name, processed=self.stats.finished)
            except DatabaseError:
                logger.warning("agent %s: could not record the stop", self.name, exc_info=True)
            logger.info("agent %s stopped: %s", self.name, self.stats.summary())
        if self._interrupts > 1:
            raise KeyboardInterrupt  # the second signal came while waiting for orders in flight
        return self.stats

    def _loop(self) -> None:
        while not self._stopping.is_set():
            tidy_connections()
            free = self.concurrency - self.in_flight
            batch = None
            if free > 0:
                prefer, self._woken = self._woken, []
                try:
                    batch = claim_due(
                        agent=self.name,
                        limit=max(self.batch, free),
                        prefer=prefer,
                        leases=self._lease_scan_due(),
                    )
                except DatabaseError:
                    if self.once:
                        raise  # cron runs again; a non-zero exit says this one failed
                    # A long-running agent outlives a database restart: log, wait, retry.
                    logger.exception("agent %s: could not claim; retrying", self.name)
                    self._stopping.wait(self.poll_interval or 1)
                    continue
                for order in batch.gave_up:
                    self._count(order.number, FAILED, order.last_error)
                for claim in batch.claims:
                    self._dispatch(claim)
                if not self._workers:
                    self._run_queued()
            if batch:
                continue  # more may be due: claim again as soon as a slot is free
            if self.once:
                if not self.in_flight:
                    return  # drained
                self._wait_for_slot()
            elif free <= 0:
                self._wait_for_slot()
            else:
                self._wait_for_work()

    def _lease_scan_due(self) -> bool:
        """Look for expired leases on every claim with ``once``, else at most once a second."""
        if self.once:
            return True
        now = time.monotonic()
        if now < self._next_lease_scan:
            return False
        self._next_lease_scan = now + LEASE_SCAN_SECONDS
        return True

    def _shutdown(self) -> None:
        """Hand back what was claimed but not started; wait for the rest (within the grace)."""
        self._shutting_down = True
        while True:
            try:
                claim = self._queue.get_nowait()
            except queue.Empty:
                break
            if claim is not None and order_release_now(
                claim.order, agent=self.name, message=SHUTDOWN_RELEASE, message_params={}
            ):
                self._done(claim, RELEASED)
        self._flush_completed()
        for _ in self._workers:
            self._queue.put(None)
        deadline = time.monotonic() + conf.shutdown_grace()
        with self._lock:
            while self._in_flight and time.monotonic() < deadline and self._interrupts < 2:
                self._lock.wait(timeout=0.5)
            if self._in_flight:
                logger.warning(
                    "agent %s exits with %d order(s) in flight; their lease will expire",
                    self.name,
                    len(self._in_flight),
                )

    # -- running orders ----------------------------------------------------------------------

    def _dispatch(self, claim: Claim) -> None:
        with self._lock:
            self._in_flight[claim.order.pk] = claim.order.number
        self._queue.put(claim)

    def _run_queued(self) -> None:
        """Inline (``concurrency=1``): run the claimed batch; after a stop the rest is released."""
        try:
            while not self._stopping.is_set():
                try:
                    claim = self._queue.get_nowait()
                except queue.Empty:
                    return
                if claim is not None:
                    self._run_one(claim)
        finally:
            self._flush_completed()

    def _run_one(self, claim: Claim) -> None:
        started = time.monotonic()
        try:
            result = execute_claim(claim, agent=self.name)
            if isinstance(result, str):
                outcome = result  # the backend raised; released (or the poll failed) already
            elif completes_in_bulk(claim, result):
                slow = time.monotonic() - started >= FINISH_WAIT
                self._complete_later(claim, result, at_once=slow)
                return
            else:
                outcome = finish(claim.order, result, agent=self.name, poll_token=claim.poll_token)
        except Exception:  # noqa: BLE001 - e.g. the database went away; the lease will expire
            logger.exception("order %s: could not book the result", claim.order.number)
            outcome = ERROR
        self._done(claim, outcome)

    def _complete_later(self, claim: Claim, result: FulfilmentResult, *, at_once: bool) -> None:
        """Hold a completed order (still in flight, its lease kept) to book it with others."""
        now = time.monotonic()
        with self._lock:
            if not self._completed:
                self._completed_since = now
            self._completed.append((claim, result))
            # Inline, the batch ends soon anyway (``_run_queued`` then books); on worker threads
            # other orders' calls keep going, so the oldest completion bounds the wait.
            aged = bool(self._workers) and now - self._completed_since >= FINISH_WAIT
            due = at_once or aged or len(self._completed) >= self.batch
        if due:
            self._flush_completed()

    def _flush_completed(self) -> None:
        """Book every completed order held so far, together (``finish_completed``)."""
        with self._lock:
            done, self._completed = self._completed, []
        if not done:
            return
        try:
            outcomes = finish_completed(done, agent=self.name)
        except Exception:  # noqa: BLE001 - e.g. the database went away; the leases will expire
            logger.exception("could not book %d completed order(s)", len(done))
            outcomes = [ERROR] * len(done)
        for (claim, _result), outcome in zip(done, outcomes, strict=True):
            self._done(claim, outcome)

    def _done(self, claim: Claim, outcome: str) -> None:
        with self._lock:
            self._in_flight.pop(claim.order.pk, None)
            self._lock.notify_all()
        self._count(claim.order.number, outcome, "")

    def _count(self, number: str, outcome: str, detail: str) -> None:
        with self._lock:
            self.stats.outcomes[outcome] += 1
        self.report(number, outcome, detail)

    def _work(self) -> None:
        try:
            while True:
                try:
                    claim = self._queue.get_nowait()
                except queue.Empty:
                    self._flush_completed()  # nothing left to run: book what completed
                    claim = self._queue.get()
                if claim is None:
                    break
                tidy_connections()
                self._run_one(claim)
        finally:
            self._flush_completed()
            connections.close_all()

    def _wait_for_slot(self) -> None:
        with self._lock:
            if self._in_flight:
                self._lock.wait(timeout=1)

    # -- waiting for work --------------------------------------------------------------------

    def _wait_for_work(self) -> None:
        """Block on the Redis wake-up list for up to the poll interval; sleep if Redis is absent."""
        deadline = time.monotonic() + self.poll_interval
        try:
            client = redis_connection()
        except Exception:  # noqa: BLE001
            client = None
        while not self._stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if client is None:
                self._stopping.wait(remaining)
                return
            try:
                # One second at a time: under the client's socket timeout, and a stop is
                # noticed quickly.
                item = client.brpop([wake_key()], timeout=1)
            except Exception as exc:  # noqa: BLE001 - Redis down: poll the database instead
                if not self._redis_down:
                    logger.warning("Redis unreachable, polling the database instead: %s", exc)
                    self._redis_down = True
                self._stopping.wait(remaining)
                return
            if self._redis_down:
                logger.info("Redis reachable again; wake-ups resume")
                self._redis_down = False
            if item:
                self._woken.append(item[1].decode())
                self._woken.extend(self._drain(client))
                return

    def _drain(self, client) -> list[str]:
        """Take the other waiting wake-ups too: one claim pass serves them all."""
        try:
            more = client.rpop(wake_key(), WAKE_BATCH) or []
        except Exception:  # noqa: BLE001 - Redis < 6.2 has no RPOP count; one at a time then
            return []
        return [number.decode() for number in more]

    # -- heartbeat and leases ----------------------------------------------------------------

    def _keep(self) -> None:
        interval = min(conf.heartbeat_interval(), conf.lease_seconds() / 3)
        try:
            while not self._stopping.wait(interval):
                try:
                    with self._lock:
                        ids = list(self._in_flight)
                    leases_extend(agent=self.name, order_ids=ids)
                    heartbeat(name=self.name, in_flight=len(ids), processed=self.stats.finished)
                except Exception:  # noqa: BLE001 - a missed heartbeat must not stop the agent
                    logger.warning("agent %s: heartbeat failed", self.name, exc_info=True)
                    tidy_connections()
        finally:
            connections.close_all()

    # -- signals -----------------------------------------------------------------------------

    def _install_signals(self) -> dict:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, self._on_signal)
        return previous

    def _restore_signals(self, previous: dict) -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    def _on_signal(self, signum, frame) -> None:
        self._interrupts += 1
        if self._interrupts == 1:
            logger.warning(
                "agent %s: %s received, stopping after %d order(s) in flight (again to exit now)",
                self.name,
                signal.Signals(signum).name,
                len(self._in_flight),
            )
            self.stop()
            return
        if not self._shutting_down:
            raise KeyboardInterrupt  # out of the order running inline; its lease will expire
        # Already shutting down: the wait for orders in flight sees the count and gives up.
