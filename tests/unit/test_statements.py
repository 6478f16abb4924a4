"""The SQL the builders compile to, with the postgresql dialect and no database."""

from __future__ import annotations

import json
import re
import uuid
from typing import NamedTuple

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from chancy import Job, Queue
from chancy.db.models import build_models
from chancy.db.statements import jobs as jobs_sql
from chancy.db.statements import notify as notify_sql
from chancy.db.statements import queues as queues_sql
from chancy.db.statements.push import (
    PushBatch,
    build_insert,
    build_insert_and_notify,
    build_insert_one,
)
from chancy.errors import ConfigurationError

MODELS = build_models("shape_")


class Returned(NamedTuple):
    """The shape of a RETURNING row of the push."""

    id: uuid.UUID
    unique_key: str | None


def sql(stmt: sa.ClauseElement) -> str:
    return " ".join(str(stmt.compile(dialect=postgresql.dialect())).split())


class TestFetch:
    def test_locks_with_skip_locked_and_returns_rows(self) -> None:
        text = sql(jobs_sql.build_fetch(MODELS))
        assert text.startswith("WITH locked AS (SELECT")
        assert "FOR UPDATE SKIP LOCKED" in text
        assert "UPDATE shape_jobs SET" in text
        assert "RETURNING shape_jobs.id" in text
        assert "ORDER BY shape_jobs.priority DESC, shape_jobs.id" in text
        assert re.search(r"LIMIT %\(\w+\)s FOR UPDATE SKIP LOCKED\)", text), text

    def test_state_filter_is_literal_so_the_partial_index_matches(self) -> None:
        text = sql(jobs_sql.build_fetch(MODELS))
        assert "shape_jobs.state IN ('pending', 'retrying')" in text


class TestPush:
    def test_one_insert_from_unnest_with_on_conflict(self) -> None:
        text = sql(build_insert(MODELS))
        assert text.startswith("INSERT INTO shape_jobs (id, queue, func, kwargs")
        assert "FROM unnest(" in text
        assert text.count("INSERT") == 1
        assert re.search(
            r"ON CONFLICT \(unique_key\) WHERE unique_key IS NOT NULL AND "
            r"state IN \('pending', 'running', 'retrying'\) DO UPDATE SET "
            r"state = shape_jobs.state",
            text,
        ), text
        assert text.endswith("RETURNING shape_jobs.id, shape_jobs.unique_key")

    def test_a_batch_without_unique_keys_and_one_job_get_their_own_statements(self) -> None:
        plain = sql(build_insert(MODELS, keyed=False))
        assert "ON CONFLICT" not in plain and "FROM unnest(" in plain
        one = sql(build_insert_one(MODELS))
        assert "VALUES (" in one and "unnest" not in one and "ON CONFLICT" in one
        unkeyed = PushBatch.from_jobs([Job(func="m.f"), Job(func="m.g")])
        assert unkeyed.statement(MODELS, notify=False)[0] is build_insert(MODELS, keyed=False)
        keyed = PushBatch.from_jobs([Job(func="m.f", unique_key="k"), Job(func="m.g")])
        assert keyed.statement(MODELS, notify=False)[0] is build_insert(MODELS, keyed=True)
        stmt, params = PushBatch.from_jobs([Job(func="m.f")]).statement(MODELS, notify=True)
        assert stmt is build_insert_and_notify(MODELS, one=True, keyed=False)
        assert params["funcs"] == "m.f" and isinstance(params["notify_payloads"], str)

    def test_same_sql_for_any_batch_size(self) -> None:
        assert sql(build_insert(MODELS)) == sql(build_insert(build_models("shape_")))
        params = {p for p in build_insert(MODELS).compile(dialect=postgresql.dialect()).params}
        assert params == {
            "ids",
            "queues",
            "funcs",
            "kwargs",
            "limits",
            "metas",
            "priorities",
            "max_attempts",
            "scheduled",
            "unique_keys",
        }

    def test_batch_dedupes_unique_keys_and_sorts_them(self) -> None:
        jobs = [
            Job(func="m.a", unique_key="zeta"),
            Job(func="m.b"),
            Job(func="m.c", unique_key="alpha", queue="other"),
            Job(func="m.d", unique_key="zeta"),
        ]
        batch = PushBatch.from_jobs(jobs)
        assert batch.refs[0] == batch.refs[3] and len(set(batch.refs)) == 3
        assert batch.params["unique_keys"] == ["alpha", "zeta", None]
        assert batch.params["funcs"] == ["m.c", "m.a", "m.b"]
        assert batch.queues == ["default", "other"]
        assert [json.loads(k) for k in batch.params["kwargs"]] == [{}, {}, {}]

    def test_references_map_to_existing_jobs(self) -> None:
        batch = PushBatch.from_jobs(
            [Job(func="m.a", unique_key="k"), Job(func="m.b"), Job(func="m.c", unique_key="k")]
        )
        existing = uuid.uuid4()
        rows = [Returned(existing, "k"), Returned(batch.refs[1], None)]
        refs = batch.references(rows)
        assert refs == [existing, batch.refs[1], existing]

    def test_bad_job_fails_before_any_sql(self) -> None:
        with pytest.raises(ConfigurationError, match="kwargs"):
            PushBatch.from_jobs([Job(func="m.a"), Job(func="m.b", kwargs={"x": object()})])


class TestOtherBuilders:
    def test_declare_upsert_and_not(self) -> None:
        plain = sql(queues_sql.build_declare(MODELS, Queue("q"), upsert=False))
        assert "ON CONFLICT (name) DO UPDATE SET name = excluded.name" in plain
        assert "RETURNING" in plain
        upsert = sql(queues_sql.build_declare(MODELS, Queue("q"), upsert=True))
        for column in ("state", "concurrency", "tags", "executor", "rate_limit", "resume_at"):
            assert f"{column} = excluded.{column}" in upsert

    def test_cancel_only_touches_unfinished_jobs(self) -> None:
        text = sql(jobs_sql.build_cancel(MODELS, uuid.uuid4()))
        assert "state IN ('pending', 'running', 'retrying')" in text
        assert "RETURNING shape_jobs.id, shape_jobs.queue" in text

    def test_notify_payload(self) -> None:
        stmt = notify_sql.notify(MODELS.channel, "queue.pushed", {"q": "mail"})
        assert "pg_notify" in sql(stmt)
        compiled = stmt.compile(dialect=postgresql.dialect())
        assert json.loads(list(compiled.params.values())[1]) == {"t": "queue.pushed", "q": "mail"}
        assert MODELS.channel == "shape_events"

    def test_oversized_notification_is_a_configuration_error(self) -> None:
        with pytest.raises(ConfigurationError, match="8000"):
            notify_sql.payload("queue.pushed", {"q": "x" * 8000})
