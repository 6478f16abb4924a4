"""Chancy's logging: the library convention, plus output for those who want chancy's own.

Every chancy record goes to the ``chancy`` logger (or a child of it) and carries
structured fields in its ``extra``: ``job_id``, ``queue``, ``func`` and ``worker_id``
where they apply. Importing chancy installs only a :class:`logging.NullHandler` and
leaves ``propagate`` alone, so records reach whatever the application configured (say
``logging.basicConfig``) exactly once, and nowhere when it configured nothing.
:func:`setup_default_logger` (which the CLI calls) installs a visible handler, in text or
one JSON object per line.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any, Literal

__all__ = ["JsonFormatter", "setup_default_logger"]

LOGGER_NAME = "chancy"
TEXT_FORMAT = "[%(asctime)s][%(levelname)s] %(message)s"
Format = Literal["text", "json"]

#: Attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}

logging.getLogger(LOGGER_NAME).addHandler(logging.NullHandler())


def structured_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a record was given through ``extra``."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line: time, level, logger, message, the
    record's ``extra`` fields, and ``exc_info`` (the formatted traceback) when present."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update(structured_fields(record))
        if record.exc_info:
            data["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            data["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(data, default=str, ensure_ascii=False)


def _formatter(fmt: Format) -> logging.Formatter:
    if fmt == "json":
        return JsonFormatter()
    if fmt == "text":
        return logging.Formatter(TEXT_FORMAT)
    raise ValueError(f"Unknown log format {fmt!r}: use 'text' or 'json'.")


def setup_default_logger(level: int = logging.INFO, *, fmt: Format = "text") -> logging.Logger:
    """Show chancy's logs: the ``chancy`` logger at ``level`` with one stderr handler.

    ``fmt="text"`` prints ``[time][LEVEL] message``; ``fmt="json"`` prints one JSON
    object per line with the structured fields. Calling it again replaces the handler
    it installed (never adds a second). Use it in scripts and the CLI; an application
    with its own logging configuration should configure the ``chancy`` logger there
    instead, or its records print twice (once here, once through the root logger).
    """
    formatter = _formatter(fmt)
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(level)
    handler = next((h for h in logger.handlers if getattr(h, "_chancy_default", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler._chancy_default = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    handler.setFormatter(formatter)
    return logger
