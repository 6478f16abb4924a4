"""The unmanaged Django models match the tables chancy's migrations create, column by column.

A core or plugin revision that changes a table fails this test until the Django models
follow. Two prefixes are checked: the one in settings and a second built with
``build_django_models``.
"""

from __future__ import annotations

import pytest
from django.db import connection

from chancy.contrib.django import models as chancy_models
from chancy.contrib.django.models import build_django_models
from tests.django_suite.conftest import OTHER_PREFIX

pytestmark = pytest.mark.django_db

STEMS = {
    "Job": "jobs",
    "Queue": "queues",
    "Worker": "workers",
    "Cron": "cron",
    "Workflow": "workflows",
    "WorkflowStep": "workflow_steps",
}
SQL_ALIASES = {"character varying": "varchar"}


def _normal(sql_type: str) -> str:
    for long, short in SQL_ALIASES.items():
        sql_type = sql_type.replace(long, short)
    return sql_type


def table_columns(table: str) -> dict[str, tuple[str, bool]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, format_type(atttypid, atttypmod), NOT attnotnull "
            "FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
            "AND NOT attisdropped",
            [table],
        )
        return {name: (_normal(kind), nullable) for name, kind, nullable in cursor.fetchall()}


def model_columns(model: type) -> dict[str, tuple[str, bool]]:
    return {
        field.column: (_normal(field.db_type(connection)), field.null)
        for field in model._meta.concrete_fields
    }


_other = build_django_models(OTHER_PREFIX, suffix="OtherPrefix")


@pytest.mark.parametrize(
    ("prefix", "models"),
    [
        (chancy_models.Job._meta.db_table[: -len("jobs")], vars(chancy_models)),
        (OTHER_PREFIX, _other),
    ],
    ids=["settings-prefix", "second-prefix"],
)
@pytest.mark.parametrize("name", sorted(STEMS))
def test_model_matches_the_migrated_table(prefix: str, models: dict, name: str) -> None:
    model = models[name]
    assert model._meta.db_table == f"{prefix}{STEMS[name]}"
    assert not model._meta.managed
    assert model_columns(model) == table_columns(model._meta.db_table)


def test_the_prefix_comes_from_settings(settings) -> None:
    assert chancy_models.Job._meta.db_table == f"{settings.CHANCY_PREFIX}jobs"
    assert chancy_models.Job._meta.app_label == "chancy"
