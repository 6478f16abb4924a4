"""The :class:`Queue` value: how one named queue is processed, shared by every worker."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
from typing import Any

from chancy.errors import ConfigurationError
from chancy.job import INT4_MAX, MAX_QUEUE_NAME

__all__ = ["Queue"]

DEFAULT_EXECUTOR = "chancy.executors.process.ProcessExecutor"
#: Largest stored result (bytes of JSON) unless ``Chancy``/``Queue(max_result_bytes=)`` say.
DEFAULT_MAX_RESULT_BYTES = 1024 * 1024
#: The highest ``max_result_bytes`` accepted: a row is no place for anything bigger.
MAX_RESULT_BYTES_CEILING = 64 * 1024 * 1024


def check_max_result_bytes(where: str, value: Any) -> None:
    """Raise ConfigurationError unless ``value`` is a usable ``max_result_bytes``."""
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not 1 <= value <= MAX_RESULT_BYTES_CEILING
    ):
        raise ConfigurationError(
            f"{where}: max_result_bytes must be an int from 1 to {MAX_RESULT_BYTES_CEILING} "
            f"(64 MB), got {value!r}. To keep a job's result out of the database, use "
            "@job(store_result=False) instead."
        )


@dataclasses.dataclass(frozen=True)
class Queue:
    """A named queue and its processing options.

    Queues live in the database, so declaring, changing, pausing or deleting one reaches
    every running worker without a restart. ``concurrency`` is per worker; ``None``
    means the executor's default. ``tags`` are regexes matched (from the start) against
    each worker's tags to decide which workers serve the queue. ``rate_limit`` jobs per
    ``rate_limit_window`` seconds is a global budget shared by all workers.
    ``max_result_bytes`` caps the stored return value of this queue's jobs (bytes of
    JSON); ``None`` uses the app's ``Chancy(max_result_bytes=...)``.
    """

    class State(enum.StrEnum):
        ACTIVE = "active"
        PAUSED = "paused"

    name: str
    _: dataclasses.KW_ONLY
    concurrency: int | None = None
    tags: set[str] = dataclasses.field(default_factory=lambda: {".*"})
    state: Queue.State = State.ACTIVE
    executor: str = DEFAULT_EXECUTOR
    executor_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    polling_interval: int = 5
    rate_limit: int | None = None
    rate_limit_window: int | None = None
    resume_at: dt.datetime | None = None
    eager_polling: bool = False
    max_result_bytes: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.tags, str):
            # set("abc") would silently become the three tags {"a", "b", "c"}.
            raise ConfigurationError(
                f"Queue {self.name!r}: tags must be a set of patterns such as {{{self.tags!r}}}, "
                "not a single string."
            )
        try:
            object.__setattr__(self, "state", Queue.State(self.state))
        except ValueError as exc:
            raise ConfigurationError(
                f"Queue {self.name!r}: state must be 'active' or 'paused', got {self.state!r}."
            ) from exc
        object.__setattr__(self, "tags", set(self.tags or ()))
        object.__setattr__(self, "executor_options", dict(self.executor_options or {}))
        self.validate()

    def validate(self) -> None:
        """Raise :class:`ConfigurationError` naming the first bad option."""
        where = f"Queue {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise ConfigurationError("Queue name must be a non-empty string.")
        if "\x00" in self.name:
            raise ConfigurationError(
                f"Queue name {self.name!r} contains a NUL byte, which Postgres text cannot "
                "store; remove it."
            )
        if len(self.name) > MAX_QUEUE_NAME:
            raise ConfigurationError(
                f"Queue names are limited to {MAX_QUEUE_NAME} characters, got {len(self.name)}."
            )
        if self.concurrency is not None and (
            not isinstance(self.concurrency, int)
            or isinstance(self.concurrency, bool)
            or self.concurrency < 1
        ):
            raise ConfigurationError(
                f"{where}: concurrency must be a positive int or None (executor default), "
                f"got {self.concurrency!r}."
            )
        if (self.rate_limit is None) != (self.rate_limit_window is None):
            raise ConfigurationError(
                f"{where}: rate_limit and rate_limit_window go together; set both "
                "(e.g. rate_limit=10, rate_limit_window=60 for 10 jobs a minute) or neither."
            )
        for name in ("rate_limit", "rate_limit_window", "polling_interval"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int | float) or value <= 0):
                raise ConfigurationError(f"{where}: {name} must be positive, got {value!r}.")
        for name in ("concurrency", "rate_limit", "rate_limit_window"):
            value = getattr(self, name)
            if value is not None and value > INT4_MAX:
                raise ConfigurationError(
                    f"{where}: {name}={value} is larger than the column's maximum {INT4_MAX}."
                )
        if not isinstance(self.executor, str) or "." not in self.executor:
            raise ConfigurationError(
                f"{where}: executor must be an import path such as "
                "Chancy.Executor.Async or 'myapp.executors.MyExecutor'."
            )
        if self.resume_at is not None and self.resume_at.tzinfo is None:
            raise ConfigurationError(f"{where}: resume_at must be timezone-aware.")
        if self.max_result_bytes is not None:
            check_max_result_bytes(where, self.max_result_bytes)

    def invalid_tags(self) -> list[str]:
        bad = []
        for tag in sorted(self.tags):
            try:
                re.compile(tag)
            except re.error:
                bad.append(tag)
        return bad

    def pack(self) -> dict[str, Any]:
        """The JSON shape used by the CLI and APIs."""
        data = dataclasses.asdict(self)
        data["tags"] = sorted(self.tags)
        data["state"] = self.state.value
        data["resume_at"] = self.resume_at.isoformat() if self.resume_at else None
        return data

    @classmethod
    def unpack(cls, data: dict[str, Any]) -> Queue:
        return cls(
            name=data["name"],
            concurrency=data.get("concurrency"),
            tags=set(data.get("tags") or ()),
            state=Queue.State(data.get("state") or "active"),
            executor=data.get("executor") or DEFAULT_EXECUTOR,
            executor_options=data.get("executor_options") or {},
            polling_interval=data.get("polling_interval") or 5,
            rate_limit=data.get("rate_limit"),
            rate_limit_window=data.get("rate_limit_window"),
            resume_at=data.get("resume_at"),
            eager_polling=bool(data.get("eager_polling")),
            max_result_bytes=data.get("max_result_bytes"),
        )
