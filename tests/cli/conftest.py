"""Fixtures of the CLI tests: an app module on a prefix of its own, and a runner.

The module defines ``app`` (no default plugins), ``full`` (the default plugins plus Cron)
and ``factory``; both apps share the prefix. The prefix comes migrated (core only) from the
session's pool (tests/prefix_pool.py), so a test's own ``misc migrate`` finds nothing to
do unless it adds a branch; tests marked ``unmigrated`` get a fresh prefix without
tables instead. Either way nothing of the prefix is left for another test.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import sys
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from chancy.cli.main import cli
from chancy.testing import random_prefix
from tests.prefix_pool import PrefixPool


@dataclasses.dataclass
class AppModule:
    name: str
    path: str  # ``module:app``

    @property
    def full(self) -> str:
        return f"{self.name}:full"

    def module(self) -> types.ModuleType:
        return importlib.import_module(self.name)


@pytest.fixture
def app_module(
    request: pytest.FixtureRequest, tmp_path: Path, dsn: str, prefix_pool: PrefixPool
) -> Iterator[AppModule]:
    pooled = request.node.get_closest_marker("unmigrated") is None
    prefix = asyncio.run(prefix_pool.acquire()) if pooled else random_prefix()
    name = f"cliapp_{prefix.strip('_')}"
    (tmp_path / f"{name}.py").write_text(
        textwrap.dedent(
            f"""
            from chancy import Chancy
            from chancy.plugins.cron import Cron

            GREETING = "hello from the app module"
            app = Chancy({dsn!r}, prefix={prefix!r}, no_default_plugins=True)
            full = Chancy({dsn!r}, prefix={prefix!r}, plugins=[Cron()])

            def factory():
                return app
            """
        )
    )
    sys.path.insert(0, str(tmp_path))
    yield AppModule(name, f"{name}:app")
    if pooled:
        asyncio.run(prefix_pool.release(prefix))
    else:
        CliRunner().invoke(cli, ["--app", f"{name}:app", "misc", "migrate", "-t", "0"])
    sys.path.remove(str(tmp_path))
    sys.modules.pop(name, None)


@pytest.fixture
def app_path(app_module: AppModule) -> str:
    return app_module.path


def invoke(*args: str, input: str | None = None) -> Result:
    """Run ``chancy ARGS`` in-process; exceptions are captured into the result."""
    return CliRunner().invoke(cli, list(args), input=input)


def run(*args: str, input: str | None = None) -> str:
    """Run ``chancy ARGS`` and return its stdout, failing the test on a non-zero exit."""
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def one_line_error(result: Result) -> str:
    """The error of a failed command: exit code 1, one ``Error:`` line, no traceback."""
    assert result.exit_code == 1, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]
