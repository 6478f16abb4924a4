"""The ``chancy`` command line against the real Postgres, through click's runner."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from chancy.cli.main import cli


@pytest.fixture
def app_path(tmp_path: Path, dsn: str, prefix: str) -> Iterator[str]:
    """A module defining a Chancy app on a fresh prefix, importable as ``cliapp_<hex>:app``."""
    name = f"cliapp_{prefix.strip('_')}"
    (tmp_path / f"{name}.py").write_text(
        textwrap.dedent(
            f"""
            from chancy import Chancy
            app = Chancy({dsn!r}, prefix={prefix!r}, no_default_plugins=True)
            def factory():
                return app
            """
        )
    )
    sys.path.insert(0, str(tmp_path))
    yield f"{name}:app"
    sys.path.remove(str(tmp_path))
    CliRunner().invoke(cli, ["--app", f"{name}:app", "misc", "migrate", "-t", "0"])


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_migrate_check_and_remove(app_path: str) -> None:
    result = CliRunner().invoke(cli, ["--app", app_path, "misc", "check-migrations"])
    assert result.exit_code == 1
    assert "Up to date: no" in result.output
    assert "core_0003" in run("--app", app_path, "misc", "migrate")
    assert "Up to date: yes" in run("--app", app_path, "misc", "check-migrations")
    assert "none" in run("--app", app_path, "misc", "migrate", "--to-version", "0")


def test_factory_path_and_dotted_form(app_path: str) -> None:
    module = app_path.split(":")[0]
    assert "core_0003" in run("--app", f"{module}.factory", "misc", "migrate")


def test_queue_commands(app_path: str) -> None:
    run("--app", app_path, "misc", "migrate")
    out = run("--app", app_path, "queue", "declare", "mail", "-c", "3", "-e", "Async")
    assert '"concurrency": 3' in out and "AsyncExecutor" in out
    assert '"name": "mail"' in run("--app", app_path, "queue", "list")
    assert "Paused 1" in run("--app", app_path, "queue", "pause", "mail", "--for-seconds", "60")
    assert '"state": "paused"' in run("--app", app_path, "queue", "list")
    assert "Resumed 1" in run("--app", app_path, "queue", "resume", "mail")
    ident = run("--app", app_path, "queue", "push", "os.getcwd", "-q", "mail", "-k", "{}")
    assert len(ident.strip()) == 36
    bad = CliRunner().invoke(cli, ["--app", app_path, "queue", "push", "os.getcwd", "-k", "[1]"])
    assert bad.exit_code != 0 and "JSON object" in bad.output
    run("--app", app_path, "queue", "delete", "mail", "--yes")
    assert "mail" not in run("--app", app_path, "queue", "list")


def test_bad_app_path_is_a_clear_error() -> None:
    result = CliRunner().invoke(cli, ["--app", "no_such_module_xyz:app", "queue", "list"])
    assert result.exit_code != 0
    assert "Cannot import" in result.output


def test_worker_refuses_unmigrated_schema(app_path: str) -> None:
    result = CliRunner().invoke(cli, ["--app", app_path, "worker", "start"])
    assert result.exit_code != 0
    assert "misc migrate" in result.output
