"""The sub-interpreter executor: a clear configuration error where Python lacks support
(only that path can run on the Python these tests use), and the contract where it has it."""

from __future__ import annotations

import importlib
import logging
import sys

import pytest

from chancy import Chancy, Job, Queue
from chancy.errors import ConfigurationError
from chancy.executors import sub
from tests.helpers import LogWatch
from tests.worker import executor_contract as contract
from tests.worker import executor_jobs as ej
from tests.worker.worker_helpers import running_worker

SUPPORTED = sub.interpreter_pool_class() is not None


class Owner:
    """Just enough of a worker to construct an executor."""

    async def job_starting(self, executor: object, job: object) -> object:
        return job

    async def job_completed(self, executor: object, job: object, **outcome: object) -> None:
        return None


def test_importing_the_module_always_works() -> None:
    module = importlib.reload(sub)
    assert module.SubInterpreterExecutor.__name__ == "SubInterpreterExecutor"


@pytest.mark.skipif(SUPPORTED, reason="this Python supports sub-interpreter pools")
def test_construction_without_support_says_what_to_use_instead() -> None:
    with pytest.raises(ConfigurationError) as caught:
        sub.SubInterpreterExecutor(Owner(), Queue("q", executor=Chancy.Executor.SubInterpreter))
    message = str(caught.value)
    assert "needs Python 3.13+" in message
    assert sys.version.split()[0] in message
    assert "Chancy.Executor.Process" in message and "Chancy.Executor.Threaded" in message
    assert isinstance(caught.value, ValueError)  # upstream raised plain errors here


@pytest.mark.skipif(not SUPPORTED, reason="needs InterpreterPoolExecutor (Python 3.14+)")
async def test_runs_sync_and_async_jobs_with_context(chancy: Chancy) -> None:
    await contract.check_sync_and_async_jobs_with_context(chancy, Chancy.Executor.SubInterpreter)


@pytest.mark.skipif(not SUPPORTED, reason="needs InterpreterPoolExecutor (Python 3.14+)")
async def test_failures_are_recorded_and_never_break_the_worker(chancy: Chancy) -> None:
    await contract.check_failures(chancy, Chancy.Executor.SubInterpreter)


@pytest.mark.skipif(SUPPORTED, reason="this Python supports sub-interpreter pools")
async def test_a_queue_naming_it_is_logged_and_other_queues_still_run(chancy: Chancy) -> None:
    def reported(record: logging.LogRecord) -> bool:
        return record.exc_info is not None and "needs Python 3.13+" in str(record.exc_info[1])

    async with running_worker(chancy, contract.queue(Chancy.Executor.Threaded)) as (worker, _):
        with LogWatch(reported) as watch:
            await chancy.declare(Queue("sub", executor=Chancy.Executor.SubInterpreter))
            await watch.wait(what="the sub-interpreter queue's error to be logged")
        done = await contract.finish(chancy, Job.from_func(ej.whereabouts, queue="ex"))
        assert "sub" not in worker.executors
    assert done.state == "succeeded"
