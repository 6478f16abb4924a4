"""The application object and its API, split by concern into mixins."""

from __future__ import annotations

from chancy.app.chancy import Chancy
from chancy.app.logging import setup_default_logger

__all__ = ["Chancy", "setup_default_logger"]
