"""chancy.testing: each helper passes when it should and fails, helpfully, when it should."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from chancy import Chancy, Job, Queue
from chancy.config import validate_prefix
from chancy.errors import ConfigurationError
from chancy.testing import (
    assert_not_pushed,
    assert_pushed,
    isolated_chancy,
    pushed_jobs,
    random_prefix,
)
from tests.db.helpers import IN_TX


def send_welcome(to: str) -> None:
    pass


def send_invoice(number: int) -> None:
    pass


async def tables_of(app: Chancy) -> set[str]:
    query = sa.text(
        "SELECT relname FROM pg_class WHERE relkind = 'r' "
        "AND relnamespace = current_schema()::regnamespace AND starts_with(relname, :p)"
    )
    async with app.engine.connect() as conn:
        return set((await conn.execute(query, {"p": app.prefix})).scalars())


async def push_two(app: Chancy, tx: AsyncSession) -> None:
    await app.declare_ex(tx, Queue("default"))
    await app.declare_ex(tx, Queue("billing"))
    await app.push_ex(tx, Job.from_func(send_welcome, kwargs={"to": "a@example.com"}))
    await app.push_ex(tx, Job.from_func(send_invoice, kwargs={"number": 7}, queue="billing"))


def test_random_prefix_is_valid_and_fresh() -> None:
    prefixes = {random_prefix("tenant") for _ in range(50)}
    assert len(prefixes) == 50
    for prefix in prefixes:
        assert validate_prefix(prefix) == prefix
        assert re.fullmatch(r"tenant_[0-9a-f]{8}_", prefix)


async def test_isolated_chancy_migrates_then_removes_every_table(dsn: str) -> None:
    async with isolated_chancy(dsn, no_default_plugins=True) as app:
        assert await app.is_up_to_date()
        assert f"{app.prefix}jobs" in await tables_of(app)
    async with Chancy(dsn, prefix=app.prefix) as observer:
        assert await tables_of(observer) == set()


async def test_isolated_chancy_cleans_up_when_the_test_fails(dsn: str) -> None:
    with pytest.raises(RuntimeError, match="test body failed"):
        async with isolated_chancy(dsn, no_default_plugins=True) as app:
            raise RuntimeError("test body failed")
    async with Chancy(dsn, prefix=app.prefix) as observer:
        assert await tables_of(observer) == set()


async def test_isolated_chancy_without_migrate_creates_nothing(dsn: str) -> None:
    async with isolated_chancy(dsn, migrate=False, no_default_plugins=True) as app:
        assert await tables_of(app) == set()
        assert not await app.is_up_to_date()


async def test_isolated_chancy_refuses_a_prefix_that_has_tables(chancy: Chancy, dsn: str) -> None:
    with pytest.raises(ConfigurationError, match="already has chancy tables"):
        async with isolated_chancy(dsn, prefix=chancy.prefix):
            pytest.fail("the body must not run")
    assert await chancy.is_up_to_date()  # refused, not wiped


@IN_TX
async def test_pushed_jobs_filters(shared_chancy: Chancy, tx: AsyncSession) -> None:
    app = shared_chancy
    assert await pushed_jobs(app, session=tx) == []
    await push_two(app, tx)

    assert [j.func for j in await pushed_jobs(app, session=tx)] == [
        f"{__name__}.send_welcome",
        f"{__name__}.send_invoice",
    ]
    [by_path] = await pushed_jobs(app, session=tx, func=f"{__name__}.send_invoice")
    [by_function] = await pushed_jobs(app, session=tx, func=send_invoice)
    assert by_path == by_function
    assert [j.kwargs for j in await pushed_jobs(app, session=tx, queue="billing")] == [
        {"number": 7}
    ]
    assert len(await pushed_jobs(app, session=tx, state="pending", unique_key=None)) == 2
    assert (
        await pushed_jobs(app, session=tx, func=send_welcome, kwargs={"to": "b@example.com"}) == []
    )
    with pytest.raises(TypeError, match="Unknown job field.*kwarg.*filter on any of"):
        await pushed_jobs(app, session=tx, kwarg={"to": "a@example.com"})


@IN_TX
async def test_assert_pushed_passes_and_returns_the_jobs(
    shared_chancy: Chancy, tx: AsyncSession
) -> None:
    app = shared_chancy
    await push_two(app, tx)
    [job] = await assert_pushed(app, session=tx, func=send_welcome, kwargs={"to": "a@example.com"})
    assert job.queue == "default"
    assert len(await assert_pushed(app, session=tx, count=2)) == 2
    assert await assert_pushed(app, session=tx, func=send_welcome, queue="billing", count=0) == []


@IN_TX
async def test_assert_pushed_fails_listing_what_was_pushed(
    shared_chancy: Chancy, tx: AsyncSession
) -> None:
    app = shared_chancy
    with pytest.raises(AssertionError, match="No job was pushed matching anything"):
        await assert_pushed(app, session=tx)

    await push_two(app, tx)
    with pytest.raises(AssertionError) as caught:
        await assert_pushed(app, session=tx, func=send_welcome, kwargs={"to": "b@example.com"})
    message = str(caught.value)
    assert f"func='{__name__}.send_welcome', kwargs={{'to': 'b@example.com'}}" in message
    assert "Pushed jobs (2):" in message
    assert "kwargs={'to': 'a@example.com'}" in message  # the near miss is shown

    with pytest.raises(AssertionError, match=r"Expected 1 job\(s\) matching anything, found 2"):
        await assert_pushed(app, session=tx, count=1)
    with pytest.raises(ValueError, match="count must be 0 or more"):
        await assert_pushed(app, session=tx, count=-1)


@IN_TX
async def test_assert_not_pushed(shared_chancy: Chancy, tx: AsyncSession) -> None:
    app = shared_chancy
    await assert_not_pushed(app, session=tx)
    await push_two(app, tx)
    await assert_not_pushed(app, session=tx, func=send_welcome, queue="billing")
    await assert_not_pushed(app, session=tx, func="app.tasks.never")
    with pytest.raises(AssertionError, match=r"Expected 0 job\(s\) matching queue='billing'"):
        await assert_not_pushed(app, session=tx, queue="billing")


async def test_helpers_read_inside_an_uncommitted_session(chancy: Chancy) -> None:
    job = Job.from_func(send_welcome, kwargs={"to": "tx@example.com"})
    async with chancy.engine.connect() as conn:
        await chancy.push_ex(conn, job)
        await assert_pushed(chancy, func=send_welcome, count=1, session=conn)
        await assert_not_pushed(chancy, func=send_welcome)  # not committed: invisible outside
        await conn.rollback()
        await assert_not_pushed(chancy, func=send_welcome, session=conn)
