"""Transactional push: a job is queued if, and only if, your own transaction commits.

A "signup handler" inserts a user row and pushes a welcome-email job in ONE
``AsyncSession`` transaction with :meth:`Chancy.push_ex`. The first signup commits, so the
user and the job appear together (and workers are woken by ``queue.pushed`` at that
moment). The second signup fails after pushing, so its transaction rolls back and takes
both the user row and the job with it: no email is ever sent for an account that does
not exist.

Run it against any Postgres (it creates and removes its own tables)::

    CHANCY_DSN=postgresql://localhost/test python examples/transactional_push.py
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chancy import Chancy, Queue, job

DEFAULT_DSN = "postgresql://root@127.0.0.1:5432/test"
PLANS = {"free", "pro"}


@job(queue="mail")
def send_welcome_email(email: str) -> None:
    """The job; a worker would run it. Here we only queue it."""
    print(f"Welcome, {email}!")


class SignupError(Exception):
    pass


def users_table(prefix: str) -> sa.Table:
    return sa.Table(
        f"{prefix}users",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.Text, nullable=False, unique=True),
        sa.Column("plan", sa.Text, nullable=False),
    )


async def signup(
    chancy: Chancy,
    sessions: async_sessionmaker[AsyncSession],
    users: sa.Table,
    email: str,
    plan: str,
) -> str:
    """Create the account and queue its welcome email, atomically."""
    async with sessions.begin() as session:  # commits on success, rolls back on error
        await session.execute(users.insert().values(email=email, plan=plan))
        ref = await chancy.push_ex(session, send_welcome_email.job.with_kwargs(email=email))
        if plan not in PLANS:  # a failure after the push: both writes are undone
            raise SignupError(f"unknown plan {plan!r}")
    return str(ref.identifier)


async def main(dsn: str | None = None, prefix: str = "example_") -> dict[str, Any]:
    dsn = dsn or os.environ.get("CHANCY_DSN", DEFAULT_DSN)
    users = users_table(prefix)
    async with Chancy(dsn, prefix=prefix, no_default_plugins=True) as chancy:
        await chancy.migrate()
        await chancy.declare(Queue("mail"))
        async with chancy.engine.begin() as conn:
            await conn.run_sync(users.create)
        try:
            sessions = async_sessionmaker(chancy.engine, expire_on_commit=False)

            ref = await signup(chancy, sessions, users, "ada@example.com", "pro")
            print(f"signup ada@example.com: user row and job {ref} committed together")

            try:
                await signup(chancy, sessions, users, "bob@example.com", "platinum")
            except SignupError as exc:
                print(f"signup bob@example.com failed ({exc}): user row and job rolled back")

            async with chancy.engine.connect() as conn:
                emails = (await conn.execute(sa.select(users.c.email))).scalars().all()
                jobs_table = chancy.models.Job.__table__
                queued = (
                    await conn.execute(sa.select(jobs_table.c.queue, jobs_table.c.kwargs))
                ).all()
            print(f"users in the table: {list(emails)}")
            print(f"jobs in the queue:  {[(q, kw) for q, kw in queued]}")
            return {
                "users": list(emails),
                "jobs": [{"queue": q, "kwargs": kw} for q, kw in queued],
                "committed_ref": ref,
            }
        finally:
            async with chancy.engine.begin() as conn:
                await conn.run_sync(users.drop)
            await chancy.migrate(to_version=0)
            print(f"cleaned up: dropped {users.name} and every {prefix}* chancy table")


if __name__ == "__main__":
    asyncio.run(main())
