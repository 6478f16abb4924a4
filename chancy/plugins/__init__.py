"""Bundled plugins. Import each from its module, e.g. ``chancy.plugins.pruner.Pruner``.

Defaults (added by :class:`~chancy.Chancy` unless ``no_default_plugins``) and optional
plugins alike live in this package; nothing is imported here, so an optional plugin's
extra dependencies are only needed when you use it.
"""
