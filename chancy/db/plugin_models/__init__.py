"""Models of the bundled plugins' tables, registered on the core registry of a prefix.

Each builder takes the core :class:`~chancy.db.models.Models` of a prefix and declares
the plugin's classes on that prefix's ``Base``, so plugin tables share the core
``MetaData`` (one schema to compare against the migrations, one naming convention, and
foreign keys that resolve). Builders are cached per prefix like
:func:`~chancy.db.models.build_models`, because a registry accepts each class name once.
"""

from __future__ import annotations

import sqlalchemy as sa

from chancy.db.models import build_models
from chancy.db.plugin_models.api import ApiModels, build_api_models
from chancy.db.plugin_models.cron import CronModels, build_cron_models
from chancy.db.plugin_models.metrics import MetricsModels, build_metrics_models
from chancy.db.plugin_models.trigger import TriggerModels, build_trigger_models
from chancy.db.plugin_models.workflow import WorkflowModels, build_workflow_models

__all__ = [
    "ApiModels",
    "CronModels",
    "MetricsModels",
    "TriggerModels",
    "WorkflowModels",
    "build_api_models",
    "build_cron_models",
    "build_metrics_models",
    "build_trigger_models",
    "build_workflow_models",
    "full_metadata",
]


def full_metadata(prefix: str) -> sa.MetaData:
    """The prefix's MetaData with core and every bundled plugin's tables on it.

    Alembic's environment targets this, so autogenerate in the developer CLI sees every
    branch's tables instead of proposing to drop the plugins'.
    """
    core = build_models(prefix)
    for build in (
        build_api_models,
        build_cron_models,
        build_metrics_models,
        build_trigger_models,
        build_workflow_models,
    ):
        build(core)
    return core.metadata
