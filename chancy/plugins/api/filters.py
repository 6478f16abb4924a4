"""The job browser's query: states, queue, function search and ``[field, op, value]`` filters.

Filters arrive as data from the browser, so each one is checked against a whitelist of
fields and the operators of :mod:`chancy.rule` and its value is typed for its column;
anything else is a 422 naming what is accepted. They then become ordinary rules, whose
values are always bound parameters.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

from starlette.requests import Request

from chancy.job import QueuedJob
from chancy.plugins.api.http import ApiError, parse_datetime, parse_int, parse_uuid
from chancy.rule import OPERATORS, Condition, JobRules, Rule, SQLAble

__all__ = ["FILTER_FIELDS", "MAX_FILTERS", "MAX_LIMIT", "JobQuery", "parse_filters"]

#: Filterable job columns and the type of their values.
FILTER_FIELDS: dict[str, str] = {
    "id": "uuid",
    "queue": "text",
    "func": "text",
    "state": "text",
    "unique_key": "text",
    "taken_by": "text",
    "priority": "int",
    "attempts": "int",
    "max_attempts": "int",
    "created_at": "datetime",
    "scheduled_at": "datetime",
    "started_at": "datetime",
    "completed_at": "datetime",
}
MAX_FILTERS = 20
MAX_LIMIT = 100
STATES = [s.value for s in QueuedJob.State]


def _typed(field: str, op: str, value: Any) -> Any:
    kind = FILTER_FIELDS[field]
    where = f"filter on {field!r}"
    if op in ("contains", "ilike"):
        if not isinstance(value, str):
            raise ApiError(422, f"The {where} with {op!r} needs a string value.")
        return value
    if value is None:
        if op not in ("==", "!="):
            raise ApiError(422, f"The {where}: null only works with == and !=.")
        return None
    if kind == "uuid":
        return parse_uuid(value, f"The {where}")
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ApiError(422, f"The {where} needs an integer, got {value!r}.")
        return value
    if kind == "datetime":
        return parse_datetime(value, f"The {where}")
    if not isinstance(value, str):
        raise ApiError(422, f"The {where} needs a string, got {value!r}.")
    return value


def parse_filters(raw: str | None) -> list[SQLAble]:
    """Rules from a JSON list of ``[field, op, value]`` triples (all must hold)."""
    if raw is None or raw == "":
        return []
    try:
        triples = json.loads(raw)
    except json.JSONDecodeError:
        raise ApiError(
            422, 'filters must be a JSON list of [field, op, value], e.g. [["priority", ">", 5]].'
        ) from None
    if not isinstance(triples, list):
        raise ApiError(422, "filters must be a JSON list of [field, op, value] triples.")
    if len(triples) > MAX_FILTERS:
        raise ApiError(422, f"At most {MAX_FILTERS} filters are accepted, got {len(triples)}.")
    rules: list[SQLAble] = []
    for triple in triples:
        if not isinstance(triple, list) or len(triple) != 3:
            raise ApiError(422, f"Each filter must be [field, op, value], got {triple!r}.")
        field, op, value = triple
        if field not in FILTER_FIELDS:
            raise ApiError(
                422, f"Unknown filter field {field!r}; use one of {sorted(FILTER_FIELDS)}."
            )
        if op not in OPERATORS:
            raise ApiError(422, f"Unknown filter operator {op!r}; use one of {sorted(OPERATORS)}.")
        rules.append(Condition(Rule(field), op, _typed(field, op, value)))
    return rules


@dataclasses.dataclass(frozen=True)
class JobQuery:
    """The validated query parameters of ``GET /api/v1/jobs``."""

    states: list[str] | None
    queue: str | None
    rules: list[SQLAble]
    before: uuid.UUID | None
    limit: int
    pagination: bool

    @classmethod
    def from_request(cls, request: Request, *, pagination: bool) -> JobQuery:
        params = request.query_params
        state = params.get("state", "pending")
        if state in ("all", ""):
            states = None
        else:
            states = [s.strip() for s in state.split(",") if s.strip()]
            bad = [s for s in states if s not in STATES]
            if bad:
                raise ApiError(422, f"Unknown state(s) {bad}; use {STATES} or 'all'.")
        rules = parse_filters(params.get("filters"))
        func = params.get("func")
        if func:
            rules.insert(0, JobRules.Job().contains(func))
        before_raw = params.get("before")
        before = parse_uuid(before_raw, "before") if before_raw else None
        limit = parse_int(request, "limit", MAX_LIMIT, minimum=1, maximum=MAX_LIMIT)
        return cls(states, params.get("queue") or None, rules, before, limit, pagination)
