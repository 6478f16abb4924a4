"""The public surface promised by upstream Chancy's API documentation (the seed document).

The member list is written out here on purpose: the test must not depend on the spec
files being next to the repository.
"""

from __future__ import annotations

import inspect
import logging
import types
from typing import Any

import pytest

import chancy
import chancy.app
import chancy.errors
from chancy import Chancy

POS = inspect.Parameter.POSITIONAL_OR_KEYWORD
KW = inspect.Parameter.KEYWORD_ONLY
REQUIRED = inspect.Parameter.empty

# name -> (kind, [(parameter, kind, default)]). Kinds: "async" coroutine function,
# "asyncgen" async generator, "sync" plain function, "gen" generator.
SEED_METHODS: dict[str, tuple[str, list[tuple[str, Any, Any]]]] = {
    "cancel_job": ("async", [("ref", POS, REQUIRED)]),
    "declare": ("async", [("queue", POS, REQUIRED), ("upsert", KW, False)]),
    "declare_ex": (
        "async",
        [("cursor", POS, REQUIRED), ("queue", POS, REQUIRED), ("upsert", KW, False)],
    ),
    "delete_queue": ("async", [("name", POS, REQUIRED), ("purge_jobs", KW, True)]),
    "get_all_queues": ("async", []),
    "get_all_workers": ("async", []),
    "get_job": ("async", [("ref", POS, REQUIRED)]),
    "get_queue": ("async", [("name", POS, REQUIRED)]),
    "is_up_to_date": ("async", []),
    "migrate": ("async", [("to_version", KW, None)]),
    "notify": (
        "async",
        [("cursor", POS, REQUIRED), ("event", POS, REQUIRED), ("payload", POS, REQUIRED)],
    ),
    "push": ("async", [("job", POS, REQUIRED)]),
    "push_many": ("asyncgen", [("jobs", POS, REQUIRED), ("batch_size", KW, 1000)]),
    "push_many_ex": ("async", [("cursor", POS, REQUIRED), ("jobs", POS, REQUIRED)]),
    "sync_notify": (
        "sync",
        [("cursor", POS, REQUIRED), ("event", POS, REQUIRED), ("payload", POS, REQUIRED)],
    ),
    "sync_push": ("sync", [("job", POS, REQUIRED)]),
    "sync_push_many": ("gen", [("jobs", POS, REQUIRED), ("batch_size", KW, 1000)]),
    "sync_push_many_ex": ("sync", [("cursor", POS, REQUIRED), ("jobs", POS, REQUIRED)]),
    "wait_for_job": (
        "async",
        [("ref", POS, REQUIRED), ("interval", KW, 1), ("timeout", KW, None)],
    ),
}

# Upstream members that the seed document does not list but upstream code has.
UPSTREAM_EXTRA_METHODS: dict[str, tuple[str, list[tuple[str, Any, Any]]]] = {
    "get_jobs": ("async", [("refs", POS, REQUIRED)]),
    "wait_for_jobs": (
        "async",
        [("refs", POS, REQUIRED), ("interval", KW, 1), ("timeout", KW, None), ("states", KW, None)],
    ),
    "pause_queue": ("async", [("name", POS, REQUIRED), ("resume_at", KW, None)]),
    "resume_queue": ("async", [("name", POS, REQUIRED)]),
    "sync_declare": ("sync", [("queue", POS, REQUIRED), ("upsert", KW, False)]),
    "sync_declare_ex": (
        "sync",
        [("cursor", POS, REQUIRED), ("queue", POS, REQUIRED), ("upsert", KW, False)],
    ),
    "sync_get_job": ("sync", [("ref", POS, REQUIRED)]),
    "push_ex": ("async", [("cursor", POS, REQUIRED), ("job", POS, REQUIRED)]),
    "sync_push_ex": ("sync", [("cursor", POS, REQUIRED), ("job", POS, REQUIRED)]),
}

CONSTRUCTOR = [
    ("dsn", POS, None),  # None: CHANCY_DSN, else the embedded server
    ("plugins", KW, None),
    ("prefix", KW, "chancy_"),
    ("min_connection_pool_size", KW, 1),
    ("max_connection_pool_size", KW, 10),
    ("poll_reconnect_timeout", KW, 300),
    ("notifications", KW, True),
    ("log", KW, None),
]

SEED_ATTRIBUTES = [
    "dsn",
    "log",
    "max_connection_pool_size",
    "min_connection_pool_size",
    "notifications",
    "plugins",
    "poll_reconnect_timeout",
    "prefix",
]

EXECUTORS = {
    "Async": "chancy.executors.asyncex.AsyncExecutor",
    "Process": "chancy.executors.process.ProcessExecutor",
    "SubInterpreter": "chancy.executors.sub.SubInterpreterExecutor",
    "Threaded": "chancy.executors.thread.ThreadedExecutor",
}

KIND_CHECKS = {
    "async": inspect.iscoroutinefunction,
    "asyncgen": inspect.isasyncgenfunction,
    "gen": inspect.isgeneratorfunction,
    "sync": lambda f: (
        not (
            inspect.iscoroutinefunction(f)
            or inspect.isasyncgenfunction(f)
            or inspect.isgeneratorfunction(f)
        )
    ),
}


def _check_params(func: Any, expected: list[tuple[str, Any, Any]]) -> None:
    params = [p for p in inspect.signature(func).parameters.values() if p.name != "self"]
    got = [(p.name, p.kind, p.default) for p in params[: len(expected)]]
    assert got == expected
    # Anything beyond the documented parameters must be optional and keyword-only, so
    # every documented call keeps working.
    for extra in params[len(expected) :]:
        assert extra.kind is KW and extra.default is not REQUIRED, extra


ALL_METHODS = {**SEED_METHODS, **UPSTREAM_EXTRA_METHODS}


@pytest.mark.parametrize("name", sorted(ALL_METHODS))
def test_method_signature(name: str) -> None:
    kind, expected = ALL_METHODS[name]
    func = getattr(Chancy, name)
    assert KIND_CHECKS[kind](func), f"Chancy.{name} should be {kind}"
    _check_params(func, expected)
    assert func.__doc__, f"Chancy.{name} has no docstring"


def test_constructor_signature() -> None:
    _check_params(Chancy.__init__, CONSTRUCTOR)
    extra = inspect.signature(Chancy.__init__).parameters["no_default_plugins"]
    assert extra.kind is KW and extra.default is False


def test_attributes_on_an_instance() -> None:
    logger = logging.getLogger("test-surface")
    app = Chancy(
        "postgresql://u@localhost/db",
        prefix="surface_",
        min_connection_pool_size=2,
        max_connection_pool_size=7,
        poll_reconnect_timeout=30,
        notifications=False,
        log=logger,
        no_default_plugins=True,
    )
    for name in SEED_ATTRIBUTES:
        assert hasattr(app, name), name
    assert app.prefix == "surface_"
    assert app.min_connection_pool_size == 2
    assert app.max_connection_pool_size == 7
    assert app.poll_reconnect_timeout == 30
    assert app.notifications is False
    assert app.log is logger
    assert app.plugins == {}
    assert isinstance(app.dsn, str) and "localhost/db" in app.dsn


def test_pool_properties() -> None:
    assert isinstance(inspect.getattr_static(Chancy, "pool"), property)
    assert isinstance(inspect.getattr_static(Chancy, "sync_pool"), property)


def test_executor_enum() -> None:
    assert {m.name: m.value for m in Chancy.Executor} == EXECUTORS
    assert Chancy.Executor.Async == "chancy.executors.asyncex.AsyncExecutor"
    assert isinstance(Chancy.Executor.Process, str)


def test_context_managers() -> None:
    for name in ("__aenter__", "__aexit__"):
        assert inspect.iscoroutinefunction(getattr(Chancy, name)), name
    for name in ("__enter__", "__exit__"):
        assert callable(getattr(Chancy, name)), name


def test_setup_default_logger() -> None:
    sig = inspect.signature(chancy.app.setup_default_logger)
    params = [(p.name, p.kind, p.default) for p in sig.parameters.values()]
    assert params == [("level", POS, logging.INFO), ("fmt", KW, "text")]
    logger = logging.getLogger("chancy")
    before = list(logger.handlers), logger.level
    try:
        assert chancy.app.setup_default_logger() is logger
        assert logger is chancy.app.setup_default_logger(fmt="json")
        # Calling it again replaces its own handler instead of adding a second one.
        streams = [h for h in logger.handlers if type(h) is logging.StreamHandler]
        assert len(streams) == 1
    finally:
        logger.handlers[:], logger.level = before


def test_all_is_sorted_and_complete() -> None:
    exported = sorted(
        name
        for name, value in vars(chancy).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name != "annotations"  # the ``from __future__`` feature object
    )
    assert chancy.__all__ == sorted(chancy.__all__)
    assert chancy.__all__ == exported


def test_upstream_names_are_exported() -> None:
    for name in ("Chancy", "Queue", "Job", "QueuedJob", "Limit", "Reference", "job"):
        assert name in chancy.__all__, name
    assert callable(chancy.job) and not isinstance(chancy.job, types.ModuleType)


def test_worker_is_exported() -> None:
    import chancy.worker as worker_module

    assert "Worker" in chancy.__all__
    assert chancy.Worker is worker_module.Worker


def test_errors_module() -> None:
    assert issubclass(chancy.errors.MigrationsNeededError, chancy.errors.ChancyError)
    assert issubclass(chancy.errors.ConfigurationError, ValueError)
    message = str(chancy.errors.MigrationsNeededError("x_"))
    assert "'x_'" in message and "migrate" in message


def test_embedded_constructor() -> None:
    """``Chancy.embedded(path=None, **options)``: chancy's addition for zero-setup use."""
    assert isinstance(inspect.getattr_static(Chancy, "embedded"), classmethod)
    params = list(inspect.signature(Chancy.embedded).parameters.values())
    assert [(p.name, p.kind, p.default) for p in params] == [
        ("path", POS, None),
        ("options", inspect.Parameter.VAR_KEYWORD, REQUIRED),
    ]
    assert Chancy.embedded.__doc__ and "chancy[embedded]" in Chancy.embedded.__doc__


def test_executor_capabilities_and_cooperative_time_limits() -> None:
    """0.26's executor surface: Capability flags, the class-level queries on every
    executor, and the QueuedJob side of cooperative TIME limits."""
    import enum

    from chancy.executors import Executor
    from chancy.utils import import_string

    assert issubclass(Executor.Capability, enum.IntFlag)
    assert [c.name for c in Executor.Capability if c] == [
        "SYNC_JOBS",
        "ASYNC_JOBS",
        "CANCELLATION",
        "AUTOMATIC_TIME_LIMITS",
        "COOPERATIVE_TIME_LIMITS",
        "MEMORY_LIMITS",
    ]
    for path in Chancy.Executor:
        executor = import_string(path.value)
        for name in ("get_capabilities", "supports", "prepare_job_for_execution"):
            assert inspect.ismethod(getattr(executor, name)), (path, name)  # classmethods
    assert isinstance(chancy.QueuedJob.time_remaining, property)
    assert callable(chancy.QueuedJob.checkpoint)


def test_worker_has_upstreams_026_members() -> None:
    from chancy.worker import Worker

    params = inspect.signature(Worker).parameters
    for name, default in (
        ("backoff_initial", 1.0),
        ("backoff_max", 60.0),
        ("backoff_max_retries", None),
    ):
        assert params[name].kind == KW and params[name].default == default, name
    for name in ("queue_update", "flush"):
        assert inspect.iscoroutinefunction(getattr(Worker, name)), name
    assert not inspect.iscoroutinefunction(Worker.database_retry)
    assert list(inspect.signature(Worker.queue_update).parameters) == ["self", "update"]
