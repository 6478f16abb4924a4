"""Small helpers with no I/O and no chancy imports: ids, import paths, JSON, chunks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import importlib
import json
import os
import time
import types
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
    """Import ``a.b.c`` and return attribute ``c`` of module ``a.b`` (nested attributes allowed).

    ``module:attr`` (the :func:`pkgutil.resolve_name` form) works too. Like
    ``resolve_name`` it walks the path from the left, importing while the next part is
    a module; unlike it, an import that fails *inside* a module (a missing dependency,
    say) is re-raised naming that module and the one really missing, instead of being
    mistaken for "this part is not a module", which would hide the cause. The message
    is only the cause, without a trailing full stop: callers put the path around it.
    """
    parts = path.replace(":", ".").split(".") if isinstance(path, str) else []
    if not parts or not all(part.isidentifier() for part in parts):
        raise ImportError(f"{path!r} is not a dotted import path like 'package.module.name'")
    module_name = parts[0]
    found = _import(module_name, parent=None)
    for index, part in enumerate(parts[1:], start=1):
        attribute = getattr(found, part, None)
        if attribute is not None and not isinstance(attribute, types.ModuleType):
            found = attribute
            continue
        if isinstance(found, types.ModuleType) and module_name == getattr(found, "__name__", ""):
            child = _import(f"{module_name}.{part}", parent=found)
            if child is not None:
                found, module_name = child, f"{module_name}.{part}"
                continue
        if attribute is None:
            owner = ".".join(parts[:index])
            if hasattr(found, "__path__"):  # a package: the part was meant as a module
                missing = f"{owner}.{part}"
                raise ModuleNotFoundError(f"No module named {missing!r}", name=missing)
            raise ImportError(f"{owner!r} has no attribute {part!r}", name=module_name)
        found = attribute
    return found


def _import(name: str, *, parent: types.ModuleType | None) -> Any:
    """The module ``name``; None if it does not exist below ``parent`` (an attribute then).

    A missing module that is not ``name`` itself is a dependency missing inside it,
    and is raised with that said.
    """
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name and parent is not None:
            return None
        cause = str(exc).rstrip(".")
        if exc.name == name:
            raise ModuleNotFoundError(cause, name=exc.name) from exc
        raise ModuleNotFoundError(f"importing {name!r} failed: {cause}", name=exc.name) from exc


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
