"""Leader election: exactly one worker of a cluster (one table prefix) is the leader.

Maintenance that must not run twice at once (recovery, pruning, reprioritising) waits
on ``worker.is_leader``. Leadership is a lease in the ``leader`` table: the leader
renews it every ``poll_interval`` seconds and it lapses ``timeout`` seconds after the
last renewal, so a leader that dies is replaced once its lease expires. A leader that
stops cleanly hands the lease back and notifies the others, who take over at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import TYPE_CHECKING

from chancy.backoff import Backoff
from chancy.hub import Event
from chancy.loops import wait_for_event
from chancy.plugin import Plugin
from chancy.plugins.leadership import statements as leader_sql

if TYPE_CHECKING:
    from chancy.app import Chancy
    from chancy.worker import Worker

__all__ = ["ImmediateLeadership", "Leadership"]


@dataclasses.dataclass
class _Seat:
    """One worker's view of the election; a plugin instance may serve several workers."""

    wake: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    #: ``time.monotonic()`` after which our lease has surely lapsed (0 = not leading).
    deadline: float = 0.0


class Leadership(Plugin):
    """Elect one leader among all workers sharing the database and prefix.

    ``poll_interval`` is how often every worker tries to take (or its leader renews)
    the lease; ``timeout`` is the lease length. ``timeout`` must be at least
    ``poll_interval`` (twice is a good ratio), or the leader's lease would lapse
    between renewals.

    The first attempt happens as soon as the worker starts. Events sent to every
    worker: ``leadership.gained``, ``leadership.renewed`` and ``leadership.lost``,
    each with the ``worker_id``.
    """

    def __init__(self, poll_interval: float = 60, timeout: float = 120) -> None:
        super().__init__()
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be positive, got {poll_interval}.")
        if timeout < poll_interval:
            raise ValueError(
                f"timeout ({timeout}) must be at least poll_interval ({poll_interval}), or "
                "the leader's lease expires between renewals; use about twice the interval."
            )
        self.poll_interval = poll_interval
        self.timeout = timeout
        self._seats: dict[str, _Seat] = {}

    @staticmethod
    def get_identifier() -> str:
        return "chancy.leadership"

    def get_tables(self) -> list[str]:
        return ["leader"]

    def _seat(self, worker: Worker) -> _Seat:
        return self._seats.setdefault(worker.worker_id, _Seat())

    async def run(self, worker: Worker, chancy: Chancy) -> None:
        seat = self._seat(worker)

        def on_lost(event: Event) -> None:
            # Another worker gave up or lost the lease: try for it now, not next poll.
            if event.body.get("worker_id") != worker.worker_id:
                seat.wake.set()

        worker.hub.on("leadership.lost", on_lost)
        backoff = Backoff(initial=min(1.0, self.poll_interval), maximum=self.poll_interval)
        try:
            while True:
                started = time.monotonic()
                try:
                    await self.poll(worker, chancy)
                    backoff.reset()
                    delay = self.poll_interval
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    worker.log.warning("Leadership check failed (%s); retrying.", exc)
                    await self._expire_if_lapsed(worker, seat)
                    delay = backoff.next_delay()
                delay -= time.monotonic() - started
                await wait_for_event(seat.wake, max(delay, 0))
                seat.wake.clear()
        finally:
            worker.hub.remove("leadership.lost", on_lost)

    async def poll(self, worker: Worker, chancy: Chancy) -> bool:
        """One election round in one transaction; returns whether this worker leads."""
        seat = self._seat(worker)
        models = chancy.models
        was_leader = worker.is_leader.is_set()
        started = time.monotonic()
        async with chancy.engine.begin() as conn:
            await conn.execute(leader_sql.build_forget_expired(models))
            row = (
                await conn.execute(leader_sql.build_acquire(models, worker.worker_id, self.timeout))
            ).first()
            leading = row is not None
            if leading or was_leader:
                event = (
                    "leadership.renewed"
                    if leading and was_leader
                    else "leadership.gained"
                    if leading
                    else "leadership.lost"
                )
                await chancy.notify(conn, event, {"worker_id": worker.worker_id})
        if leading:
            # Measured from before the transaction began: a safe lower bound on expiry.
            seat.deadline = started + self.timeout
            if not was_leader:
                worker.log.info("Worker %s is now the leader.", worker.worker_id)
                worker.is_leader.set()
        elif was_leader:
            worker.log.warning("Worker %s lost leadership.", worker.worker_id)
            seat.deadline = 0.0
            worker.is_leader.clear()
        return leading

    async def _expire_if_lapsed(self, worker: Worker, seat: _Seat) -> None:
        """Unable to renew: stop acting as leader once the lease may have lapsed."""
        if worker.is_leader.is_set() and time.monotonic() >= seat.deadline:
            worker.log.warning(
                "Worker %s could not renew its leadership in time; stepping down.",
                worker.worker_id,
            )
            worker.is_leader.clear()
            seat.deadline = 0.0
            await worker.hub.emit("leadership.lost", {"worker_id": worker.worker_id})

    async def on_worker_started(self, *, worker: Worker) -> None:
        self._seat(worker)

    async def on_worker_stopped(self, *, worker: Worker) -> None:
        """Hand the lease back so a follower takes over now, not when it expires."""
        self._seats.pop(worker.worker_id, None)
        worker.is_leader.clear()
        # Released even if we think we are not leading: the row may still be ours.
        chancy = worker.chancy
        async with chancy.engine.begin() as conn:
            released = (
                await conn.execute(leader_sql.build_release(chancy.models, worker.worker_id))
            ).first()
            if released is not None:
                await chancy.notify(
                    conn, "leadership.lost", {"worker_id": worker.worker_id, "released": True}
                )
                worker.log.info("Worker %s released leadership.", worker.worker_id)


class ImmediateLeadership(Plugin):
    """For tests and single-worker setups: every worker using it is the leader at once.

    Nothing is coordinated, so two workers with this plugin both lead; never use it
    with more than one worker.
    """

    @staticmethod
    def get_identifier() -> str:
        return "chancy.leadership"

    async def on_worker_started(self, *, worker: Worker) -> None:
        worker.log.warning(
            "ImmediateLeadership: worker %s is the leader without an election. "
            "Use it only for tests or a single worker.",
            worker.worker_id,
        )
        worker.is_leader.set()

    async def on_worker_stopped(self, *, worker: Worker) -> None:
        worker.is_leader.clear()
