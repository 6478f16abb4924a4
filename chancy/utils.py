"""Small helpers with no I/O and no chancy imports: ids, import paths, JSON, chunks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import importlib
import json
import os
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = [
    "chancy_uuid",
    "chunked",
    "import_string",
    "importable_name",
    "json_dumps",
]


def chancy_uuid() -> uuid.UUID:
    """A time-ordered UUID (version 7 layout with 100 ns resolution).

    Ordering jobs by id therefore means oldest first, which the fetch relies on to keep
    FIFO order inside one priority without a second sort column.
    """
    stamp = time.time_ns() // 100  # 60 bits: 48 high bits, then 12 low bits around the version
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    time_hi = (stamp >> 12) & ((1 << 48) - 1)
    time_lo = stamp & 0xFFF
    value = (time_hi << 80) | (0x7 << 76) | (time_lo << 64) | (0b10 << 62) | rand
    return uuid.UUID(int=value)


def importable_name(obj: Any) -> str:
    """The dotted path a worker uses to import ``obj``.

    Raises :class:`ValueError` for objects no other process could import: lambdas and
    functions defined inside other functions.
    """
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not module or not qualname:
        raise ValueError(
            f"{obj!r} has no module or qualified name, so a worker cannot import it. "
            "Push a function defined at the top level of a module."
        )
    if "<lambda>" in qualname or "<locals>" in qualname:
        raise ValueError(
            f"{module}.{qualname} cannot be imported by a worker: lambdas and nested "
            "functions have no import path. Move it to the top level of a module."
        )
    return f"{module}.{qualname}"


def import_string(path: str) -> Any:
    """Import ``a.b.c`` and return attribute ``c`` of module ``a.b`` (nested attributes allowed)."""
    module_name, _, attr = path.rpartition(".")
    if not module_name:
        raise ImportError(f"{path!r} is not a dotted import path like 'package.module.name'.")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        # The path may name a nested attribute, such as ``module.Class.method``.
        parent = import_string(module_name)
        return getattr(parent, attr)
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise ImportError(f"Module {module_name!r} has no attribute {attr!r}.") from exc


def _json_default(obj: Any) -> Any:
    if isinstance(obj, uuid.UUID):
        return str(obj)
    if isinstance(obj, dt.datetime | dt.date):
        return obj.isoformat()
    if isinstance(obj, enum.Enum):
        return obj.value
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, set | frozenset):
        return sorted(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def json_dumps(obj: Any) -> str:
    """JSON with the encodings chancy's payloads need (UUID, datetime, Enum, dataclass, set)."""
    return json.dumps(obj, default=_json_default, separators=(",", ":"))


def chunked(iterable: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Split ``iterable`` into lists of at most ``size`` items."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    batch: list[Any] = []
    for item in iterable:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
