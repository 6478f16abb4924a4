"""Job values: what to run (:class:`Job`), what is queued (:class:`QueuedJob`), and handles.

Pure data with no I/O, so every layer above can use them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import time
import uuid
from collections.abc import Callable
from typing import Any, NotRequired, Protocol, TypedDict, TypeVar, runtime_checkable

from chancy.errors import ConfigurationError
from chancy.jsonvalues import check_json_object
from chancy.utils import importable_name

__all__ = ["IsAJob", "Job", "Limit", "QueuedJob", "Reference", "job"]

#: Postgres INTEGER bounds: the range of ``priority``, ``attempts`` and ``max_attempts``.
INT4_MIN, INT4_MAX = -(2**31), 2**31 - 1
#: Queue names are indexed and sent in NOTIFY payloads (capped at 8000 bytes); the
#: rate-limit table stores them as VARCHAR(255).
MAX_QUEUE_NAME = 255
#: A btree entry must fit in about a third of a page (2704 bytes); keep clear of it.
MAX_UNIQUE_KEY_BYTES = 2048
#: The ``meta`` key of the opt-out from storing a job's return value (see ``store_result``).
STORE_RESULT_KEY = "store_result"
#: The ``meta`` key where the worker records why a job's return value was not stored.
RESULT_ERROR_KEY = "result_error"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclasses.dataclass
class Limit:
    """A resource limit applied while a job runs.

    ``TIME`` is seconds of wall time; ``MEMORY`` is bytes of address space (process
    executor only). When a job carries several limits of one type, the first wins.
    """

    class Type(enum.StrEnum):
        MEMORY = "memory"
        TIME = "time"

    type_: Limit.Type
    value: int

    def __post_init__(self) -> None:
        self.type_ = Limit.Type(self.type_)
        if not isinstance(self.value, int | float) or self.value <= 0:
            raise ConfigurationError(
                f"Limit value must be a positive number, got {self.value!r} for {self.type_}."
            )

    def serialize(self) -> dict[str, Any]:
        return {"t": self.type_.value, "v": self.value}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Limit:
        return cls(type_=Limit.Type(data["t"]), value=data["v"])


class Reference:
    """A handle on a pushed job, by id. Compares equal to the same UUID or its string form."""

    __slots__ = ("identifier",)

    def __init__(self, identifier: str | uuid.UUID) -> None:
        self.identifier = identifier if isinstance(identifier, uuid.UUID) else uuid.UUID(identifier)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Reference):
            return self.identifier == other.identifier
        if isinstance(other, uuid.UUID):
            return self.identifier == other
        if isinstance(other, str):
            return str(self.identifier) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.identifier)

    def __repr__(self) -> str:
        return f"<Reference({self.identifier!r})>"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Job:
    """An immutable description of a function call to run later.

    Build one with :meth:`from_func` or the :func:`job` decorator; the ``with_*`` methods
    return changed copies.
    """

    func: str
    queue: str = "default"
    kwargs: dict[str, Any] | None = dataclasses.field(default_factory=dict)
    priority: int = 0
    max_attempts: int = 1
    scheduled_at: dt.datetime = dataclasses.field(default_factory=_utcnow)
    limits: list[Limit] = dataclasses.field(default_factory=list)
    unique_key: str | None = None
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_func(
        cls, func: Callable[..., Any], *, store_result: bool | None = None, **fields: Any
    ) -> Job:
        """A job that calls ``func``; ``store_result=False`` is :meth:`with_store_result`.

        Raises :class:`~chancy.errors.ConfigurationError` (a ``ValueError``) if no worker
        could import it: lambdas, nested functions and objects without a qualified name.
        """
        try:
            name = importable_name(func)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from exc
        made = cls(func=name, **fields)
        return made if store_result is None else made.with_store_result(store_result)

    def with_priority(self, priority: int) -> Job:
        return dataclasses.replace(self, priority=priority)

    def with_max_attempts(self, max_attempts: int) -> Job:
        return dataclasses.replace(self, max_attempts=max_attempts)

    def with_scheduled_at(self, scheduled_at: dt.datetime) -> Job:
        return dataclasses.replace(self, scheduled_at=scheduled_at)

    def with_limits(self, limits: list[Limit]) -> Job:
        return dataclasses.replace(self, limits=limits)

    def with_kwargs(self, **kwargs: Any) -> Job:
        return dataclasses.replace(self, kwargs=kwargs)

    def with_unique_key(self, unique_key: str | None) -> Job:
        return dataclasses.replace(self, unique_key=unique_key)

    def with_queue(self, queue: str) -> Job:
        return dataclasses.replace(self, queue=queue)

    def with_meta(self, meta: dict[str, Any]) -> Job:
        return dataclasses.replace(self, meta=meta)

    def with_store_result(self, store: bool) -> Job:
        """Whether the worker stores this job's return value (default: it does).

        Carried in ``meta["store_result"]``, so it travels with the job (cron schedules,
        workflow steps) without a column of its own.
        """
        if not isinstance(store, bool):
            raise ConfigurationError(f"store_result must be True or False, got {store!r}.")
        meta = {k: v for k, v in self.meta.items() if k != STORE_RESULT_KEY}
        return dataclasses.replace(self, meta=meta if store else {**meta, STORE_RESULT_KEY: False})

    @property
    def stores_result(self) -> bool:
        """False when the job opted out of storing its return value."""
        return (self.meta or {}).get(STORE_RESULT_KEY, True) is not False

    def limit(self, type_: Limit.Type) -> Limit | None:
        """The first limit of ``type_``, if any."""
        return next((lim for lim in self.limits if lim.type_ == type_), None)

    def pack(self) -> dict[str, Any]:
        """The compact JSON form stored by cron schedules, workflow steps and triggers."""
        return {
            "f": self.func,
            "k": self.kwargs or {},
            "p": self.priority,
            "a": self.max_attempts,
            "s": self.scheduled_at.timestamp(),
            "l": [limit.serialize() for limit in self.limits],
            "u": self.unique_key,
            "q": self.queue,
            "m": self.meta,
        }

    @classmethod
    def unpack(cls, data: dict[str, Any]) -> Job:
        return cls(
            func=data["f"],
            kwargs=data.get("k") or {},
            priority=data.get("p", 0),
            max_attempts=data.get("a", 1),
            scheduled_at=dt.datetime.fromtimestamp(
                time.time() if data.get("s") is None else data["s"], tz=dt.UTC
            ),
            limits=[Limit.deserialize(lim) for lim in data.get("l") or []],
            unique_key=data.get("u"),
            queue=data.get("q", "default"),
            meta=data.get("m") or {},
        )

    def validate(self) -> None:
        """Raise :class:`ConfigurationError` naming the first field a push would reject."""
        self.encoded()

    def encoded(self) -> tuple[str, str]:
        """:meth:`validate`, returning kwargs and meta as the JSON text a push stores."""
        where = f"job {self.func!r}"
        if not isinstance(self.func, str) or "." not in self.func:
            raise ConfigurationError(
                f"{where}: func must be a dotted import path such as 'app.tasks.send_email'."
            )
        if not isinstance(self.queue, str) or not self.queue:
            raise ConfigurationError(f"{where}: queue must be a non-empty string.")
        if len(self.queue) > MAX_QUEUE_NAME:
            raise ConfigurationError(
                f"{where}: queue names are limited to {MAX_QUEUE_NAME} characters, "
                f"got {len(self.queue)}."
            )
        if self.unique_key is not None and not isinstance(self.unique_key, str):
            raise ConfigurationError(
                f"{where}: unique_key must be a string or None, got {self.unique_key!r}."
            )
        if self.unique_key is not None and len(self.unique_key.encode()) > MAX_UNIQUE_KEY_BYTES:
            raise ConfigurationError(
                f"{where}: unique_key is {len(self.unique_key.encode())} bytes; the unique "
                f"index holds at most {MAX_UNIQUE_KEY_BYTES}. Use a hash of the long value."
            )
        for name in ("func", "queue", "unique_key"):
            if "\x00" in (getattr(self, name) or ""):
                raise ConfigurationError(f"{where}: {name} contains a NUL character.")
        for name in ("priority", "max_attempts"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ConfigurationError(f"{where}: {name} must be an int, got {value!r}.")
            if not INT4_MIN <= value <= INT4_MAX:
                raise ConfigurationError(
                    f"{where}: {name}={value} is outside the column's range "
                    f"[{INT4_MIN}, {INT4_MAX}]."
                )
        if self.max_attempts < 1:
            raise ConfigurationError(f"{where}: max_attempts must be at least 1.")
        if not isinstance(self.scheduled_at, dt.datetime):
            raise ConfigurationError(
                f"{where}: scheduled_at must be a datetime, got {self.scheduled_at!r}."
            )
        if self.scheduled_at.tzinfo is None:
            raise ConfigurationError(
                f"{where}: scheduled_at must be timezone-aware, e.g. datetime.now(UTC)."
            )
        if not isinstance(self.limits, list | tuple) or not all(
            isinstance(lim, Limit) for lim in self.limits
        ):
            raise ConfigurationError(
                f"{where}: limits must be a list of Limit, got {self.limits!r}."
            )
        kwargs = check_json_object(where, "kwargs", self.kwargs)
        return kwargs, check_json_object(where, "meta", self.meta)


class ErrorT(TypedDict):
    """One failed attempt: its zero-based number and the formatted traceback.

    Recovery's entries for a run whose worker died also name that worker in
    ``lost_worker``; it counts them to bound how often a job is rescued.
    """

    attempt: int
    traceback: str
    lost_worker: NotRequired[str]


@dataclasses.dataclass(frozen=True, kw_only=True)
class QueuedJob(Job):
    """A job as stored: the fields of :class:`Job` plus its id, state and history."""

    class State(enum.StrEnum):
        PENDING = "pending"
        RUNNING = "running"
        FAILED = "failed"
        RETRYING = "retrying"
        SUCCEEDED = "succeeded"

    id: uuid.UUID
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    attempts: int = 0
    state: QueuedJob.State = State.PENDING
    errors: list[ErrorT] = dataclasses.field(default_factory=list)
    claim_id: uuid.UUID | None = None
    taken_by: str | None = None
    #: The job's stored return value (None: none stored; ``meta["result_error"]`` says
    #: why when one could not be).
    result: Any = None
    #: When this run's TIME limit expires, on the :func:`time.monotonic` clock (one clock
    #: for every process of a machine, so it survives the trip to a child process). Set
    #: by the executor as the run starts; None without a TIME limit. Never stored.
    _time_limit_deadline: float | None = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def reference(self) -> Reference:
        return Reference(self.id)

    @property
    def time_remaining(self) -> float | None:
        """Seconds left before this run's TIME limit expires (0.0 once it has), or None
        when the job has no TIME limit or is not running."""
        if self._time_limit_deadline is None:
            return None
        return max(0.0, self._time_limit_deadline - time.monotonic())

    def checkpoint(self) -> None:
        """Raise :class:`TimeoutError` once this run's TIME limit has expired.

        Jobs call it (through their ``QueuedJob`` parameter) at points where stopping is
        safe. Executors that cannot interrupt a running function (threads,
        sub-interpreters) rely on it to stop a job at its TIME limit; elsewhere it lets a
        job stop cleanly before it is interrupted.
        """
        if self._time_limit_deadline is not None and time.monotonic() >= self._time_limit_deadline:
            limit = self.limit(Limit.Type.TIME)
            of = f" of {limit.value} seconds" if limit is not None else ""
            raise TimeoutError(
                f"Job timed out. It passed its time limit{of} and stopped at its checkpoint() call."
            )

    def start_time_limit(self) -> QueuedJob:
        """This job with its TIME limit's clock started now (itself without a limit)."""
        limit = self.limit(Limit.Type.TIME)
        if limit is None:
            return self
        return dataclasses.replace(self, _time_limit_deadline=time.monotonic() + limit.value)

    @classmethod
    def unpack(cls, data: dict[str, Any]) -> QueuedJob:  # type: ignore[override]
        """Build from a jobs-table row mapping."""
        return cls(
            id=data["id"] if isinstance(data["id"], uuid.UUID) else uuid.UUID(str(data["id"])),
            queue=data["queue"],
            func=data["func"],
            kwargs=data.get("kwargs") or {},
            limits=[Limit.deserialize(lim) for lim in data.get("limits") or []],
            meta=data.get("meta") or {},
            priority=data.get("priority") or 0,
            max_attempts=data.get("max_attempts") or 1,
            scheduled_at=data["scheduled_at"],
            unique_key=data.get("unique_key"),
            created_at=data["created_at"],
            started_at=data.get("started_at"),
            completed_at=data.get("completed_at"),
            attempts=data.get("attempts") or 0,
            state=QueuedJob.State(data["state"]),
            errors=data.get("errors") or [],
            claim_id=data.get("claim_id"),
            taken_by=data.get("taken_by"),
            result=data.get("result"),
        )


P = TypeVar("P", covariant=True)


@runtime_checkable
class IsAJob(Protocol[P]):
    """A function decorated with :func:`job`: still callable, and carrying ``.job``."""

    job: Job

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


def job(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """Attach a :class:`Job` template to a function so it can be pushed directly.

    ``push(send_email)`` then pushes ``send_email.job``; ``send_email.job.with_kwargs(...)``
    adds arguments. The function itself is returned unchanged and can still be called.
    Options are :class:`Job` fields, plus ``store_result=False`` to not store the
    function's return value.
    """

    def decorate(func: Callable[..., Any]) -> Any:
        func.job = Job.from_func(func, **options)  # type: ignore[attr-defined]
        return func

    return decorate


def as_job(item: Job | IsAJob[Any]) -> Job:
    """Accept a Job or a decorated function (fixes upstream's sync push AttributeError)."""
    if isinstance(item, Job):
        return item
    template = getattr(item, "job", None)
    if isinstance(template, Job):
        return template
    raise ConfigurationError(
        f"Expected a Job or a function decorated with @job(), got {item!r}. "
        "Wrap plain functions with Job.from_func(func)."
    )
