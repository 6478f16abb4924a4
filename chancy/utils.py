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
    """Import ``a.b.c`` and return attribute ``c`` of module ``a.b`` (nested attributes allowed).

    ``module:attr`` (the :func:`pkgutil.resolve_name` form) works too. The longest
    importable module wins. An import that fails *inside* a module (a missing dependency,
    say) is re-raised naming the module that is really missing, rather than being
    mistaken for "this path is not a module", which would hide the cause. Messages carry
    no trailing full stop, so callers can embed them in a sentence.
    """
    if not isinstance(path, str) or not path.replace(":", ".").strip("."):
        raise ImportError(f"{path!r} is not a dotted import path like 'package.module.name'")
    parts = path.replace(":", ".").split(".")
    missing: ModuleNotFoundError | None = None
    for split in range(len(parts), 0, -1):
        module_name = ".".join(parts[:split])
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if not _names_module(exc, module_name):
                # The module exists but one of its own imports is missing.
                raise _explained(path, exc, f"importing {module_name!r} failed: ") from exc
            missing = exc
            continue
        try:
            return _attribute(path, module, module_name, parts[split:])
        except ImportError:
            if missing is not None and hasattr(module, "__path__"):
                # In a package, "no module a.b" says more than "a has no attribute b".
                raise _explained(path, missing) from missing
            raise
    assert missing is not None
    raise _explained(path, missing) from missing


def _names_module(exc: ModuleNotFoundError, module_name: str) -> bool:
    """True if ``exc`` says ``module_name`` itself (or one of its parents) does not exist."""
    return exc.name is not None and (
        module_name == exc.name or module_name.startswith(exc.name + ".")
    )


def _explained(path: str, exc: ModuleNotFoundError, context: str = "") -> ModuleNotFoundError:
    cause = str(exc).rstrip(".")
    return ModuleNotFoundError(f"cannot import {path!r}: {context}{cause}", name=exc.name)


def _attribute(path: str, module: Any, module_name: str, attrs: list[str]) -> Any:
    found = module
    owner = module_name
    for attr in attrs:
        try:
            found = getattr(found, attr)
        except AttributeError as exc:
            raise ImportError(
                f"cannot import {path!r}: {owner!r} has no attribute {attr!r}",
                name=module_name,
            ) from exc
        owner = f"{owner}.{attr}"
    return found


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
