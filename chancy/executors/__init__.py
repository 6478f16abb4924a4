"""Executors run claimed jobs: in processes (the default), threads, the worker's event loop,
or sub-interpreters. Each queue gets its own executor, chosen by import path."""

from __future__ import annotations

from chancy.executors.base import Executor

__all__ = ["Executor"]
