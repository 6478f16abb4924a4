"""Unmanaged Django models over chancy's tables.

chancy's Alembic revisions own the schema; these models only read and write rows, so
``manage.py migrate`` never touches them (``managed = False``). The prefix is read from
``settings.CHANCY_PREFIX`` when this module is imported. :func:`build_django_models`
builds the same models for any prefix; the test suite uses it to compare every column
with the migrated tables, so a core revision that changes the schema fails until these
models follow.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from chancy.utils import chancy_uuid

__all__ = ["Cron", "Job", "Queue", "Worker", "Workflow", "WorkflowStep", "build_django_models"]

JOB_STATES = [
    (state, state.capitalize())
    for state in ("pending", "running", "retrying", "failed", "succeeded")
]
TIMEZONES = sorted(zoneinfo.available_timezones() | {"Etc/UTC"})


def _meta(prefix: str, stem: str, app_label: str, **extra: Any) -> type:
    attrs = {"managed": False, "db_table": f"{prefix}{stem}", "app_label": app_label, **extra}
    return type("Meta", (), attrs)


def _model(
    name: str, module: str, meta: type, label: str, fields: dict[str, Any]
) -> type[models.Model]:
    """An unmanaged model class; ``label`` names the field its ``__str__`` shows."""
    attrs = {"__module__": module, "Meta": meta, **fields}
    attrs["__str__"] = lambda self: str(getattr(self, label))
    return type(name, (models.Model,), attrs)


def _job(prefix: str, app_label: str, module: str, name: str) -> type[models.Model]:
    meta = _meta(prefix, "jobs", app_label, ordering=["-created_at"])
    return _model(
        name,
        module,
        meta,
        "id",
        {
            "id": models.UUIDField(primary_key=True, default=chancy_uuid, editable=False),
            "queue": models.TextField(),
            "func": models.TextField(),
            "kwargs": models.JSONField(default=dict),
            "limits": models.JSONField(default=list),
            "meta": models.JSONField(default=dict),
            "state": models.CharField(max_length=25, default="pending", choices=JOB_STATES),
            "priority": models.IntegerField(default=0),
            "attempts": models.IntegerField(default=0),
            "max_attempts": models.IntegerField(default=1),
            "taken_by": models.TextField(null=True, blank=True),
            "created_at": models.DateTimeField(default=timezone.now),
            "started_at": models.DateTimeField(null=True, blank=True),
            "completed_at": models.DateTimeField(null=True, blank=True),
            "scheduled_at": models.DateTimeField(default=timezone.now),
            "unique_key": models.TextField(null=True, blank=True),
            "errors": models.JSONField(default=list),
            "claim_id": models.UUIDField(null=True, blank=True),
            "result": models.JSONField(null=True, blank=True),
        },
    )


def _queue(prefix: str, app_label: str, module: str, name: str) -> type[models.Model]:
    meta = _meta(prefix, "queues", app_label, ordering=["name"])
    return _model(
        name,
        module,
        meta,
        "name",
        {
            "name": models.TextField(primary_key=True),
            "state": models.TextField(default="active"),
            "concurrency": models.IntegerField(null=True, blank=True),
            "tags": ArrayField(models.TextField(), null=True, blank=True),
            "executor": models.TextField(default="chancy.executors.process.ProcessExecutor"),
            "executor_options": models.JSONField(null=True, blank=True),
            "polling_interval": models.FloatField(null=True, blank=True, default=5),
            "created_at": models.DateTimeField(default=timezone.now),
            "rate_limit": models.IntegerField(null=True, blank=True),
            "rate_limit_window": models.IntegerField(null=True, blank=True),
            "resume_at": models.DateTimeField(null=True, blank=True),
            "eager_polling": models.BooleanField(default=False),
            "max_result_bytes": models.IntegerField(null=True, blank=True),
        },
    )


def _worker(prefix: str, app_label: str, module: str, name: str) -> type[models.Model]:
    meta = _meta(prefix, "workers", app_label, ordering=["worker_id"])
    return _model(
        name,
        module,
        meta,
        "worker_id",
        {
            "worker_id": models.TextField(primary_key=True),
            "tags": ArrayField(models.TextField(), null=True, blank=True),
            "queues": ArrayField(models.TextField(), null=True, blank=True),
            "last_seen": models.DateTimeField(default=timezone.now),
            "expires_at": models.DateTimeField(),
        },
    )


def _cron(prefix: str, app_label: str, module: str, name: str) -> type[models.Model]:
    meta = _meta(prefix, "cron", app_label, ordering=["next_run"])
    return _model(
        name,
        module,
        meta,
        "unique_key",
        {
            "unique_key": models.TextField(primary_key=True),
            "job": models.JSONField(),
            "cron": models.TextField(),
            "last_run": models.DateTimeField(null=True, blank=True),
            "next_run": models.DateTimeField(),
            "timezone": models.TextField(default="Etc/UTC", choices=[(tz, tz) for tz in TIMEZONES]),
        },
    )


def _workflows(
    prefix: str, app_label: str, module: str, names: tuple[str, str]
) -> tuple[type[models.Model], type[models.Model]]:
    workflow = _model(
        names[0],
        module,
        _meta(prefix, "workflows", app_label, ordering=["-created_at"]),
        "name",
        {
            "id": models.UUIDField(primary_key=True, default=chancy_uuid, editable=False),
            "name": models.TextField(),
            "state": models.TextField(),
            "created_at": models.DateTimeField(default=timezone.now),
            "updated_at": models.DateTimeField(default=timezone.now),
        },
    )
    step = _model(
        names[1],
        module,
        _meta(prefix, "workflow_steps", app_label, ordering=["id"]),
        "step_id",
        {
            "id": models.BigAutoField(primary_key=True),
            "workflow": models.ForeignKey(
                workflow,
                on_delete=models.DO_NOTHING,
                db_column="workflow_id",
                db_constraint=False,
                related_name="steps",
            ),
            "step_id": models.TextField(),
            "job_data": models.JSONField(),
            "dependencies": models.JSONField(),
            "job_id": models.UUIDField(null=True, blank=True),
            "state": models.TextField(null=True, blank=True),
            "created_at": models.DateTimeField(default=timezone.now),
            "updated_at": models.DateTimeField(default=timezone.now),
        },
    )
    return workflow, step


def build_django_models(
    prefix: str, *, app_label: str = "chancy", module: str = __name__, suffix: str = ""
) -> dict[str, type[models.Model]]:
    """Unmanaged models for ``prefix``'s tables, keyed by model name.

    ``suffix`` is appended to each class name, so models for a second prefix can be
    registered beside the first (Django keys models by app label and class name).
    """
    workflow, step = _workflows(
        prefix, app_label, module, (f"Workflow{suffix}", f"WorkflowStep{suffix}")
    )
    return {
        "Job": _job(prefix, app_label, module, f"Job{suffix}"),
        "Queue": _queue(prefix, app_label, module, f"Queue{suffix}"),
        "Worker": _worker(prefix, app_label, module, f"Worker{suffix}"),
        "Cron": _cron(prefix, app_label, module, f"Cron{suffix}"),
        "Workflow": workflow,
        "WorkflowStep": step,
    }


_models = build_django_models(getattr(settings, "CHANCY_PREFIX", "chancy_"))
Job = _models["Job"]
Queue = _models["Queue"]
Worker = _models["Worker"]
Cron = _models["Cron"]
Workflow = _models["Workflow"]
WorkflowStep = _models["WorkflowStep"]
