"""Import failures name their real cause: the module that is missing, wherever it is
imported from (a job's module, an ``--app`` module, an executor path)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from chancy import Chancy, Job, Queue
from chancy.cli.main import cli
from chancy.errors import ConfigurationError
from chancy.utils import import_string
from chancy.worker import Worker

BROKEN = "tests.db.broken_job_module"
MISSING = "nosuch_dependency_for_chancy_tests"


def test_a_missing_dependency_inside_the_module_is_named() -> None:
    for path in (f"{BROKEN}.work", f"{BROKEN}:work"):
        with pytest.raises(ModuleNotFoundError) as caught:
            import_string(path)
        assert caught.value.name == MISSING
        assert str(caught.value) == f"importing {BROKEN!r} failed: No module named {MISSING!r}"


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        ("nosuch.Executor", ModuleNotFoundError, "No module named 'nosuch'"),
        ("chancy.nosuch.X", ModuleNotFoundError, "No module named 'chancy.nosuch'"),
        ("chancy.utils.nope", ImportError, "'chancy.utils' has no attribute 'nope'"),
        ("chancy.app.Chancy.nope", ImportError, "'chancy.app.Chancy' has no attribute 'nope'"),
        ("", ImportError, "is not a dotted import path"),
        ("a..b", ImportError, "is not a dotted import path"),
    ],
)
def test_messages_name_the_cause_without_a_trailing_full_stop(
    path: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as caught:
        import_string(path)
    assert message in str(caught.value)
    assert not str(caught.value).endswith(".")


def test_paths_that_resolve() -> None:
    assert import_string("chancy.app.Chancy") is Chancy
    assert import_string("chancy.app:Chancy") is Chancy
    assert import_string("chancy.app.Chancy.Executor.Async") == Chancy.Executor.Async
    assert import_string("os.path").__name__ in ("posixpath", "ntpath")


def test_an_app_module_with_a_missing_dependency_is_named_by_the_cli() -> None:
    result = CliRunner().invoke(cli, ["--app", f"{BROKEN}:app", "queue", "list"])
    assert result.exit_code != 0
    assert MISSING in result.output
    assert "dotted import path" not in result.output


async def test_a_job_whose_module_fails_to_import_stores_the_real_cause(
    chancy: Chancy,
) -> None:
    await chancy.declare(Queue("imports", executor=Chancy.Executor.Async, polling_interval=1))
    ref = await chancy.push(Job(func=f"{BROKEN}.work", queue="imports"))
    async with Worker(chancy, register_signal_handlers=False, queues=["imports"]):
        job = await chancy.wait_for_job(ref, interval=0.05, timeout=15)
    assert job is not None and job.state == job.State.FAILED
    last_line = job.errors[-1]["traceback"].strip().splitlines()[-1]
    assert MISSING in last_line and BROKEN in last_line
    assert "dotted import path" not in last_line and ".." not in last_line


async def test_declaring_a_queue_whose_executor_does_not_import_is_refused(
    chancy: Chancy,
) -> None:
    with pytest.raises(ConfigurationError, match="No module named 'nosuch'"):
        await chancy.declare(Queue("bad-executor", executor="nosuch.Executor"))
    with pytest.raises(ConfigurationError, match="has no attribute 'Nope'"):
        await chancy.declare(Queue("bad-executor", executor="chancy.executors.base.Nope"))
    with pytest.raises(KeyError):
        await chancy.get_queue("bad-executor")
