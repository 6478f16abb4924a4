"""Bad input fails loudly, names the problem, and writes nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from chancy import Chancy, Job, Queue
from chancy.errors import ConfigurationError
from tests.db.helpers import Listener
from tests.helpers import count_jobs

FUNC = "tests.db.test_bad_input.work"


def work(**kwargs: Any) -> None:
    pass


def make_nested() -> Any:
    def nested() -> None:
        pass

    return nested


GOOD = Job(func=FUNC, kwargs={"ok": 1})

BAD_JOBS = {
    "object kwarg": (Job(func=FUNC, kwargs={"x": object()}), "kwargs must be JSON-serialisable"),
    "datetime kwarg": (
        Job(func=FUNC, kwargs={"at": dt.datetime.now(dt.UTC)}),
        "kwargs must be JSON-serialisable",
    ),
    "set meta": (Job(func=FUNC, meta={"s": {1}}), "meta must be JSON-serialisable"),
    "NaN kwarg": (Job(func=FUNC, kwargs={"x": math.nan}), "kwargs must be JSON-serialisable"),
    "NUL kwarg": (Job(func=FUNC, kwargs={"x": "a\x00b"}), "NUL"),
    "int key": (Job(func=FUNC, kwargs={1: 2}), "keys must be strings"),
    "priority too big": (Job(func=FUNC, priority=2**31), "priority=2147483648 is outside"),
    "priority too small": (Job(func=FUNC, priority=-(2**31) - 1), "priority"),
    "max_attempts": (Job(func=FUNC, max_attempts=0), "max_attempts"),
    "naive time": (Job(func=FUNC, scheduled_at=dt.datetime(2030, 1, 1)), "timezone-aware"),
    "long queue name": (Job(func=FUNC, queue="q" * 256), "limited to 255 characters"),
    "long unique key": (Job(func=FUNC, unique_key="é" * 1025), "2050 bytes"),
}


@pytest.mark.parametrize("case", sorted(BAD_JOBS))
async def test_push_rejects_and_writes_nothing(
    chancy: Chancy, listener: Listener, case: str
) -> None:
    bad, message = BAD_JOBS[case]
    with pytest.raises(ConfigurationError, match=message):
        await chancy.push(bad)
    with pytest.raises(ConfigurationError, match=message):
        async for _ in chancy.push_many([GOOD, bad]):
            pass
    # Every job is checked before the first batch, so the good one is not committed
    # even in a batch of its own.
    with pytest.raises(ConfigurationError, match=message):
        async for _ in chancy.push_many([GOOD, bad], batch_size=1):
            pass
    with chancy:
        with pytest.raises(ConfigurationError, match=message):
            chancy.sync_push(bad)
        with pytest.raises(ConfigurationError, match=message):
            list(chancy.sync_push_many([GOOD, GOOD, bad], batch_size=2))
    assert await count_jobs(chancy) == 0
    assert await listener.drain() == []


async def test_rejected_push_ex_sends_no_statement(chancy: Chancy) -> None:
    """The caller's transaction is untouched: it can still push and commit."""
    async with AsyncSession(chancy.engine) as session:
        with pytest.raises(ConfigurationError, match="limited to 255"):
            await chancy.push_many_ex(session, [GOOD, GOOD.with_queue("q" * 256)])
        assert not session.in_transaction()  # nothing was executed at all
        await chancy.push_ex(session, GOOD)
        await session.commit()
    assert await count_jobs(chancy) == 1


def test_functions_workers_cannot_import() -> None:
    with pytest.raises(ConfigurationError, match="lambda"):
        Job.from_func(lambda: None)
    with pytest.raises(ConfigurationError, match="nested functions"):
        Job.from_func(make_nested())


async def test_functions_in_main_are_allowed(chancy: Chancy) -> None:
    ref = await chancy.push(Job(func="__main__.fn"))
    assert (await chancy.get_job(ref)).func == "__main__.fn"  # type: ignore[union-attr]


async def test_not_a_job(chancy: Chancy) -> None:
    with pytest.raises(ConfigurationError, match="Expected a Job"):
        await chancy.push(work)  # type: ignore[arg-type]
    assert await count_jobs(chancy) == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rate_limit": 5}, "rate_limit and rate_limit_window go together"),
        ({"rate_limit_window": 60}, "rate_limit and rate_limit_window go together"),
        ({"concurrency": 0}, "concurrency must be a positive int"),
        ({"concurrency": -2}, "concurrency must be a positive int"),
        ({"polling_interval": -1}, "polling_interval must be positive"),
        ({"tags": "worker-1"}, "not a single string"),
    ],
)
def test_bad_queue_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Queue("q", **options)


async def test_declare_revalidates(chancy: Chancy) -> None:
    """A Queue changed behind the dataclass's back is still checked at declare time."""
    sneaky = Queue("q")
    object.__setattr__(sneaky, "concurrency", 0)
    with pytest.raises(ConfigurationError, match="concurrency"):
        await chancy.declare(sneaky)
    with chancy, pytest.raises(ConfigurationError, match="concurrency"):
        chancy.sync_declare(sneaky)
    assert await chancy.get_all_queues() == []


async def test_declare_rejects_tags_that_do_not_compile(chancy: Chancy) -> None:
    with pytest.raises(ConfigurationError, match=r"\['\(broken'\] do not compile"):
        await chancy.declare(Queue("q", tags={"ok", "(broken"}))
    assert await chancy.get_all_queues() == []


async def test_declare_needs_a_queue(chancy: Chancy) -> None:
    with pytest.raises(ConfigurationError, match="Expected a Queue"):
        await chancy.declare("default")  # type: ignore[arg-type]


async def test_pause_with_a_naive_resume_time(chancy: Chancy) -> None:
    await chancy.declare(Queue("q"))
    with pytest.raises(ConfigurationError, match="timezone-aware"):
        await chancy.pause_queue("q", resume_at=dt.datetime(2030, 1, 1))
    assert (await chancy.get_queue("q")).state is Queue.State.ACTIVE


@pytest.mark.parametrize("prefix", ["Bad-", "chancy", "x" * 40 + "_", "drop table_"])
def test_invalid_prefix(dsn: str, prefix: str) -> None:
    with pytest.raises(ConfigurationError, match=repr(prefix)[:20].replace("(", r"\(")):
        Chancy(dsn, prefix=prefix)


def test_replace_keeps_validation() -> None:
    with pytest.raises(ConfigurationError, match="concurrency"):
        dataclasses.replace(Queue("q"), concurrency=-1)
