"""The rule language: compiled SQL shape, operator semantics, misuse errors, and a DB run."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from chancy import Chancy, Job, QueuedJob
from chancy.db.models import build_models
from chancy.rule import Condition, JobRules, Rule, SQLAble
from tests.plugins.helpers import push_all

R = JobRules
TABLE = build_models("r_").Job.__table__


def sql(rule: SQLAble) -> str:
    compiled = rule.to_sql(TABLE).compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    return " ".join(str(compiled).split())


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (R.Queue() == "q", "r_jobs.queue = 'q'"),
        (R.Job() != "a.b", "r_jobs.func != 'a.b'"),
        (R.State() == QueuedJob.State.FAILED, "r_jobs.state = 'failed'"),
        (R.Priority() >= 3, "r_jobs.priority >= 3"),
        (R.Attempts() < 2, "r_jobs.attempts < 2"),
        (R.Age() > 60, "EXTRACT(epoch FROM now() - r_jobs.created_at) > 60"),
        (
            R.Age() <= dt.timedelta(minutes=2),
            "EXTRACT(epoch FROM now() - r_jobs.created_at) <= 120.0",
        ),
        (
            R.CreatedAt() < dt.datetime(2024, 1, 2, tzinfo=dt.UTC),
            "r_jobs.created_at < '2024-01-02 00:00:00+00:00'",
        ),
        (
            R.ScheduledAt() > dt.datetime(2024, 1, 2, tzinfo=dt.UTC),
            "r_jobs.scheduled_at > '2024-01-02 00:00:00+00:00'",
        ),
        (R.Queue() == None, "r_jobs.queue IS NULL"),  # noqa: E711 - the rule API, not a test
        (R.Queue() != None, "r_jobs.queue IS NOT NULL"),  # noqa: E711
    ],
)
def test_comparisons_compile(rule: SQLAble, expected: str) -> None:
    assert sql(rule) == expected


def test_ids_accept_strings_and_uuids() -> None:
    ident = uuid.UUID("01920000-0000-7000-8000-000000000001")
    assert sql(R.ID() == str(ident)) == sql(R.ID() == ident)
    assert "r_jobs.id = '01920000-0000-7000-8000-000000000001'" in sql(R.ID() == ident)


def test_contains_is_a_literal_case_insensitive_substring() -> None:
    # % and _ in the text match themselves, not any character.
    assert sql(R.Job().contains("50%_off")) == "r_jobs.func ILIKE '%%50\\%%\\_off%%' ESCAPE '\\'"


def test_ilike_keeps_wildcards() -> None:
    assert sql(R.Job().ilike("app.%")) == "r_jobs.func ILIKE 'app.%%'"


def test_pattern_operators_on_non_text_columns_match_the_text_form() -> None:
    assert sql(R.ID().contains("abc")) == "CAST(r_jobs.id AS TEXT) ILIKE '%%abc%%' ESCAPE '\\'"


def test_and_or_not_group_correctly() -> None:
    rule = ((R.Queue() == "a") | (R.Queue() == "b")) & ~(R.Priority() > 5)
    assert sql(rule) == "(r_jobs.queue = 'a' OR r_jobs.queue = 'b') AND r_jobs.priority <= 5"
    assert (
        sql((R.Queue() == "a") & (R.Priority() > 5)) == "r_jobs.queue = 'a' AND r_jobs.priority > 5"
    )
    rule = (R.Queue() == "a") | ((R.Queue() == "b") & (R.Attempts() == 0))
    assert sql(rule) == "r_jobs.queue = 'a' OR r_jobs.queue = 'b' AND r_jobs.attempts = 0"


def test_values_are_bound_parameters_not_sql_text() -> None:
    rule = R.Queue() == "x'; DROP TABLE jobs; --"
    compiled = rule.to_sql(TABLE).compile(dialect=postgresql.dialect())
    assert "DROP" not in str(compiled)
    assert list(compiled.params.values()) == ["x'; DROP TABLE jobs; --"]


def test_the_precedence_trap_raises_a_helpful_error() -> None:
    with pytest.raises(TypeError, match="parenthesising"):
        R.Queue() == "default" & (R.Age() > 60)  # noqa: B015 - the mistake under test


def test_rules_have_no_truth_value() -> None:
    with pytest.raises(TypeError, match="no truth value"):
        bool(R.Age() > 1)


def test_unknown_operator_and_column_are_rejected() -> None:
    with pytest.raises(ValueError, match="Unknown rule operator"):
        Condition(R.Queue(), "~~", "x")
    with pytest.raises(ValueError, match="not a column"):
        (Rule("nope") == 1).to_sql(TABLE)


async def test_rules_select_the_right_rows(chancy: Chancy) -> None:
    refs = await push_all(
        chancy,
        [
            Job(func="app.reports.build", queue="reports", priority=5),
            Job(func="app.mail.send", queue="mail"),
            Job(func="app.Mail.resend", queue="mail", priority=1),
        ],
    )
    t = chancy.models.Job.__table__

    async def matching(rule: SQLAble) -> set[uuid.UUID]:
        async with chancy.engine.connect() as conn:
            return set((await conn.execute(sa.select(t.c.id).where(rule.to_sql(t)))).scalars())

    ids = [r.identifier for r in refs]
    assert await matching(R.Queue() == "mail") == {ids[1], ids[2]}
    assert await matching(R.Job().contains("MAIL")) == {ids[1], ids[2]}
    assert await matching((R.Priority() > 0) & (R.Queue() != "reports")) == {ids[2]}
    assert await matching((R.Age() >= 0) & (R.Age() < 600)) == set(ids)
    assert await matching(R.Age() > 600) == set()
    assert await matching(R.ID() == str(ids[0])) == {ids[0]}
    assert await matching(R.State() == QueuedJob.State.PENDING) == set(ids)
