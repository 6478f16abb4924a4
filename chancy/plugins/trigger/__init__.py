"""Push jobs from database triggers on your own tables; see :class:`Trigger`."""

from __future__ import annotations

from chancy.plugins.trigger.plugin import Trigger, TriggerConfig

__all__ = ["Trigger", "TriggerConfig"]
