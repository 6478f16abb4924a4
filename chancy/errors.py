"""Every exception chancy raises on purpose.

Each message names the problem and the fix, because these errors are read by people
deploying a worker at 2 a.m., not by the code that raised them.
"""

from __future__ import annotations

__all__ = [
    "ChancyError",
    "ConfigurationError",
    "JobImportError",
    "MigrationError",
    "MigrationsNeededError",
    "PluginDependencyError",
]


class ChancyError(Exception):
    """Base class of every chancy error."""


class ConfigurationError(ChancyError, ValueError):
    """Bad input to chancy: a bad prefix, queue option, job field or plugin setting.

    It subclasses :class:`ValueError` so code written against upstream Chancy, which
    raised plain ``ValueError`` in these places, keeps working.
    """


class MigrationsNeededError(ChancyError):
    """The database schema for this prefix is missing or older than this version of chancy."""

    def __init__(self, prefix: str = "chancy_", detail: str = "") -> None:
        message = (
            f"The database schema for prefix {prefix!r} is not up to date{detail}. "
            "Run `await chancy.migrate()` or `chancy --app <module:attr> misc migrate`, "
            "then start the worker again."
        )
        super().__init__(message)
        self.prefix = prefix


class MigrationError(ChancyError):
    """A migration target that does not exist or cannot be reached."""


class PluginDependencyError(ConfigurationError):
    """A plugin needs another plugin that is not enabled on this app."""


class JobImportError(ChancyError):
    """A job's function path cannot be imported by the worker."""
