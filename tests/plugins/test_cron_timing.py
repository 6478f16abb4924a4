"""Cron timing without a database: expressions read in a zone, with Vixie-cron DST rules.

New York's 2026 changes: on 8 March the clock jumps from 02:00 EST to 03:00 EDT (02:xx
never happens); on 1 November it falls back from 02:00 EDT to 01:00 EST (01:xx happens
twice). Each rule is checked on a hand-picked case, then wildcard and fixed schedules are
checked minute by minute against a brute-force reading of the local clock in zones
with one-hour, half-hour and southern-hemisphere changes.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter

from chancy.errors import ConfigurationError
from chancy.plugins.cron import is_fixed_time, next_fire
from chancy.plugins.cron.timing import to_zone

NY = ZoneInfo("America/New_York")
UTC = dt.UTC


def local(*args: int, fold: int = 0, zone: ZoneInfo = NY) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone, fold=fold)


def runs(expression: str, after: dt.datetime, count: int, zone: ZoneInfo = NY) -> list[str]:
    """The next ``count`` runs as local wall times with their UTC offsets."""
    found = []
    for _ in range(count):
        after = next_fire(expression, zone, after)
        assert after.tzinfo is UTC
        found.append(after.astimezone(zone).strftime("%m-%d %H:%M:%S%z"))
    return found


def test_fixed_and_wildcard_classification() -> None:
    assert is_fixed_time("30 2 * * *")
    assert is_fixed_time("0,30 9-17 * * 1-5")
    assert is_fixed_time("@daily")
    assert not is_fixed_time("@hourly")
    assert not is_fixed_time("*/15 * * * *")
    assert not is_fixed_time("0 */2 * * *")


def test_utc_schedules_need_no_zone() -> None:
    after = dt.datetime(2026, 1, 1, 10, 2, 30, tzinfo=UTC)
    assert next_fire("*/5 * * * *", None, after) == dt.datetime(2026, 1, 1, 10, 5, tzinfo=UTC)
    # A sixth field is seconds.
    assert next_fire("* * * * * */10", "Etc/UTC", after) == after.replace(second=40)
    # Strictly after: a run exactly at ``after`` is not repeated.
    on_time = dt.datetime(2026, 1, 1, 10, 5, tzinfo=UTC)
    assert next_fire("*/5 * * * *", dt.UTC, on_time) == on_time.replace(minute=10)


def test_the_zone_decides_the_instant() -> None:
    after = dt.datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
    assert next_fire("0 9 * * *", "Europe/Paris", after) == dt.datetime(2026, 6, 1, 7, tzinfo=UTC)
    assert next_fire("0 9 * * *", NY, after) == dt.datetime(2026, 6, 1, 13, tzinfo=UTC)
    assert next_fire("0 9 * * *", ZoneInfo("Asia/Kolkata"), after) == dt.datetime(
        2026, 6, 1, 3, 30, tzinfo=UTC
    )


def test_fixed_time_in_a_skipped_hour_runs_once_at_the_end_of_the_gap() -> None:
    assert runs("30 2 * * *", local(2026, 3, 8, 1, 0), 2) == [
        "03-08 03:00:00-0400",
        "03-09 02:30:00-0400",
    ]
    # Two skipped times still make a single run.
    assert runs("0,30 2 * * *", local(2026, 3, 8, 1, 0), 3) == [
        "03-08 03:00:00-0400",
        "03-09 02:00:00-0400",
        "03-09 02:30:00-0400",
    ]


def test_wildcard_schedule_follows_the_local_clock_over_a_gap() -> None:
    assert runs("*/30 * * * *", local(2026, 3, 8, 1, 15), 3) == [
        "03-08 01:30:00-0500",
        "03-08 03:00:00-0400",
        "03-08 03:30:00-0400",
    ]
    assert runs("*/20 * * * * *", local(2026, 3, 8, 1, 59, 30), 2) == [
        "03-08 03:00:00-0400",
        "03-08 03:00:01-0400",
    ]


def test_fixed_time_in_a_repeated_hour_runs_on_the_first_pass_only() -> None:
    assert runs("30 1 * * *", local(2026, 11, 1, 0, 0), 2) == [
        "11-01 01:30:00-0400",
        "11-02 01:30:00-0500",
    ]
    # Starting inside the second pass: today's 01:30 already ran.
    assert runs("30 1 * * *", local(2026, 11, 1, 1, 10, fold=1), 1) == ["11-02 01:30:00-0500"]


def test_wildcard_schedule_runs_on_both_passes_of_a_repeated_hour() -> None:
    assert runs("*/30 * * * *", local(2026, 11, 1, 0, 45), 6) == [
        "11-01 01:00:00-0400",
        "11-01 01:30:00-0400",
        "11-01 01:00:00-0500",
        "11-01 01:30:00-0500",
        "11-01 02:00:00-0500",
        "11-01 02:30:00-0500",
    ]
    # From late in the first pass, the second pass replays the earlier wall times.
    assert runs("*/15 * * * *", local(2026, 11, 1, 1, 40), 3) == [
        "11-01 01:45:00-0400",
        "11-01 01:00:00-0500",
        "11-01 01:15:00-0500",
    ]
    # From inside the second pass, it carries on to the fold's end.
    assert runs("*/15 * * * *", local(2026, 11, 1, 1, 40, fold=1), 2) == [
        "11-01 01:45:00-0500",
        "11-01 02:00:00-0500",
    ]


def brute_force(
    expression: str, zone: ZoneInfo, start: dt.datetime, end: dt.datetime
) -> list[dt.datetime]:
    """Every fire instant in [start, end), by reading the local clock minute by minute.

    Wildcard: every instant whose local wall time matches. Fixed: matches on a first
    pass only, plus one run at the end of each gap that hides a matching wall time.
    """
    fixed = is_fixed_time(expression)
    minutes, hours = croniter(expression).expanded[:2]

    def match(wall: dt.datetime) -> bool:  # the expressions used here restrict only these
        return (minutes == ["*"] or wall.minute in minutes) and (
            hours == ["*"] or wall.hour in hours
        )

    found: list[dt.datetime] = []
    instant = start
    while instant < end:
        wall = instant.astimezone(zone)
        naive = wall.replace(tzinfo=None)
        previous = (instant - dt.timedelta(minutes=1)).astimezone(zone).replace(tzinfo=None)
        skipped = []
        if fixed and naive - previous > dt.timedelta(minutes=1):  # a gap just ended
            minute = previous + dt.timedelta(minutes=1)
            while minute < naive:
                skipped.append(match(minute))
                minute += dt.timedelta(minutes=1)
        if match(naive) and not (fixed and wall.fold):
            found.append(instant)
        elif any(skipped):
            found.append(instant)
        instant += dt.timedelta(minutes=1)
    return found


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("America/New_York", dt.date(2026, 3, 8)),
        ("America/New_York", dt.date(2026, 11, 1)),
        ("Europe/London", dt.date(2026, 3, 29)),
        ("Europe/London", dt.date(2026, 10, 25)),
        ("Australia/Sydney", dt.date(2026, 4, 5)),
        ("Australia/Sydney", dt.date(2026, 10, 4)),
        # Half-hour changes.
        ("Australia/Lord_Howe", dt.date(2026, 4, 5)),
        ("Australia/Lord_Howe", dt.date(2026, 10, 4)),
    ],
)
@pytest.mark.parametrize(
    "expression", ["*/20 * * * *", "15,45 * * * *", "30 1,2 * * *", "10 0-3 * * *"]
)
def test_matches_a_brute_force_reading_of_the_local_clock(
    zone: str, day: dt.date, expression: str
) -> None:
    tz = ZoneInfo(zone)
    # Every change here happens between 01:00 and 03:00 local time.
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(UTC) - dt.timedelta(hours=1)
    end = start + dt.timedelta(hours=6)
    expected = brute_force(expression, tz, start, end)
    assert expected, "the window must contain runs, or the comparison proves nothing"
    got = []
    after = start - dt.timedelta(seconds=1)
    while True:
        after = next_fire(expression, tz, after)
        if after >= end:
            break
        got.append(after)
    assert got == expected


def test_bad_input_is_reported_clearly() -> None:
    after = dt.datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ConfigurationError, match="Invalid cron expression"):
        next_fire("every day", None, after)
    with pytest.raises(ConfigurationError, match="no run in the next 50 years"):
        next_fire("0 0 30 2 *", None, after)
    with pytest.raises(ConfigurationError, match="Unknown time zone"):
        next_fire("* * * * *", "Mars/Olympus_Mons", after)
    with pytest.raises(ConfigurationError, match="aware"):
        next_fire("* * * * *", None, dt.datetime(2026, 1, 1))
    with pytest.raises(ConfigurationError, match="fixed\noffset|fixed offset"):
        to_zone(dt.timezone(dt.timedelta(hours=2)))
    assert to_zone(dt.UTC).key == to_zone(None).key == "Etc/UTC"


def test_missing_croniter_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "croniter", None)  # as if not installed
    for name in ("chancy.plugins.cron", "chancy.plugins.cron.plugin", "chancy.plugins.cron.timing"):
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(ImportError, match=r"pip install chancy\[cron\]"):
        importlib.import_module("chancy.plugins.cron")


def test_documented_every_ten_seconds_examples_fire_every_ten_seconds() -> None:
    """Regression: the docs said ``*/10 * * * * *`` is every ten seconds, but croniter
    reads seconds from the *last* field (that one is every second of every tenth
    minute). Every expression the docs or docstrings call "every ten seconds" is run."""
    root = Path(__file__).resolve().parents[2]
    sources = [root / "README.md", *root.glob("docs/**/*.md"), *root.glob("chancy/**/*.py")]
    claim = re.compile(r"`+([^`]+)`+\s+is\s+every\s+(?:ten|10)\s+seconds")
    found = [
        (path.name, m.group(1))
        for path in sources
        for m in claim.finditer(" ".join(path.read_text().split()))
    ]
    assert found, "the docs should show a seconds example"
    start = dt.datetime(2026, 1, 1, 12, 0, 3, tzinfo=UTC)
    for name, expression in found:
        first = next_fire(expression, "Etc/UTC", start)
        second = next_fire(expression, "Etc/UTC", first)
        assert (second - first).total_seconds() == 10, (name, expression)
