"""A tiny rule language for selecting jobs, used by the Pruner, Reprioritize and others.

Rules are values: comparing a :class:`Rule` builds a :class:`Condition`, and conditions
combine with ``&``, ``|`` and ``~``. Nothing touches the database here; ``to_sql(table)``
turns a rule into a SQLAlchemy boolean expression against whichever jobs table (prefix)
the caller passes, so the same rule object works for every app. Values are always bound
parameters, never spliced into SQL text.

::

    from chancy.rule import JobRules as R

    old_and_done = (R.Age() > 3600) & (R.Queue() == "emails")
    noisy = R.Job().contains("report") | (R.Attempts() >= 3)

Python binds ``&`` and ``|`` tighter than comparisons, so always parenthesise each
comparison: ``R.Queue() == "a" & (R.Age() > 60)`` means ``R.Queue() == ("a" & ...)``
and raises a TypeError explaining this.
"""

from __future__ import annotations

import abc
import datetime as dt
import enum
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

__all__ = [
    "AndCondition",
    "Condition",
    "JobRules",
    "NotCondition",
    "OrCondition",
    "Rule",
    "SQLAble",
]

Expression = sa.ColumnElement[Any]
FieldSQL = Callable[[sa.Table], Expression]

_PRECEDENCE_HINT = (
    "Combine rules with & and | only after parenthesising each comparison, e.g. "
    "(Queue() == 'default') & (Age() > 60): Python applies & before ==."
)


def _escape_like(text: str) -> str:
    """Make ``%``, ``_`` and the escape character match themselves in a LIKE pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SQLAble(abc.ABC):
    """Anything that renders to a boolean SQL expression against a jobs table."""

    @abc.abstractmethod
    def to_sql(self, table: sa.Table) -> Expression:
        """The expression for ``table`` (``app.models.Job.__table__``)."""

    def __and__(self, other: SQLAble) -> AndCondition:
        if not isinstance(other, SQLAble):
            return NotImplemented
        return AndCondition(self, other)

    def __or__(self, other: SQLAble) -> OrCondition:
        if not isinstance(other, SQLAble):
            return NotImplemented
        return OrCondition(self, other)

    def __rand__(self, other: object) -> AndCondition:
        raise TypeError(f"Cannot combine {other!r} with a rule using &. {_PRECEDENCE_HINT}")

    def __ror__(self, other: object) -> OrCondition:
        raise TypeError(f"Cannot combine {other!r} with a rule using |. {_PRECEDENCE_HINT}")

    def __invert__(self) -> NotCondition:
        return NotCondition(self)

    def __bool__(self) -> bool:
        # ``a == b and c`` or ``if rule:`` would silently discard half a rule.
        raise TypeError(f"A rule has no truth value; use & and | to combine rules. {self!r}")


class Rule:
    """A job field (or derived value) that comparisons turn into conditions.

    ``field`` is a column name of the jobs table, or a function building the expression
    from the table (see :meth:`JobRules.Age`).
    """

    def __init__(self, field: str | FieldSQL) -> None:
        self.field = field

    def field_sql(self, table: sa.Table) -> Expression:
        if callable(self.field):
            return self.field(table)
        try:
            return table.c[self.field]
        except KeyError:
            raise ValueError(
                f"Rule field {self.field!r} is not a column of {table.name}; known "
                f"columns: {sorted(table.c.keys())}."
            ) from None

    def __eq__(self, value: object) -> Condition:  # type: ignore[override]
        return Condition(self, "==", value)

    def __ne__(self, value: object) -> Condition:  # type: ignore[override]
        return Condition(self, "!=", value)

    def __lt__(self, value: object) -> Condition:
        return Condition(self, "<", value)

    def __le__(self, value: object) -> Condition:
        return Condition(self, "<=", value)

    def __gt__(self, value: object) -> Condition:
        return Condition(self, ">", value)

    def __ge__(self, value: object) -> Condition:
        return Condition(self, ">=", value)

    __hash__ = None  # type: ignore[assignment]

    def coerce(self, value: Any) -> Any:
        """Turn a comparison value into what the column expects (hook for subclasses)."""
        return value

    def contains(self, text: str) -> Condition:
        """Case-insensitive substring match; ``%`` and ``_`` in ``text`` are literal."""
        return Condition(self, "contains", text)

    def ilike(self, pattern: str) -> Condition:
        """Case-insensitive LIKE with the pattern as given (``%`` and ``_`` are wildcards)."""
        return Condition(self, "ilike", pattern)

    def __repr__(self) -> str:
        name = self.field if isinstance(self.field, str) else type(self).__name__
        return f"Rule({name!r})"


def _text(field: Expression) -> Expression:
    """Pattern operators need text; other columns (ids, numbers) match on their text form."""
    return field if isinstance(field.type, sa.String) else sa.cast(field, sa.Text)


#: The operators a :class:`Condition` understands, by name. Also the vocabulary for
#: filters that arrive as data (``[field, op, value]``), so unknown names are rejected.
OPERATORS: dict[str, Callable[[Expression, Any], Expression]] = {
    "==": lambda f, v: f.is_(None) if v is None else f == v,
    "!=": lambda f, v: f.is_not(None) if v is None else f != v,
    "<": lambda f, v: f < v,
    "<=": lambda f, v: f <= v,
    ">": lambda f, v: f > v,
    ">=": lambda f, v: f >= v,
    "contains": lambda f, v: _text(f).ilike(f"%{_escape_like(str(v))}%", escape="\\"),
    "ilike": lambda f, v: _text(f).ilike(str(v)),
}


class Condition(SQLAble):
    """``rule <op> value``; the value is sent as a bound parameter."""

    def __init__(self, rule: Rule, op: str, value: Any) -> None:
        if op not in OPERATORS:
            raise ValueError(f"Unknown rule operator {op!r}; use one of {sorted(OPERATORS)}.")
        self.rule = rule
        self.op = op
        value = value.value if isinstance(value, enum.Enum) else value
        self.value = value if op in ("contains", "ilike") else rule.coerce(value)

    def to_sql(self, table: sa.Table) -> Expression:
        return OPERATORS[self.op](self.rule.field_sql(table), self.value)

    def __repr__(self) -> str:
        return f"Condition({self.rule!r}, {self.op!r}, {self.value!r})"


class AndCondition(SQLAble):
    def __init__(self, left: SQLAble, right: SQLAble) -> None:
        self.left = left
        self.right = right

    def to_sql(self, table: sa.Table) -> Expression:
        return sa.and_(self.left.to_sql(table), self.right.to_sql(table))

    def __repr__(self) -> str:
        return f"({self.left!r} & {self.right!r})"


class OrCondition(SQLAble):
    def __init__(self, left: SQLAble, right: SQLAble) -> None:
        self.left = left
        self.right = right

    def to_sql(self, table: sa.Table) -> Expression:
        return sa.or_(self.left.to_sql(table), self.right.to_sql(table))

    def __repr__(self) -> str:
        return f"({self.left!r} | {self.right!r})"


class NotCondition(SQLAble):
    def __init__(self, inner: SQLAble) -> None:
        self.inner = inner

    def to_sql(self, table: sa.Table) -> Expression:
        return sa.not_(self.inner.to_sql(table))

    def __repr__(self) -> str:
        return f"~{self.inner!r}"


def _age(table: sa.Table) -> Expression:
    # The database clock, so every worker measures age the same way.
    return sa.extract("epoch", sa.func.now() - table.c.created_at)


class JobRules:
    """Rules over the jobs table. Each is a class so ``JobRules.Age() > 60`` reads well."""

    class Age(Rule):
        """Seconds since the job was created (by the database clock)."""

        def __init__(self) -> None:
            super().__init__(_age)

        def coerce(self, value: Any) -> Any:
            return value.total_seconds() if isinstance(value, dt.timedelta) else value

    class Queue(Rule):
        def __init__(self) -> None:
            super().__init__("queue")

    class Job(Rule):
        """The job's function, as its dotted import path."""

        def __init__(self) -> None:
            super().__init__("func")

    class State(Rule):
        def __init__(self) -> None:
            super().__init__("state")

    class CreatedAt(Rule):
        def __init__(self) -> None:
            super().__init__("created_at")

    class ScheduledAt(Rule):
        def __init__(self) -> None:
            super().__init__("scheduled_at")

    class ID(Rule):
        def __init__(self) -> None:
            super().__init__("id")

        def coerce(self, value: Any) -> Any:
            return uuid.UUID(value) if isinstance(value, str) else value

    class Priority(Rule):
        def __init__(self) -> None:
            super().__init__("priority")

    class Attempts(Rule):
        def __init__(self) -> None:
            super().__init__("attempts")
