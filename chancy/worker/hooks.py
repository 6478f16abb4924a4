"""Calling plugin hooks from the worker, skipping plugins that don't implement one.

Plugin base hooks raise :class:`NotImplementedError` (upstream's convention for "not
implemented, skip"). The first such answer is remembered, so the hot path only calls
plugins that really implement a hook.
"""

from __future__ import annotations

import logging
from typing import Any


class Hooks:
    def __init__(self, plugins: list[Any], log: logging.Logger) -> None:
        self.plugins = plugins
        self.log = log
        self._skip: set[tuple[int, str]] = set()
        #: The plugins to call, per hook (a hook is asked for on every job).
        self._cache: dict[str, list[Any]] = {}

    def _targets(self, hook: str) -> list[Any]:
        targets = self._cache.get(hook)
        if targets is None:
            targets = self._cache[hook] = [
                p for p in self.plugins if hasattr(p, hook) and (id(p), hook) not in self._skip
            ]
        return targets

    def _not_implemented(self, plugin: Any, hook: str) -> None:
        self._skip.add((id(plugin), hook))
        self._cache.pop(hook, None)

    async def call(self, hook: str, **kwargs: Any) -> None:
        """Call ``hook`` on every plugin for its side effects; failures are logged."""
        for plugin in self._targets(hook):
            try:
                await getattr(plugin, hook)(**kwargs)
            except NotImplementedError:
                self._not_implemented(plugin, hook)
            except Exception:
                self.log.exception("Plugin %r failed in %s.", plugin, hook)

    async def fold(self, hook: str, job: Any, **kwargs: Any) -> Any:
        """Pass ``job`` through every plugin's ``hook``; each may return a changed job."""
        for plugin in self._targets(hook):
            try:
                changed = await getattr(plugin, hook)(job=job, **kwargs)
            except NotImplementedError:
                self._not_implemented(plugin, hook)
                continue
            except Exception:
                self.log.exception(
                    "Plugin %r failed in %s; keeping the job unchanged.", plugin, hook
                )
                continue
            if changed is not None:
                job = changed
        return job

    def implemented(self, hook: str) -> bool:
        return bool(self._targets(hook))
