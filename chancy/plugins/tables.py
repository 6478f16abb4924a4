"""Every bundled plugin's tables on one prefix's MetaData, for the developer CLI.

Plugin models join the core registry only when their builder runs, and the shipped
Alembic environment never runs them (migrating must not register models of plugins an
app has not enabled). Autogenerate in the developer CLI (``alembic/env.py``) and the
schema tests target :func:`full_metadata` instead, so they see every branch's tables
rather than proposing to drop the plugins'.
"""

from __future__ import annotations

import sqlalchemy as sa

from chancy.db.models import build_models
from chancy.plugins.api.models import build_api_models
from chancy.plugins.cron.models import build_cron_models
from chancy.plugins.metrics.models import build_metrics_models
from chancy.plugins.trigger.models import build_trigger_models
from chancy.plugins.workflow.models import build_workflow_models

__all__ = ["PLUGIN_MODEL_BUILDERS", "full_metadata"]

#: The model builder of every bundled plugin that has tables.
PLUGIN_MODEL_BUILDERS = (
    build_api_models,
    build_cron_models,
    build_metrics_models,
    build_trigger_models,
    build_workflow_models,
)


def full_metadata(prefix: str) -> sa.MetaData:
    """The prefix's MetaData with core and every bundled plugin's tables on it."""
    core = build_models(prefix)
    for build in PLUGIN_MODEL_BUILDERS:
        build(core)
    return core.metadata
