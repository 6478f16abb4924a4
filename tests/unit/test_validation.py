"""Validation without a database: prefixes, queue options and job fields."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from chancy import Chancy, Job, Limit, Queue
from chancy.config import MAX_PREFIX_LENGTH, validate_prefix
from chancy.errors import ConfigurationError

DSN = "postgresql://u@localhost/db"


class TestPrefix:
    @pytest.mark.parametrize("prefix", ["chancy_", "t_1a2b3c4d_", "tenant2_", "a_"])
    def test_good(self, prefix: str) -> None:
        assert validate_prefix(prefix) == prefix

    @pytest.mark.parametrize(
        "prefix",
        ["Bad-", "chancy", "Chancy_", "1abc_", "_abc_", "a-b_", "a b_", "a;drop_", "", "é_"],
    )
    def test_bad(self, prefix: str) -> None:
        with pytest.raises(ConfigurationError, match="Invalid table prefix"):
            validate_prefix(prefix)

    def test_too_long(self) -> None:
        prefix = "a" * MAX_PREFIX_LENGTH + "_"
        with pytest.raises(ConfigurationError, match="the limit is"):
            validate_prefix(prefix)
        assert validate_prefix("a" * (MAX_PREFIX_LENGTH - 1) + "_")

    def test_not_a_string(self) -> None:
        with pytest.raises(ConfigurationError):
            validate_prefix(None)  # type: ignore[arg-type]

    def test_configuration_error_is_a_value_error(self) -> None:
        assert issubclass(ConfigurationError, ValueError)
        with pytest.raises(ValueError):
            validate_prefix("Bad-")

    def test_app_rejects_a_bad_prefix(self) -> None:
        with pytest.raises(ConfigurationError, match="'Bad-'"):
            Chancy(DSN, prefix="Bad-")


class TestAppOptions:
    def test_non_postgres_url(self) -> None:
        with pytest.raises(ConfigurationError, match="PostgreSQL"):
            Chancy("sqlite:///x.db")

    @pytest.mark.parametrize(("low", "high"), [(-1, 10), (1, 0), (5, 2)])
    def test_pool_sizes(self, low: int, high: int) -> None:
        with pytest.raises(ConfigurationError):
            Chancy(DSN, min_connection_pool_size=low, max_connection_pool_size=high)

    def test_dsn_is_the_string_passed_and_url_the_sqlalchemy_url(self) -> None:
        """As upstream, ``dsn`` is the libpq DSN you gave (psycopg can use it); the
        SQLAlchemy URL is ``url``; only the repr hides the password."""
        given = "postgresql://user:secret@db.example/app"
        app = Chancy(given, no_default_plugins=True)
        assert app.dsn == given
        assert app.url.drivername == "postgresql+psycopg"
        assert (app.url.host, app.url.database, app.url.password) == (
            "db.example",
            "app",
            "secret",
        )
        assert "secret" in app.conninfo  # raw connections still need it
        assert "secret" not in repr(app) and "db.example/app" in repr(app)

    @pytest.mark.parametrize(
        "given",
        [
            "host=db.example port=6543 dbname=app user=me password=secret sslmode=require",
            "postgresql+psycopg://me:secret@db.example:6543/app?sslmode=require",
            sa.make_url("postgresql://me:secret@db.example:6543/app?sslmode=require"),
            {
                "NAME": "app",
                "USER": "me",
                "PASSWORD": "secret",
                "HOST": "db.example",
                "PORT": 6543,
                "OPTIONS": {"sslmode": "require"},
            },
        ],
        ids=["keywords", "sqlalchemy-url", "url-object", "django"],
    )
    def test_every_spelling_gives_a_dsn_psycopg_reads(self, given: object) -> None:
        app = Chancy(given, no_default_plugins=True)  # type: ignore[arg-type]
        parsed = psycopg.conninfo.conninfo_to_dict(app.dsn)
        assert parsed == {
            "host": "db.example",
            "port": "6543",
            "dbname": "app",
            "user": "me",
            "password": "secret",
            "sslmode": "require",
        }
        assert (app.url.host, app.url.port, app.url.database) == ("db.example", 6543, "app")
        assert dict(app.url.query) == {"sslmode": "require"}
        if isinstance(given, str) and "+" not in given:
            assert app.dsn == given

    def test_an_engine_gives_its_url_as_dsn(self) -> None:
        engine = create_async_engine("postgresql+psycopg://me:pw@db.example/app")
        app = Chancy(engine, no_default_plugins=True)
        assert app.dsn == "postgresql://me:pw@db.example/app"


class TestQueueValidation:
    def test_defaults_and_state(self) -> None:
        q = Queue("default")
        assert q.concurrency is None and q.tags == {".*"} and q.state is Queue.State.ACTIVE
        assert q.executor == Chancy.Executor.Process and q.polling_interval == 5
        assert Queue("p", state="paused").state is Queue.State.PAUSED  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("options", "match"),
        [
            ({"rate_limit": 10}, "rate_limit_window"),
            ({"rate_limit_window": 10}, "rate_limit"),
            ({"rate_limit": 0, "rate_limit_window": 1}, "rate_limit must be positive"),
            ({"concurrency": 0}, "concurrency"),
            ({"concurrency": -3}, "concurrency"),
            ({"concurrency": True}, "concurrency"),
            ({"concurrency": 2**31}, "concurrency"),
            ({"polling_interval": 0}, "polling_interval"),
            ({"executor": "NoDots"}, "executor"),
            ({"tags": "gpu"}, "not a single string"),
            ({"state": "sleeping"}, "state"),
            ({"resume_at": dt.datetime(2030, 1, 1)}, "timezone-aware"),
        ],
    )
    def test_bad_options(self, options: dict[str, Any], match: str) -> None:
        with pytest.raises(ConfigurationError, match=match):
            Queue("q", **options)

    def test_name_length(self) -> None:
        with pytest.raises(ConfigurationError, match="name"):
            Queue("")
        with pytest.raises(ConfigurationError, match="limited to 255"):
            Queue("q" * 256)
        assert Queue("q" * 255).name == "q" * 255

    def test_pack_unpack_round_trip(self) -> None:
        q = Queue(
            "q",
            concurrency=3,
            tags={"gpu", "eu-.*"},
            state=Queue.State.PAUSED,
            executor=Chancy.Executor.Async,
            executor_options={"x": 1},
            polling_interval=2,
            rate_limit=10,
            rate_limit_window=60,
            resume_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
            eager_polling=True,
        )
        packed = q.pack()
        assert packed["tags"] == ["eu-.*", "gpu"] and packed["state"] == "paused"
        assert packed["resume_at"] == "2030-01-01T00:00:00+00:00"
        assert Queue.unpack({**packed, "resume_at": q.resume_at}) == q

    def test_invalid_tags_are_reported(self) -> None:
        q = Queue("q", tags={"ok.*", "(broken"})
        assert q.invalid_tags() == ["(broken"]


def nested_factory() -> Any:
    def inner() -> None:
        pass

    return inner


class TestJobValidation:
    def test_lambda_and_nested_functions(self) -> None:
        with pytest.raises(ConfigurationError, match="lambda"):
            Job.from_func(lambda: None)
        with pytest.raises(ConfigurationError, match="nested"):
            Job.from_func(nested_factory())

    def test_main_module_functions_are_allowed(self) -> None:
        Job(func="__main__.fn").validate()

    @pytest.mark.parametrize(
        ("fields", "match"),
        [
            ({"func": "nodots"}, "dotted import path"),
            ({"queue": ""}, "queue"),
            ({"priority": 2**31}, "priority=2147483648 is outside"),
            ({"priority": -(2**31) - 1}, "priority"),
            ({"priority": 1.5}, "priority must be an int"),
            ({"priority": True}, "priority must be an int"),
            ({"max_attempts": 0}, "max_attempts"),
            ({"scheduled_at": dt.datetime(2030, 1, 1)}, "timezone-aware"),
            ({"scheduled_at": "2030-01-01"}, "scheduled_at must be a datetime"),
            ({"kwargs": {"when": dt.date(2030, 1, 1)}}, "kwargs must be JSON-serialisable"),
            ({"kwargs": {"x": object()}}, "kwargs must be JSON-serialisable"),
            ({"kwargs": {"x": math.nan}}, "kwargs must be JSON-serialisable"),
            ({"kwargs": {1: "a"}}, "keys must be strings"),
            ({"kwargs": [1, 2]}, "kwargs must be a dict"),
            ({"kwargs": {"x": "a\x00b"}}, "NUL"),
            ({"meta": {"s": {1, 2}}}, "meta must be JSON-serialisable"),
            ({"unique_key": 5}, "unique_key"),
            ({"queue": "a\x00"}, "NUL"),
            ({"queue": "q" * 256}, "limited to 255 characters"),
            ({"unique_key": "k" * 2049}, "2049 bytes"),
            ({"limits": [{"t": "time", "v": 1}]}, "limits"),
        ],
    )
    def test_bad_fields(self, fields: dict[str, Any], match: str) -> None:
        job = Job(**{"func": "m.f", **fields})
        with pytest.raises(ConfigurationError, match=match):
            job.validate()

    def test_escaped_backslash_is_not_a_nul(self) -> None:
        Job(func="m.f", kwargs={"path": "C:\\u0000"}).validate()

    def test_good_job_passes(self) -> None:
        Job(
            func="m.f",
            kwargs={"a": [1, 2.5, None, True, {"b": "c"}]},
            priority=-5,
            limits=[Limit(Limit.Type.TIME, 1)],
            unique_key="u",
        ).validate()


class TestDjangoSettings:
    def test_full_entry(self) -> None:
        app = Chancy(
            {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "app",
                "USER": "me@corp",
                "PASSWORD": "p@ss:word",
                "HOST": "db.example",
                "OPTIONS": {"sslmode": "require"},
            }
        )
        url = app.url
        assert (url.username, url.password, url.host, url.port) == (
            "me@corp",
            "p@ss:word",
            "db.example",
            5432,
        )
        assert (url.database, dict(url.query)) == ("app", {"sslmode": "require"})
        assert psycopg.conninfo.conninfo_to_dict(app.dsn)["password"] == "p@ss:word"

    def test_local_socket_entry_has_no_port(self) -> None:
        url = Chancy({"NAME": "app", "PORT": ""}).url
        assert (url.host, url.port, url.database) == (None, None, "app")

    def test_socket_directory_host_becomes_the_host_parameter(self) -> None:
        app = Chancy({"NAME": "app", "USER": "me", "HOST": "/var/run/postgresql"})
        url = app.url
        assert (url.host, url.port) == (None, 5432)
        assert dict(url.query) == {"host": "/var/run/postgresql"}
        # The string forms parse back to the same place (they are what libpq and LISTEN see).
        assert "host=/var/run/postgresql" in app.conninfo.replace("%2F", "/")
        assert sa.make_url(app.conninfo).query["host"] == "/var/run/postgresql"

    def test_explicit_port(self) -> None:
        assert Chancy({"NAME": "app", "HOST": "h", "PORT": "6543"}).url.port == 6543

    def test_needs_a_name(self) -> None:
        with pytest.raises(ConfigurationError, match="NAME"):
            Chancy({"HOST": "h"})


class FakePlugin:
    def __init__(self, ident: str) -> None:
        self.ident = ident

    def get_identifier(self) -> str:
        return self.ident


class OtherFakePlugin(FakePlugin):
    pass


class TestPlugins:
    def test_kept_in_order_by_identifier(self) -> None:
        a, b = FakePlugin("a"), OtherFakePlugin("b")
        app = Chancy(DSN, plugins=[b, a], no_default_plugins=True)
        assert list(app.plugins.items()) == [("b", b), ("a", a)]

    def test_same_plugin_twice(self) -> None:
        with pytest.raises(ConfigurationError, match="Duplicate plugin"):
            Chancy(DSN, plugins=[FakePlugin("a"), FakePlugin("a")], no_default_plugins=True)

    def test_two_plugins_with_one_identifier(self) -> None:
        with pytest.raises(ConfigurationError, match="conflicts with another plugin"):
            Chancy(DSN, plugins=[FakePlugin("a"), OtherFakePlugin("a")], no_default_plugins=True)
