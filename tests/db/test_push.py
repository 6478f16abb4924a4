"""push, sync_push, push_many and sync_push_many against a real database."""

from __future__ import annotations

import datetime as dt

import pytest

from chancy import Chancy, Job, Limit, QueuedJob, Reference, job
from chancy.errors import ConfigurationError
from tests.db.helpers import Listener, recorded_statements
from tests.helpers import count_jobs

FUNC = "tests.db.test_push.work"


def work(i: int = 0) -> int:
    return i


@job(queue="mail", priority=3, kwargs={"to": "a@example.com"})
def send_welcome(to: str) -> None:
    pass


def numbered(n: int, **fields: object) -> list[Job]:
    return [Job(func=FUNC, kwargs={"i": i}, **fields) for i in range(n)]  # type: ignore[arg-type]


async def kwargs_of(app: Chancy, refs: list[Reference]) -> list[int]:
    jobs = {j.id: j for j in await app.get_jobs(refs)}
    return [jobs[ref.identifier].kwargs["i"] for ref in refs]


class TestPush:
    async def test_push_stores_every_field(self, chancy: Chancy) -> None:
        when = dt.datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)
        original = Job(
            func=FUNC,
            queue="reports",
            kwargs={"i": 7, "nested": {"list": [1, "two", None]}},
            priority=-4,
            max_attempts=5,
            scheduled_at=when,
            limits=[Limit(Limit.Type.TIME, 12)],
            unique_key="report:7",
            meta={"source": "test"},
        )
        ref = await chancy.push(original)
        assert isinstance(ref, Reference)
        stored = await chancy.get_job(ref)
        assert stored is not None and stored.id == ref.identifier
        assert (stored.func, stored.queue, stored.kwargs) == (FUNC, "reports", original.kwargs)
        assert (stored.priority, stored.max_attempts) == (-4, 5)
        assert stored.scheduled_at == when
        assert stored.limits == [Limit(Limit.Type.TIME, 12)]
        assert (stored.unique_key, stored.meta) == ("report:7", {"source": "test"})
        assert stored.state is QueuedJob.State.PENDING
        assert (stored.attempts, stored.errors, stored.started_at) == (0, [], None)
        assert stored.created_at.tzinfo is not None

    async def test_sync_push(self, chancy: Chancy) -> None:
        with chancy:
            ref = chancy.sync_push(Job(func=FUNC, kwargs={"i": 1}))
            stored = chancy.sync_get_job(ref)
        assert stored is not None and stored.kwargs == {"i": 1}
        assert (await chancy.get_job(ref)) == stored

    async def test_push_a_decorated_function(self, chancy: Chancy) -> None:
        ref = await chancy.push(send_welcome)
        stored = await chancy.get_job(ref)
        assert stored is not None
        assert (stored.func, stored.queue, stored.priority) == (
            "tests.db.test_push.send_welcome",
            "mail",
            3,
        )
        assert stored.kwargs == {"to": "a@example.com"}

    async def test_sync_push_a_decorated_function(self, chancy: Chancy) -> None:
        # Upstream raised AttributeError here after inserting.
        with chancy:
            ref = chancy.sync_push(send_welcome)
            refs = next(chancy.sync_push_many([send_welcome, send_welcome.job]))
        assert (await chancy.get_job(ref)).queue == "mail"  # type: ignore[union-attr]
        assert len(refs) == 2 and await count_jobs(chancy, queue="mail") == 3

    async def test_undeclared_queue_is_accepted(self, chancy: Chancy) -> None:
        ref = await chancy.push(Job(func=FUNC, queue="nobody-serves-this"))
        assert (await chancy.get_job(ref)) is not None
        assert await chancy.get_all_queues() == []

    async def test_push_notifies_its_queue(self, chancy: Chancy, listener: Listener) -> None:
        await chancy.push(Job(func=FUNC, queue="mail"))
        assert await listener.drain() == [{"t": "queue.pushed", "q": "mail"}]

    async def test_notifications_disabled(self, dsn: str, prefix: str) -> None:
        quiet = Chancy(dsn, prefix=prefix, notifications=False, no_default_plugins=True)
        async with quiet:
            await quiet.migrate()
            listening = await Listener.open(quiet)
            try:
                await quiet.push(Job(func=FUNC))
                assert await listening.drain() == []
                assert await count_jobs(quiet) == 1
            finally:
                await listening.close()
                await quiet.migrate(to_version=0)


class TestPushMany:
    async def test_one_list_per_batch_in_input_order(self, chancy: Chancy) -> None:
        batches = [refs async for refs in chancy.push_many(numbered(7), batch_size=3)]
        assert [len(b) for b in batches] == [3, 3, 1]
        flat = [ref for batch in batches for ref in batch]
        assert len(set(flat)) == 7
        assert await kwargs_of(chancy, flat) == list(range(7))

    async def test_default_batch_size_is_one_batch(self, chancy: Chancy) -> None:
        batches = [refs async for refs in chancy.push_many(numbered(5))]
        assert [len(b) for b in batches] == [5]

    async def test_one_statement_per_batch_inserts_and_notifies(
        self, chancy: Chancy, listener: Listener
    ) -> None:
        jobs = [j.with_queue("a" if j.kwargs["i"] % 2 else "b") for j in numbered(10)]  # type: ignore[index]
        assert await count_jobs(chancy) == 0  # the engine's first-connect queries, not counted
        with recorded_statements() as seen:
            batches = [refs async for refs in chancy.push_many(jobs, batch_size=4)]
        inserts = [s for s in seen if f"INSERT INTO {chancy.prefix}jobs" in s]
        assert len(batches) == 3
        # One statement per batch: the insert and its notifications together.
        assert len(seen) == 3 and len(inserts) == 3
        assert all("pg_notify" in s for s in inserts)
        assert await count_jobs(chancy) == 10
        # One queue.pushed per distinct queue per batch (each batch is its own commit).
        assert sorted(await listener.pushed_queues()) == ["a", "a", "a", "b", "b", "b"]

    async def test_each_batch_is_committed_before_it_is_yielded(self, chancy: Chancy) -> None:
        seen: list[Reference] = []
        async for refs in chancy.push_many(numbered(6), batch_size=2):
            # Visible from another connection while the loop is still running...
            assert await chancy.get_job(refs[0]) is not None
            seen.extend(refs)
            break
        # ...and kept when the consumer stops early; later batches are never pushed.
        assert await count_jobs(chancy) == 2
        assert await kwargs_of(chancy, seen) == [0, 1]

    async def test_sync_push_many(self, chancy: Chancy) -> None:
        with chancy:
            with recorded_statements() as seen:
                batches = list(chancy.sync_push_many(numbered(5), batch_size=2))
        assert [len(b) for b in batches] == [2, 2, 1]
        assert len([s for s in seen if f"INSERT INTO {chancy.prefix}jobs" in s]) == 3
        assert await kwargs_of(chancy, [r for b in batches for r in b]) == list(range(5))

    async def test_sync_push_many_commits_before_yielding(self, chancy: Chancy) -> None:
        with chancy:
            for refs in chancy.sync_push_many(numbered(4), batch_size=3):
                assert chancy.sync_get_job(refs[0]) is not None
                break
        assert await count_jobs(chancy) == 3

    async def test_nothing_to_push(self, chancy: Chancy) -> None:
        assert [refs async for refs in chancy.push_many([])] == []
        async with chancy.engine.begin() as conn:
            assert await chancy.push_many_ex(conn, []) == []

    @pytest.mark.parametrize("size", [0, -1, 1.5, True])
    async def test_bad_batch_size(self, chancy: Chancy, size: object) -> None:
        with pytest.raises(ConfigurationError, match="batch_size"):
            async for _ in chancy.push_many(numbered(2), batch_size=size):  # type: ignore[arg-type]
                pass
        with pytest.raises(ConfigurationError, match="batch_size"):
            list(chancy.sync_push_many(numbered(2), batch_size=size))  # type: ignore[arg-type]
        assert await count_jobs(chancy) == 0
