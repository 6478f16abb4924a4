"""NOTIFY statements on the prefix's channel. Payloads are JSON with the event in ``t``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from chancy.db.statements._sql import TEXTS
from chancy.errors import ConfigurationError
from chancy.utils import json_dumps


def payload(event: str, body: dict[str, Any]) -> str:
    data = json_dumps({"t": event, **body})
    if len(data.encode()) >= 8000:
        raise ConfigurationError(
            f"Notification {event!r} is {len(data.encode())} bytes; Postgres caps payloads "
            "below 8000 (is a queue name or payload value unreasonably long?)."
        )
    return data


def notify(channel: str, event: str, body: dict[str, Any]) -> sa.Select[tuple[object]]:
    """One notification, sent when the surrounding transaction commits."""
    return sa.select(sa.func.pg_notify(channel, payload(event, body)))


def notify_many(channel: str, events: list[tuple[str, dict[str, Any]]]) -> sa.Select[Any]:
    """Several notifications in one round trip."""
    payloads = sa.func.unnest(sa.bindparam("payloads", [payload(e, b) for e, b in events], TEXTS))
    items = payloads.table_valued("p").render_derived(name="n")
    return sa.select(sa.func.pg_notify(channel, items.c.p)).select_from(items)
