"""Models of the bundled plugins' tables, registered on the core registry of a prefix.

Each builder takes the core :class:`~chancy.db.models.Models` of a prefix and declares
the plugin's classes on that prefix's ``Base``, so plugin tables share the core
``MetaData`` (one schema to compare against the migrations, one naming convention, and
foreign keys that resolve). Builders are cached per prefix like
:func:`~chancy.db.models.build_models`, because a registry accepts each class name once.
"""

from __future__ import annotations

from chancy.db.plugin_models.metrics import MetricsModels, build_metrics_models
from chancy.db.plugin_models.workflow import WorkflowModels, build_workflow_models

__all__ = ["MetricsModels", "WorkflowModels", "build_metrics_models", "build_workflow_models"]
