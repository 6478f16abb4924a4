"""Strict JSON for what chancy stores in jsonb columns (kwargs, meta, results).

jsonb refuses NaN and NUL characters and the worker's batched writes fail whole on one bad
value, so values are checked and encoded before they reach a statement.
"""

from __future__ import annotations

import json
import re
from typing import Any

from chancy.errors import ConfigurationError

__all__ = ["check_json_object", "has_escaped_nul"]


#: An escaped NUL in JSON text: Postgres' jsonb cannot store it.
_JSON_NUL = re.compile(r"(?:^|[^\\])(?:\\\\)*\\u0000")


def has_escaped_nul(text: str) -> bool:
    """Whether JSON ``text`` holds a NUL character (``\\u0000``), which jsonb rejects."""
    return _JSON_NUL.search(text) is not None


def check_json_object(where: str, name: str, value: Any) -> str:
    """Encode a kwargs/meta dict as strict JSON, or raise ConfigurationError saying why not."""
    if value is None or (type(value) is dict and not value):
        return "{}"  # most jobs: no need to run the encoder
    if not isinstance(value, dict):
        raise ConfigurationError(
            f"{where}: {name} must be a dict, got {type(value).__name__} {value!r}."
        )
    bad_keys = [k for k in value if not isinstance(k, str)]
    if bad_keys:
        raise ConfigurationError(
            f"{where}: {name} keys must be strings (they become keyword arguments), "
            f"got {bad_keys!r}."
        )
    try:
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"{where}: {name} must be JSON-serialisable ({exc}). Pass plain "
            "dicts, lists, strings and numbers, and rebuild richer objects in the job."
        ) from exc
    if has_escaped_nul(text):
        raise ConfigurationError(f"{where}: {name} contains a NUL character, which jsonb rejects.")
    return text
