"""chancy in one file: create the tables, declare queues, push jobs, run a worker, clean up.

Run it with ``.venv/bin/python examples/quickstart.py``. It uses the database named by
``CHANCY_DSN``; without it, ``Chancy()`` starts an embedded Postgres server (the
``embedded`` extra) in your per-user data directory, so no server needs to be set up, and
stops it again at exit. Its tables use the prefix ``CHANCY_PREFIX`` (default
``quickstart_``) and are removed at the end, so you can run it again and again.

In a real application the jobs live in an importable module and the worker runs as its
own process (``chancy --app myapp.chancy:app worker start``). Here everything shares one
script: a worker can run functions defined in ``__main__`` only when it runs in that same
script, with an executor that stays in this process (threads or the event loop).
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from chancy import Chancy, Job, Queue, QueuedJob, job
from chancy.plugin import Plugin
from chancy.worker import Worker

PREFIX = os.environ.get("CHANCY_PREFIX", "quickstart_")


# -- the jobs: plain functions, sync or async ----------------------------------------------
@job()  # pushed to the queue "default" unless told otherwise
def add(a: int, b: int) -> int:
    """A sync job: the "default" queue below runs it in a thread pool."""
    return a + b


def count_words(text: str) -> int:
    return len(text.split())


async def greet(name: str) -> str:
    """An async job: the "io" queue runs it on the worker's event loop."""
    await asyncio.sleep(0.2)  # stands in for an HTTP call or a database query
    return f"Hello, {name}!"


# -- seeing results: jobs' return values aren't stored, so a tiny plugin prints them -------
class PrintResults(Plugin):
    """Prints every job's outcome as the worker finishes it."""

    @staticmethod
    def get_identifier() -> str:
        return "quickstart.print_results"

    async def on_job_completed(
        self,
        *,
        worker: Worker,
        job: QueuedJob,
        exc: BaseException | None = None,
        result: Any = None,
    ) -> QueuedJob:
        call = f"{job.func.rpartition('.')[2]}({_arguments(job.kwargs)})"
        if exc is None:
            print(f"  done: {call} -> {result!r}", flush=True)
        else:
            print(f"  FAILED: {call}: {exc}", flush=True)
        return job


def _arguments(kwargs: dict[str, Any] | None) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in (kwargs or {}).items())


async def main() -> int:
    # No DSN: CHANCY_DSN if set, else the embedded server (started or joined).
    async with Chancy(prefix=PREFIX, plugins=[PrintResults()]) as chancy:
        print(f"Creating chancy's tables (prefix {PREFIX!r}) in {chancy.dsn} ...")
        await chancy.migrate()
        try:
            return await run(chancy)
        finally:
            await chancy.migrate(to_version=0)
            print("Removed the tables again. Bye!")


async def run(chancy: Chancy) -> int:
    # Queues are rows in the database: every worker sees them, no restart needed.
    await chancy.declare(Queue("default", executor=Chancy.Executor.Threaded, concurrency=2))
    await chancy.declare(Queue("io", executor=Chancy.Executor.Async, concurrency=10))

    # Pushing only writes rows; it works whether or not a worker is running.
    refs = [
        await chancy.push(add.job.with_kwargs(a=2, b=3)),
        await chancy.push(add.job.with_kwargs(a=40, b=2)),
        await chancy.push(Job.from_func(count_words, kwargs={"text": "jobs in postgres"})),
    ]
    async for batch in chancy.push_many(
        [Job.from_func(greet, queue="io", kwargs={"name": n}) for n in ("Ada", "Grace", "Linus")]
    ):
        refs.extend(batch)
    print(f"Pushed {len(refs)} jobs to the queues 'default' (threads) and 'io' (asyncio).")

    print("Starting a worker ...")
    async with Worker(chancy, register_signal_handlers=False, shutdown_timeout=10):
        finished = await chancy.wait_for_jobs(refs, interval=0.1, timeout=30)
        print("All jobs finished; stopping the worker (it lets running jobs finish first).")

    succeeded = sum(j.state == QueuedJob.State.SUCCEEDED for j in finished)
    print(f"{succeeded} of {len(refs)} jobs succeeded.")
    return 0 if succeeded == len(refs) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
