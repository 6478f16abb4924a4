"""Run one real worker process on a prefix, for the tests that need a separate process.

Usage: ``python tests/worker/run_worker.py DSN PREFIX [--worker-id ID] [--shutdown-timeout S]``

The queues must already be declared. Signal handlers are installed (SIGTERM/SIGINT stop
the worker gracefully, a second signal forces it). Prints ``READY <worker_id>`` once the
worker runs and ``STOPPED <event>`` when it has stopped, then exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from chancy import Chancy  # noqa: E402
from chancy.hub import Event  # noqa: E402
from chancy.worker import Worker  # noqa: E402
from tests.worker import jobs_for_worker_tests as jobs  # noqa: E402


async def main(args: argparse.Namespace) -> None:
    async with Chancy(args.dsn, prefix=args.prefix, no_default_plugins=True) as app:
        worker = Worker(
            app,
            worker_id=args.worker_id,
            shutdown_timeout=args.shutdown_timeout,
            heartbeat_poll_interval=1,
            queue_change_poll_interval=1,
        )
        ended: list[str] = []

        def record(event: Event) -> None:
            ended.append(event.name)

        worker.hub.on("worker.stopped", record)
        worker.hub.on("worker.shutdown_timeout", record)
        await worker.start()
        print(f"READY {worker.worker_id}", flush=True)
        await worker.wait_for_shutdown()
        await jobs.close_side_connections()
        print(f"STOPPED {' '.join(ended)}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("dsn")
    parser.add_argument("prefix")
    parser.add_argument("--worker-id", default=None)
    parser.add_argument("--shutdown-timeout", type=float, default=30)
    asyncio.run(main(parser.parse_args()))
