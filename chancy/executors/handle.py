"""The parent's handle on one child process of the process executor.

Everything here is driven by the event loop's readers (the child's pipe and its exit
sentinel), so waiting for a child to start, answer or die never blocks the worker. That
needs ``loop.add_reader`` on pipes: a selector event loop, as on Linux and macOS (not
Windows' default proactor loop).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import pickle
import signal
from collections.abc import Callable
from multiprocessing.context import BaseContext
from typing import Any

from chancy.executors.child import STOP_SIGNALS, Prepare, decode_reply, serve
from chancy.job import QueuedJob

__all__ = ["ChildExitedError", "ChildHandle"]

#: The message asking a child to exit (a pickled None).
STOP = pickle.dumps(None)
_start_pool: concurrent.futures.ThreadPoolExecutor | None = None


def _starter() -> concurrent.futures.ThreadPoolExecutor:
    """Threads that start children: not the loop's default executor, which sync jobs
    may fill up."""
    global _start_pool
    if _start_pool is None:
        _start_pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=4, thread_name_prefix="chancy-child-start"
        )
    return _start_pool


def start_shielded(process: Any) -> None:
    """Start ``process`` (in a starter thread) with SIGINT and SIGTERM blocked.

    A process inherits the blocked signals of the thread that starts it: the fork server
    (started by the first child's start) and every child then begin with a stop signal
    sent to the whole process group held pending, so it can't kill them while they
    import. The fork server keeps them blocked for good; each child replaces them with a
    no-op handler before unblocking them (:func:`~chancy.executors.child.ignore_stop_signals`).
    The worker's main thread is unaffected and receives the signal.

    multiprocessing's resource tracker unblocks both signals in the calling thread after
    starting its own process, so it is started first.
    """
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no process groups to guard
        process.start()
        return
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    process.start()


class ChildExitedError(Exception):
    """The child process running a job exited before it answered."""


def describe_exit(exitcode: int | None) -> str:
    if exitcode is None:
        return "an unknown status"
    if exitcode < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-exitcode).name}"
        return f"signal {-exitcode}"
    return f"exit code {exitcode}"


class ChildHandle:
    """One child: start it, hand it jobs one at a time, and stop or kill it.

    ``ready`` resolves once the child has imported everything and waits for work;
    ``exited`` resolves with its exit code once it is gone (for whatever reason).
    """

    def __init__(
        self, context: BaseContext, prepare: Prepare, initializer: Callable[[], None] | None
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.ready: asyncio.Future[int] = self.loop.create_future()
        self.exited: asyncio.Future[int | None] = self.loop.create_future()
        self.reply: asyncio.Future[tuple[bool, Any, Any, bool]] | None = None
        self.jobs_run = 0
        #: Set once the child must not take another job (killed, retired, or broken).
        self.doomed = False
        self.pid = 0
        self.conn, self._child_conn = context.Pipe(duplex=True)
        self.process = context.Process(  # type: ignore[attr-defined]
            target=serve,
            args=(self._child_conn, prepare, initializer),
            name="chancy-job-runner",
            daemon=False,  # daemonic processes may not start processes of their own
        )
        self._reap_tries = 0
        self.started = self.loop.create_task(self._start(), name="chancy:child-start")

    async def _start(self) -> None:
        """Start the process from a thread: with a fork server, the first start waits
        for the server to import chancy, which must not stall the event loop."""
        try:
            await self.loop.run_in_executor(_starter(), start_shielded, self.process)
        except Exception as exc:
            self.doomed = True
            self.ready.set_exception(ChildExitedError(f"Could not start a child process: {exc}"))
            self.ready.exception()  # retrieved: a spare child may have no waiter
            self.conn.close()
            self.exited.set_result(None)
            return
        finally:
            self._child_conn.close()
        self.pid = self.process.pid or 0
        self._fd = self.conn.fileno()
        self._sentinel = self.process.sentinel
        self.loop.add_reader(self._fd, self._on_readable)
        self.loop.add_reader(self._sentinel, self._on_exit)

    @property
    def busy(self) -> bool:
        return self.reply is not None and not self.reply.done()

    def submit(self, job: QueuedJob) -> asyncio.Future[tuple[bool, Any, Any, bool]]:
        """Send ``job`` to the (ready, idle) child; the future resolves with its reply."""
        if self.busy:
            raise RuntimeError(f"{self!r} is already running a job.")
        self.reply = self.loop.create_future()
        self.jobs_run += 1
        try:
            self.conn.send_bytes(pickle.dumps(job, pickle.HIGHEST_PROTOCOL))
        except (OSError, ValueError) as exc:
            self.doomed = True
            self.reply.set_exception(
                ChildExitedError(f"Could not send the job to its child process: {exc}.")
            )
        return self.reply

    def retire(self) -> None:
        """Ask an idle child to exit once it reads the request; reaping is automatic."""
        self.doomed = True
        if not self.exited.done():
            with contextlib.suppress(OSError, ValueError):
                self.conn.send_bytes(STOP)

    async def kill(self) -> None:
        """SIGKILL the child; returns once it is gone.

        No SIGTERM first: children ignore it (it is how a stop sent to the whole process
        group reaches them), and its default action gave a job no chance to clean up
        either.
        """
        self.doomed = True
        await asyncio.shield(self.started)
        if self.exited.done():
            return
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self.process.kill()
        await asyncio.shield(self.exited)

    async def stop(self, timeout: float) -> None:
        """Retire the child and wait for it, killing it if it does not leave in time."""
        self.retire()
        await asyncio.wait({self.exited}, timeout=timeout)
        if not self.exited.done():
            await self.kill()

    # -- loop callbacks -----------------------------------------------------------------
    def _on_readable(self) -> None:
        try:
            message = self.conn.recv_bytes()
        except (EOFError, OSError):
            self.loop.remove_reader(self._fd)  # the sentinel reports the exit
            return
        self._dispatch(message)

    def _dispatch(self, message: bytes) -> None:
        if not self.ready.done():
            self.ready.set_result(self.pid)  # the first message is the hello
            return
        reply, self.reply = self.reply, None
        if reply is None or reply.done():
            return
        try:
            decoded = decode_reply(message)
        except Exception as exc:
            self.doomed = True
            reply.set_exception(
                ChildExitedError(f"Could not read the job's outcome from its child: {exc!r}.")
            )
            return
        if decoded[3]:
            self.doomed = True
        reply.set_result(decoded)

    def _on_exit(self) -> None:
        self.loop.remove_reader(self._sentinel)
        # Read whatever the child sent before it went away: its last reply may be there.
        with contextlib.suppress(EOFError, OSError):
            while self.conn.poll():
                self._dispatch(self.conn.recv_bytes())
        self.loop.remove_reader(self._fd)
        self._reap()

    def _reap(self) -> None:
        """Collect the exit status; the sentinel can fire a moment before waitpid works."""
        self.process.join(0)
        if self.process.exitcode is None and self._reap_tries < 200:
            self._reap_tries += 1
            self.loop.call_later(0.005, self._reap)
            return
        self.doomed = True
        code = self.process.exitcode
        if self.ready.done():
            error = ChildExitedError(
                f"The child process (pid {self.pid}) running the job exited unexpectedly "
                f"with {describe_exit(code)}: it crashed, called os._exit(), or was killed "
                "(for example by the kernel's out-of-memory killer). The job did not finish."
            )
        else:
            error = ChildExitedError(
                f"The child process (pid {self.pid}) exited with {describe_exit(code)} "
                "before it was ready to run jobs. Its traceback is on the worker's stderr: "
                "usually the worker's __main__ script or on_initialize_worker() failed when "
                "the child imported it."
            )
        for future in (self.ready, self.reply):
            if future is not None and not future.done():
                future.set_exception(error)
                future.exception()  # retrieved: nobody may be waiting on a spare's hello
        self.reply = None
        with contextlib.suppress(Exception):
            self.conn.close()
        with contextlib.suppress(ValueError):
            self.process.close()
        if not self.exited.done():
            self.exited.set_result(code)

    def __repr__(self) -> str:
        state = "busy" if self.busy else ("doomed" if self.doomed else "idle")
        return f"<ChildHandle pid={self.pid} {state} jobs_run={self.jobs_run}>"
