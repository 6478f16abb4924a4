"""A process of an app on ``Chancy.embedded(path)``, for the sharing tests.

``python -m tests.embedded.share_user PATH PREFIX [push]``: joins (or starts) the server,
pushes a job if asked, prints ``ready <server start time> jobs=<n>``, waits for a line on
stdin, then counts the jobs again (proving the server is still up) and exits.
"""

from __future__ import annotations

import asyncio
import sys

import sqlalchemy as sa

from chancy import Chancy, Job


def noop() -> None:
    """The job pushed; never run."""


async def count_jobs(app: Chancy) -> int:
    async with app.engine.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count(app.models.Job.id)))).scalar_one())


async def main(path: str, prefix: str, push: bool) -> None:
    async with Chancy.embedded(path, prefix=prefix, no_default_plugins=True) as app:
        if push:
            await app.migrate()
            await app.push(Job.from_func(noop))
        async with app.engine.connect() as conn:
            started = await conn.scalar(
                sa.text("SELECT extract(epoch FROM pg_postmaster_start_time())")
            )
        print(f"ready {started} jobs={await count_jobs(app)}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        print(f"still jobs={await count_jobs(app)}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3:] == ["push"]))
