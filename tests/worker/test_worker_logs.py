"""What the worker logs, the structured fields on each record, the JSON output, and the
library convention (a NullHandler, nothing printed twice under an app's own config)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

import chancy
from chancy import Chancy, Job, Queue
from chancy.app.logging import JsonFormatter, setup_default_logger
from tests.worker import jobs_for_worker_tests as jobs
from tests.worker.worker_helpers import ASYNC, running_worker

WAIT = 10


@pytest.fixture
def chancy_logger() -> Iterator[logging.Logger]:
    """The ``chancy`` logger, with its handlers and level restored afterwards."""
    logger = logging.getLogger("chancy")
    handlers, level = list(logger.handlers), logger.level
    try:
        yield logger
    finally:
        logger.handlers[:] = handlers
        logger.setLevel(level)


def from_job(caplog: pytest.LogCaptureFixture, job_id: object) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "job_id", None) == str(job_id)]


async def test_failures_retries_and_successes(
    chancy: Chancy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="chancy")
    async with running_worker(chancy, Queue("logs", executor=ASYNC)) as (worker, _):
        failing = await chancy.push(
            Job.from_func(jobs.boom, queue="logs", max_attempts=2, kwargs={"message": "no disk"})
        )
        fine = await chancy.push(Job.from_func(jobs.add, queue="logs", kwargs={"a": 1, "b": 2}))
        await chancy.wait_for_jobs([failing, fine], interval=0.05, timeout=WAIT)

    func = "tests.worker.jobs_for_worker_tests.boom"
    warnings = [r for r in from_job(caplog, failing.identifier) if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        f"Job {failing.identifier} ({func}) on queue 'logs' failed on attempt 1 of 2 "
        "and will be retried: RuntimeError: no disk",
        f"Job {failing.identifier} ({func}) on queue 'logs' failed on attempt 2 of 2 "
        "and will not be retried: RuntimeError: no disk",
    ]
    for record, attempt, state in zip(warnings, (1, 2), ("retrying", "failed"), strict=True):
        assert (record.queue, record.func, record.attempt) == ("logs", func, attempt)  # type: ignore[attr-defined]
        assert record.state == state and record.error == "RuntimeError: no disk"  # type: ignore[attr-defined]
        assert record.worker_id == worker.worker_id  # type: ignore[attr-defined]
        assert record.exc_info is None  # the traceback goes to DEBUG, not to the warning

    tracebacks = [r for r in from_job(caplog, failing.identifier) if r.levelno == logging.DEBUG]
    assert len(tracebacks) == 2
    assert all(r.exc_info and r.exc_info[0] is RuntimeError for r in tracebacks)
    assert all(r.worker_id == worker.worker_id for r in tracebacks)  # type: ignore[attr-defined]

    (success,) = from_job(caplog, fine.identifier)
    assert success.levelno == logging.DEBUG
    assert success.getMessage() == (
        f"Job {fine.identifier} (tests.worker.jobs_for_worker_tests.add) succeeded on "
        "queue 'logs' (attempt 1)."
    )
    assert success.queue == "logs" and success.worker_id == worker.worker_id  # type: ignore[attr-defined]


async def test_start_and_stop_lines(chancy: Chancy, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="chancy")
    queues = [
        Queue("fast", executor=ASYNC, concurrency=7),
        Queue("blocking", executor=Chancy.Executor.Threaded, concurrency=3),
    ]
    async with running_worker(chancy, *queues) as (worker, _):
        (started,) = [r for r in caplog.records if "started, serving" in r.getMessage()]
        assert started.getMessage() == (
            f"Worker {worker.worker_id} started, serving blocking (ThreadedExecutor, 3 "
            "slots), default (AsyncExecutor, 1 slots), fast (AsyncExecutor, 7 slots)."
        )
        assert started.worker_id == worker.worker_id  # type: ignore[attr-defined]
        assert started.queues[0] == {  # type: ignore[attr-defined]
            "queue": "blocking",
            "executor": "ThreadedExecutor",
            "slots": 3,
        }
        assert not [r for r in caplog.records if "stopped" in r.getMessage()]
    (stopped,) = [r for r in caplog.records if r.getMessage().endswith("stopped.")]
    assert stopped.getMessage() == f"Worker {worker.worker_id} stopped."
    assert stopped.worker_id == worker.worker_id and stopped.clean is True  # type: ignore[attr-defined]
    ours = [r for r in caplog.records if r.name.startswith("chancy")]
    assert ours[-1] is stopped


async def test_json_output_carries_the_fields(
    chancy: Chancy, chancy_logger: logging.Logger
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    chancy_logger.addHandler(handler)
    chancy_logger.setLevel(logging.DEBUG)
    async with running_worker(chancy, Queue("json", executor=ASYNC)) as (worker, _):
        ref = await chancy.push(Job.from_func(jobs.boom, queue="json", kwargs={"message": "x"}))
        await chancy.wait_for_job(ref, interval=0.05, timeout=WAIT)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert all(line["worker_id"] == worker.worker_id for line in lines)
    warning, traceback = [line for line in lines if line.get("job_id") == str(ref.identifier)]
    assert warning["level"] == "WARNING" and warning["logger"] == "chancy"
    assert warning["queue"] == "json" and warning["func"].endswith(".boom")
    assert warning["attempt"] == 1 and warning["error"] == "RuntimeError: x"
    assert warning["message"].startswith(f"Job {ref.identifier} ")
    assert traceback["level"] == "DEBUG" and "RuntimeError: x" in traceback["exc_info"]
    assert any(line["message"].startswith(f"Worker {worker.worker_id} started") for line in lines)


def test_setup_default_logger_prints_text_or_json(
    chancy_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_default_logger(logging.INFO)
    chancy_logger.info("hello %s", "there", extra={"job_id": "j1"})
    setup_default_logger(logging.INFO, fmt="json")
    chancy_logger.getChild("worker").warning("careful", extra={"job_id": "j2", "queue": "q"})
    text, line = capsys.readouterr().err.splitlines()
    assert text.endswith("[INFO] hello there")
    data = json.loads(line)
    assert (data["level"], data["message"], data["job_id"], data["queue"]) == (
        "WARNING",
        "careful",
        "j2",
        "q",
    )
    assert data["logger"] == "chancy.worker" and data["time"].endswith("+00:00")
    with pytest.raises(ValueError, match="use 'text' or 'json'"):
        setup_default_logger(fmt="xml")  # type: ignore[arg-type]


def test_the_library_installs_only_a_null_handler() -> None:
    logger = logging.getLogger("chancy")
    Chancy("postgresql://u@h/db")  # constructing an app installs nothing either
    assert chancy.Chancy is Chancy
    extra = [h for h in logger.handlers if not isinstance(h, logging.NullHandler)]
    assert extra == [] and logger.propagate is True
    assert any(isinstance(h, logging.NullHandler) for h in logger.handlers)


async def test_nothing_prints_twice_under_the_apps_own_logging(
    chancy: Chancy, capfd: pytest.CaptureFixture[str]
) -> None:
    """As with ``logging.basicConfig``: one handler on the root logger, and chancy's
    records reach it once and print nowhere else."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        async with running_worker(chancy, Queue("twice", executor=ASYNC)):
            ref = await chancy.push(Job.from_func(jobs.boom, queue="twice"))
            await chancy.wait_for_job(ref, interval=0.05, timeout=WAIT)
    finally:
        root.removeHandler(handler)
    lines = [line for line in stream.getvalue().splitlines() if str(ref.identifier) in line]
    assert len(lines) == 1 and lines[0].startswith("chancy WARNING Job ")
    out, err = capfd.readouterr()
    assert str(ref.identifier) not in out + err
    # Nowhere else to print from: every handler on the way up is a NullHandler.
    for name in ("chancy.worker", "chancy"):
        assert all(isinstance(h, logging.NullHandler) for h in logging.getLogger(name).handlers)
