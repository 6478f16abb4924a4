"""When a schedule fires next: cron expressions read in a time zone, with Vixie-cron DST rules.

Cron expressions describe *local wall-clock* times, and daylight-saving changes break
the one-to-one mapping between wall time and real time twice a year. The rules, as in
Vixie cron (and upstream Chancy 0.26):

* A *fixed-time* schedule (no ``*`` in its minute or hour field, e.g. ``30 2 * * *``)
  fires once per matching wall time: a time skipped by a spring-forward gap fires at
  the end of the gap (the first instant after it); a time that happens twice in an
  autumn fold fires only on the first pass.
* A *wildcard* schedule (``*/15 * * * *``, ``0 * * * *``) follows the local clock: times
  inside a gap never happen, and times inside a fold happen twice.

Pure functions without I/O, so they are tested exhaustively without a database.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chancy.errors import ConfigurationError

try:
    from croniter import CroniterError, croniter
except ImportError as exc:
    raise ImportError(
        "The Cron plugin needs the croniter package: pip install chancy[cron]"
    ) from exc

__all__ = ["is_fixed_time", "next_fire", "to_zone", "validate_expression"]

UTC = dt.UTC
#: How far ahead a schedule may have its next run (Feb 30 never comes).
SEARCH_YEARS = 50
#: Longer than any real DST shift (the largest in use is one hour, historically two).
FOLD_WINDOW = dt.timedelta(hours=3)


def validate_expression(expression: str) -> str:
    """``expression`` if croniter can read it (5 fields, or 6 with seconds last)."""
    if not isinstance(expression, str) or not croniter.is_valid(expression):
        raise ConfigurationError(
            f"Invalid cron expression {expression!r}: use five fields "
            "(minute hour day-of-month month day-of-week), a sixth for seconds, or a "
            "nickname such as '@daily'."
        )
    return expression


def to_zone(timezone: ZoneInfo | dt.tzinfo | str | None) -> ZoneInfo:
    """A schedule's zone from a ZoneInfo, an IANA name, UTC, or None (UTC)."""
    if timezone is None or timezone is dt.UTC:
        return ZoneInfo("Etc/UTC")
    if isinstance(timezone, ZoneInfo):
        return timezone
    if isinstance(timezone, str):
        try:
            return ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigurationError(
                f"Unknown time zone {timezone!r}: use an IANA name such as "
                "'Europe/Paris' (on Windows, install tzdata: pip install chancy[cron])."
            ) from exc
    raise ConfigurationError(
        f"timezone must be a zoneinfo.ZoneInfo or an IANA name, got {timezone!r}: a fixed "
        "offset cannot follow daylight-saving changes."
    )


def is_fixed_time(expression: str) -> bool:
    """True when neither the minute nor the hour field contains ``*`` (Vixie's test)."""
    minute, hour = croniter(validate_expression(expression)).expressions[:2]
    return "*" not in minute and "*" not in hour


def _offset(zone: ZoneInfo, instant: dt.datetime) -> dt.timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _transition(zone: ZoneInfo, early: dt.datetime, late: dt.datetime) -> dt.datetime:
    """The first instant after ``early`` with ``late``'s UTC offset (one change between them).

    Bisection over whole seconds; transitions fall on whole seconds.
    """
    after = _offset(zone, late)
    lo, hi = int(early.timestamp()), int(late.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset(zone, dt.datetime.fromtimestamp(mid, UTC)) == after:
            hi = mid
        else:
            lo = mid
    return dt.datetime.fromtimestamp(hi, UTC)


def _instants(
    wall: dt.datetime, zone: ZoneInfo, fixed: bool
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The real instants at which naive wall time ``wall`` fires: (first pass, second pass).

    The first is None for a wildcard schedule's time inside a gap; the second is set
    only for a wildcard schedule's time inside a fold.
    """
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second:
        return first, None
    exists = first.astimezone(zone).replace(tzinfo=None) == wall
    if exists:  # a fold: fold=0 is the earlier instant
        return first, (None if fixed else second)
    if not fixed:  # a gap, and the local clock never shows this time
        return None, None
    # A gap: fold=1 reads the wall time with the new offset, landing before the change.
    return _transition(zone, min(first, second), max(first, second)), None


def next_fire(
    expression: str, timezone: ZoneInfo | dt.tzinfo | str | None, after: dt.datetime
) -> dt.datetime:
    """The first instant strictly after ``after`` at which the schedule fires, in UTC.

    Raises :class:`~chancy.errors.ConfigurationError` for a bad expression or zone, or
    when the expression has no occurrence in the next 50 years.
    """
    zone = to_zone(timezone)
    fixed = is_fixed_time(expression)
    if after.tzinfo is None:
        raise ConfigurationError("next_fire needs a timezone-aware datetime.")
    after = after.astimezone(UTC)
    try:
        return _next_fire(expression, zone, fixed, after)
    except CroniterError as exc:
        raise ConfigurationError(
            f"Cron expression {expression!r} has no run in the next {SEARCH_YEARS} years."
        ) from exc


def _walk(expression: str, start: dt.datetime) -> croniter:
    """Naive wall-clock candidates strictly after naive ``start``."""
    return croniter(expression, start, max_years_between_matches=SEARCH_YEARS)


def _next_fire(expression: str, zone: ZoneInfo, fixed: bool, after: dt.datetime) -> dt.datetime:
    local = after.astimezone(zone)
    offset_before = _offset(zone, after - FOLD_WINDOW)
    offset_now = _offset(zone, after)
    offset_next = _offset(zone, after + FOLD_WINDOW)
    start = local.replace(tzinfo=None)
    if local.fold:
        # In a fold's second pass: the first pass of the wall times still to come in
        # the fold is already over, so resume at the fold's end.
        change = _transition(zone, after - FOLD_WINDOW, after)
        # (A second early: the walk starts strictly after ``start``.)
        fold_end = (change + offset_before).replace(tzinfo=None)
        start = max(start, fold_end - dt.timedelta(seconds=1))
    # First passes: instants grow with wall time, so the first one after ``after`` wins.
    candidates = _walk(expression, start)
    while True:
        first, _ = _instants(candidates.get_next(dt.datetime), zone, fixed)
        if first is not None and first > after:
            break
    if fixed:
        return first
    # A wildcard schedule also fires on a fold's second pass, which replays earlier wall
    # times later in real time (at wall time minus the new offset). Look for one before
    # ``first`` whenever a fold is near: ahead of us, or the one we are in.
    best = first
    offsets = [
        o for o, newer in ((offset_next, offset_now), (offset_now, offset_before)) if o < newer
    ]
    for offset in offsets:
        candidates = _walk(expression, (after + offset).replace(tzinfo=None))
        while True:
            wall = candidates.get_next(dt.datetime)
            replay = wall.replace(tzinfo=UTC) - offset
            if replay >= best:
                break
            _, second = _instants(wall, zone, fixed)
            if second == replay:
                best = replay
                break
    return best
