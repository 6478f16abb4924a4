"""Result storage rules without a database: encoding, the opt-out, settings validation,
and how the completer bounds a statement's size."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

import pytest

from chancy import Chancy, Job, Queue, QueuedJob, job
from chancy.errors import ConfigurationError
from chancy.executors.base import ResultNotReturned
from chancy.queue import DEFAULT_MAX_RESULT_BYTES
from chancy.worker.completer import Completer
from chancy.worker.outcomes import Outcome
from chancy.worker.results import encode_result, settle_result


def returns_one() -> int:
    return 1


def queued(**fields: object) -> QueuedJob:
    fields.setdefault("func", "m.f")
    return QueuedJob(
        id=uuid.uuid4(),
        created_at=dt.datetime.now(dt.UTC),
        state=QueuedJob.State.SUCCEEDED,
        **fields,  # type: ignore[arg-type]
    )


def test_encode_result() -> None:
    assert encode_result(None, 10) == (None, None)
    assert encode_result({"a": [1, "é"]}, 100) == ('{"a":[1,"é"]}', None)
    # The limit counts UTF-8 bytes of the JSON: "é" is 2 bytes, plus two quotes.
    assert encode_result("é", 4) == ('"é"', None)
    too_big = encode_result("éx", 4)[1] or ""
    assert "5 bytes of JSON, more than the limit of 4" in too_big
    for bad, words in [
        ({1, 2}, "not JSON-serialisable"),
        (float("inf"), "not JSON-serialisable"),
        ("a\x00", "NUL character"),
        ("\ud800", "lone surrogate"),
        (ResultNotReturned("lost"), "did not reach the worker: lost"),
    ]:
        text, reason = encode_result(bad, 1000)
        assert text is None and reason is not None and words in reason, bad


def test_settle_result_records_the_reason_or_clears_an_old_one() -> None:
    stored, text, reason = settle_result(queued(meta={"result_error": "old"}), [1], limit=100)
    assert (text, reason, stored.result) == ("[1]", None, [1])
    assert stored.meta == {}
    failed, text, reason = settle_result(queued(), object(), limit=100)
    assert text is None and failed.result is None
    assert failed.meta["result_error"] == reason
    opted_out = queued(meta={"store_result": False})
    assert settle_result(opted_out, object(), limit=100) == (opted_out, None, None)


def test_store_result_option_everywhere_a_job_is_made() -> None:
    plain = Job.from_func(returns_one)
    assert plain.stores_result and plain.meta == {}
    off = Job.from_func(returns_one, store_result=False, meta={"k": 1})
    assert not off.stores_result and off.meta == {"k": 1, "store_result": False}
    assert off.with_store_result(True).meta == {"k": 1}
    assert job(store_result=False)(returns_one).job.stores_result is False
    # It travels in meta, so cron schedules and workflow steps keep it.
    assert Job.unpack(off.pack()).stores_result is False
    with pytest.raises(ConfigurationError, match="store_result must be True or False"):
        plain.with_store_result("no")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "1", 65 * 1024 * 1024])
def test_max_result_bytes_is_checked(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="max_result_bytes must be an int"):
        Queue("q", max_result_bytes=bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="store_result=False"):
        Chancy("postgresql://u@h/db", max_result_bytes=bad)  # type: ignore[arg-type]


def test_max_result_bytes_defaults_and_round_trips() -> None:
    assert Chancy("postgresql://u@h/db").max_result_bytes == DEFAULT_MAX_RESULT_BYTES == 2**20
    queue = Queue("q", max_result_bytes=10)
    assert Queue.unpack(queue.pack()) == queue
    assert Queue("q").max_result_bytes is None


def test_completer_batches_stop_at_a_byte_budget() -> None:
    completer = Completer(None, None, log=logging.getLogger("t"), batch_bytes=25)  # type: ignore[arg-type]
    completer._pending = [Outcome(queued(), 0, "x" * 10) for _ in range(5)]
    assert len(completer._next_batch()) == 2
    completer._pending = [Outcome(queued(), 0, "x" * 100)] + completer._pending
    assert len(completer._next_batch()) == 1  # one oversized result still goes, alone
    completer._pending = [Outcome(queued(), 0) for _ in range(3)]
    assert len(completer._next_batch()) == 3


def test_sub_interpreter_results_that_cannot_be_pickled_back_are_explained() -> None:
    """The function each sub-interpreter runs (callable on any Python)."""
    from chancy.executors.sub import SubInterpreterExecutor, run_job_returning

    lock = queued(func="tests.results.result_jobs.returns_a_lock")
    result, _ = run_job_returning(SubInterpreterExecutor, lock)
    assert isinstance(result, ResultNotReturned)
    assert "could not be pickled out of its sub-interpreter" in result.reason
    fine = queued(func="tests.results.result_jobs.returns", kwargs={"value": [1]})
    assert run_job_returning(SubInterpreterExecutor, fine) == ([1], {})
