"""JSON in and out for the API's endpoints: responses, errors and parameter parsing.

Every failure an endpoint can foresee is an :class:`ApiError`, rendered as
``{"error": "..."}`` with a 4xx status, so bad input never turns into a 500.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from chancy.utils import json_dumps

__all__ = [
    "ApiError",
    "error_response",
    "json_response",
    "parse_bool",
    "parse_datetime",
    "parse_int",
    "parse_uuid",
    "read_json",
    "to_json",
]


class ApiError(Exception):
    """A client error: rendered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def response(self) -> Response:
        return error_response(self.status, self.message)


def _plain(value: Any) -> Any:
    """``value`` with anything JSON cannot carry replaced by its ``repr``."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    try:
        json_dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def to_json(data: Any, *, lenient: bool = False) -> str:
    """chancy's JSON encoding (UUIDs, datetimes, enums, dataclasses, sets).

    ``lenient`` renders unknown objects (a hub event may carry a worker) as their repr
    instead of failing.
    """
    try:
        return json_dumps(data)
    except (TypeError, ValueError):
        if not lenient:
            raise
        return json_dumps(_plain(data))


def json_response(data: Any, status: int = 200) -> Response:
    return Response(to_json(data), status_code=status, media_type="application/json")


def error_response(status: int, message: str) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return Response(
        json.dumps({"error": message}),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


async def read_json(request: Request, *, expect: type = dict) -> Any:
    """The request body as JSON of type ``expect``; 400 if it is not that."""
    body = await request.body()
    if not body:
        if expect is dict:
            return {}
        raise ApiError(400, f"The request needs a JSON {expect.__name__} body.")
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(data, expect):
        name = "object" if expect is dict else expect.__name__
        raise ApiError(400, f"The request body must be a JSON {name}.")
    return data


def parse_uuid(value: Any, what: str = "id") -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise ApiError(422, f"{what} must be a UUID, got {value!r}.") from None


def parse_int(conn: HTTPConnection, name: str, default: int, *, minimum: int, maximum: int) -> int:
    """Query parameter ``name`` as an int within bounds; 422 naming the bounds otherwise."""
    raw = conn.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, f"{name} must be an integer, got {raw!r}.") from None
    if not minimum <= value <= maximum:
        raise ApiError(422, f"{name} must be between {minimum} and {maximum}, got {value}.")
    return value


def parse_bool(conn: HTTPConnection, name: str, default: bool = False) -> bool:
    raw = conn.query_params.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ApiError(422, f"{name} must be true or false, got {raw!r}.")


def parse_datetime(value: Any, what: str) -> dt.datetime:
    """An ISO 8601 datetime with a time zone (a trailing ``Z`` is accepted)."""
    if not isinstance(value, str):
        raise ApiError(422, f"{what} must be an ISO 8601 datetime string, got {value!r}.")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, f"{what} is not an ISO 8601 datetime: {value!r}.") from None
    if parsed.tzinfo is None:
        raise ApiError(422, f"{what} needs a time zone, e.g. {value}+00:00.")
    return parsed
