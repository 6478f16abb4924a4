"""Validation of app-level settings that every layer relies on, starting with the prefix."""

from __future__ import annotations

import re

from chancy.errors import ConfigurationError

__all__ = ["MAX_PREFIX_LENGTH", "validate_prefix"]

#: Postgres truncates identifiers at 63 bytes. The longest table stem is 20 characters
#: (``workflow_steps`` plus index suffixes), so 30 keeps every table and index name whole.
MAX_PREFIX_LENGTH = 30
_PREFIX_RE = re.compile(r"^[a-z][a-z0-9_]*_$")


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if it is a safe table prefix, else raise a ConfigurationError.

    A prefix is lowercase letters, digits and underscores, starts with a letter and ends
    with ``_`` (so ``chancy_`` gives ``chancy_jobs``). Lowercase keeps names unquoted in
    psql; the trailing underscore keeps ``app`` and ``app2`` from sharing name stems.
    """
    if not isinstance(prefix, str) or not _PREFIX_RE.match(prefix):
        raise ConfigurationError(
            f"Invalid table prefix {prefix!r}: use lowercase letters, digits and underscores, "
            "starting with a letter and ending with '_' (for example 'chancy_' or 'tenant2_')."
        )
    if len(prefix) > MAX_PREFIX_LENGTH:
        raise ConfigurationError(
            f"Table prefix {prefix!r} is {len(prefix)} characters; the limit is "
            f"{MAX_PREFIX_LENGTH} so that table and index names fit Postgres' 63-byte limit."
        )
    return prefix
