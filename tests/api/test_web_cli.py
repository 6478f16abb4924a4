"""``worker web``: the command object, driven with CliRunner and as a real process."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from chancy import Chancy
from chancy.cli.web import prepare_api
from chancy.testing import random_prefix
from tests.api.conftest import make_api
from tests.api.web_cli import root
from tests.conftest import DSN

pytestmark = pytest.mark.timeout(90)
ROOT = Path(__file__).resolve().parents[2]
APP = "tests.api.web_cli:make_app"


@pytest.fixture
def migrated_prefix() -> Iterator[str]:
    """A prefix with the core tables only (no Api branch), removed afterwards."""
    prefix = random_prefix("web")

    async def migrate(version: int | None) -> None:
        async with Chancy(DSN, prefix=prefix, no_default_plugins=True) as app:
            await app.migrate(to_version=version)

    asyncio.run(migrate(None))
    try:
        yield prefix
    finally:
        asyncio.run(migrate(0))


def invoke(prefix: str, *args: str) -> object:
    env = {"CHANCY_TEST_DSN": DSN, "WEB_TEST_PREFIX": prefix}
    return CliRunner().invoke(root, ["--app", APP, "web", *args], env=env)


def test_refuses_an_unmigrated_database() -> None:
    result = invoke(random_prefix("web"), "--port", "0")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "not up to date" in result.output  # type: ignore[attr-defined]
    assert "check-migrations" in result.output  # type: ignore[attr-defined]


def test_bad_options_are_clean_errors(migrated_prefix: str) -> None:
    result = invoke(migrated_prefix, "--port", "70000")
    assert result.exit_code == 1 and "port must be" in result.output  # type: ignore[attr-defined]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = invoke(migrated_prefix, "--port", port)
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert f"Cannot serve on 127.0.0.1:{port}" in result.output  # type: ignore[attr-defined]


def test_explicit_flags_override_a_configured_api() -> None:
    api = make_api(host="127.0.0.1", port=8123, allow_origins=["https://a"])
    app = Chancy(DSN, plugins=[api], no_default_plugins=True)
    settings = {"host": "0.0.0.0", "port": 9000, "debug": True, "allow_origins": ("https://b",)}
    same, password = prepare_api(app, settings, explicit={"port", "allow_origins"})
    assert same is api and password is None
    assert (api.host, api.port, api.debug, api.allow_origins) == (
        "127.0.0.1",
        9000,
        False,
        ["https://b"],
    )
    bare = Chancy(DSN, no_default_plugins=True)
    made, password = prepare_api(bare, settings, explicit=set())
    assert bare.plugins["chancy.api"] is made and password
    assert (made.host, made.port, made.allow_origins) == ("0.0.0.0", 9000, ["https://b"])


def test_serves_with_a_generated_admin_password(migrated_prefix: str) -> None:
    env = {**os.environ, "CHANCY_TEST_DSN": DSN, "WEB_TEST_PREFIX": migrated_prefix}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.api.web_cli", "--app", APP, "web", "--port", "0"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines: list[str] = []
        assert proc.stderr is not None
        while not lines or "Serving the API" not in lines[-1]:
            line = proc.stderr.readline()
            assert line, f"web exited early: {''.join(lines)}"
            lines.append(line)
        output = "".join(lines)
        [password] = re.findall(r"admin / (\S+)", output)
        [base] = re.findall(r"at (http://\S+)", lines[-1])
        with httpx.Client(base_url=base, timeout=10) as client:
            assert client.get("health").json() == {"status": "healthy"}
            token = client.post(
                "api/v1/login", json={"username": "admin", "password": password}
            ).json()["token"]
            config = client.get(
                "api/v1/configuration", headers={"Authorization": f"Bearer {token}"}
            )
            assert config.json()["plugins"] == ["Api"]
            assert client.get("/").status_code == 200
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=30)
        assert proc.returncode == 0, rest
        assert (output + rest).count(password) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
