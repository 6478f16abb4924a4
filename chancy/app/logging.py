"""The default logger."""

from __future__ import annotations

import functools
import logging

__all__ = ["setup_default_logger"]


@functools.cache
def setup_default_logger(level: int = logging.INFO) -> logging.Logger:
    """The ``chancy`` logger with one stream handler (``[time][LEVEL] message``)."""
    logger = logging.getLogger("chancy")
    logger.setLevel(level)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s][%(levelname)s] %(message)s"))
        logger.addHandler(handler)
    return logger
