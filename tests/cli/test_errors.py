"""Configuration and database errors: exit code 1, one line, no traceback."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from chancy.testing import random_prefix
from tests.cli.conftest import invoke, one_line_error


@pytest.fixture
def modules(tmp_path: Path) -> Iterator[Path]:
    """A directory on sys.path for throwaway app modules."""
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))


def write(where: Path, source: str) -> str:
    name = f"errapp_{random_prefix().strip('_')}"
    (where / f"{name}.py").write_text(textwrap.dedent(source))
    return name


def test_missing_module() -> None:
    line = one_line_error(invoke("--app", "no_such_module_xyz:app", "queue", "list"))
    assert line.startswith("Error: Cannot import the app 'no_such_module_xyz:app': ")
    assert line.endswith("No module named 'no_such_module_xyz'")


def test_app_module_importing_a_missing_module_names_it(modules: Path) -> None:
    name = write(modules, "import no_such_dependency_abc\napp = None\n")
    line = one_line_error(invoke("--app", f"{name}:app", "queue", "list"))
    assert "no_such_dependency_abc" in line


def test_app_module_raising_at_import(modules: Path) -> None:
    name = write(modules, "raise RuntimeError('settings file missing\\nsecond line')\n")
    line = one_line_error(invoke("--app", f"{name}:app", "queue", "list"))
    assert (
        line == f"Error: Loading the app '{name}:app' failed: RuntimeError: settings file missing"
    )


def test_missing_attribute_and_wrong_type(modules: Path) -> None:
    name = write(modules, "app = 42\n")
    line = one_line_error(invoke("--app", f"{name}:nope", "queue", "list"))
    assert "nope" in line
    line = one_line_error(invoke("--app", f"{name}:app", "queue", "list"))
    assert "is not a Chancy app or a function returning one (got int)" in line


def test_bad_configuration_in_the_app(modules: Path, dsn: str) -> None:
    name = write(
        modules, f"from chancy import Chancy\napp = Chancy({dsn!r}, prefix='bad prefix')\n"
    )
    line = one_line_error(invoke("--app", f"{name}:app", "queue", "list"))
    assert "prefix" in line


@pytest.mark.parametrize(
    "command",
    [
        ["queue", "list"],
        ["queue", "stats"],
        ["queue", "push", "os.getcwd"],
        ["queue", "delete", "x", "--yes"],
        ["job", "list"],
        ["job", "get", "0190b3c6-9f5e-7c3a-8b1d-2f4e6a8c0d12"],
        ["worker", "list"],
        ["misc", "migrate"],
        ["misc", "check-migrations"],
    ],
)
def test_database_unreachable(modules: Path, command: list[str]) -> None:
    name = write(
        modules,
        "from chancy import Chancy\n"
        "app = Chancy('postgresql://root@127.0.0.1:1/test', no_default_plugins=True)\n",
    )
    line = one_line_error(invoke("--app", f"{name}:app", *command))
    assert line.startswith("Error: Cannot reach the database: ")
    assert "127.0.0.1" in line or "refused" in line


@pytest.mark.unmigrated
def test_tables_missing_says_migrate(app_path: str) -> None:
    for command in (["queue", "list"], ["job", "list"], ["queue", "push", "os.getcwd"]):
        line = one_line_error(invoke("--app", app_path, *command))
        assert "migrate" in line


def test_traceback_flag_shows_the_real_error(modules: Path) -> None:
    name = write(
        modules,
        "from chancy import Chancy\n"
        "app = Chancy('postgresql://root@127.0.0.1:1/test', no_default_plugins=True)\n",
    )
    result = invoke("--traceback", "--app", f"{name}:app", "queue", "list")
    assert result.exit_code == 1 and not isinstance(result.exception, SystemExit)


@pytest.mark.unmigrated
def test_worker_refuses_unmigrated_schema(app_path: str) -> None:
    line = one_line_error(invoke("--app", app_path, "worker", "start"))
    assert "misc migrate" in line
