"""Transactional push from synchronous code, such as a Flask or Django-style view.

The same signup flow as ``transactional_push.py`` with a plain SQLAlchemy ``Session``:
:meth:`Chancy.sync_push_ex` joins the session's transaction, never commits it, and the job
lives or dies with the user row. Only the one-off migration is async (in production you
would run ``chancy --app ... misc migrate`` at deploy time instead).

    CHANCY_DSN=postgresql://localhost/test python examples/sync_push.py
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from chancy import Chancy, Queue, job

DEFAULT_DSN = "postgresql://root@127.0.0.1:5432/test"


@job(queue="mail")
def send_welcome_email(email: str) -> None:
    print(f"Welcome, {email}!")


def users_table(prefix: str) -> sa.Table:
    return sa.Table(
        f"{prefix}users",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.Text, nullable=False, unique=True),
    )


def signup(chancy: Chancy, sessions: sessionmaker[Session], users: sa.Table, email: str) -> str:
    """Create the account and queue its welcome email in one transaction."""
    with sessions.begin() as session:  # commits on success, rolls back on error
        session.execute(users.insert().values(email=email))
        ref = chancy.sync_push_ex(session, send_welcome_email.job.with_kwargs(email=email))
        if email.endswith("@spam.invalid"):
            raise ValueError(f"refusing {email}")
    return str(ref.identifier)


async def _migrate(chancy: Chancy, to_version: int | None = None) -> None:
    async with chancy:  # disposes the async engine, so the next event loop starts clean
        await chancy.migrate(to_version=to_version)


def main(dsn: str | None = None, prefix: str = "example_sync_") -> dict[str, Any]:
    dsn = dsn or os.environ.get("CHANCY_DSN", DEFAULT_DSN)
    chancy = Chancy(dsn, prefix=prefix, no_default_plugins=True)
    users = users_table(prefix)
    asyncio.run(_migrate(chancy))
    try:
        with chancy:
            chancy.sync_declare(Queue("mail"))
            users.create(chancy.sync_engine)
            try:
                sessions = sessionmaker(chancy.sync_engine)

                ref = signup(chancy, sessions, users, "ada@example.com")
                print(f"signup ada@example.com: user row and job {ref} committed together")
                try:
                    signup(chancy, sessions, users, "bot@spam.invalid")
                except ValueError as exc:
                    print(f"signup bot@spam.invalid failed ({exc}): user row and job rolled back")

                with chancy.sync_engine.connect() as conn:
                    emails = list(conn.execute(sa.select(users.c.email)).scalars())
                    jobs = chancy.models.Job.__table__
                    kwargs = list(conn.execute(sa.select(jobs.c.kwargs)).scalars())
                print(f"users in the table: {emails}")
                print(f"jobs in the queue:  {kwargs}")
                return {"users": emails, "jobs": kwargs, "committed_ref": ref}
            finally:
                users.drop(chancy.sync_engine)
    finally:
        asyncio.run(_migrate(chancy, to_version=0))
        print(f"cleaned up: dropped {users.name} and every {prefix}* chancy table")


if __name__ == "__main__":
    main()
