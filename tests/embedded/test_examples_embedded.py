"""The README's first command and its five-minute snippet, on a machine without a server.

Each runs in a fresh process with no CHANCY_DSN, so ``Chancy()`` starts an embedded
server in a temporary per-user data directory, and stops it when the process exits.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from tests.embedded.helpers import ROOT, embedded_env, pgdata, run_script


def readme_snippet() -> str:
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"## In five minutes\n\n```python\n(.*?)```\n", readme, re.S)
    assert found, "README has no 'In five minutes' python block"
    return found.group(1)


def test_readme_snippet_is_the_example_file() -> None:
    assert readme_snippet() == (ROOT / "examples" / "five_minutes.py").read_text()


async def test_readme_snippet_runs_on_the_embedded_server(home: Path) -> None:
    script = home / "app.py"
    script.write_text(readme_snippet())
    code, out = await run_script(str(script), env=embedded_env(home))
    assert code == 0, out
    assert "Welcome mail to ada@example.com" in out
    assert re.search(r"Job \S+: succeeded", out), out
    # The only user exited, so the server stopped.
    assert pgdata(home).joinpath("PG_VERSION").exists()
    assert not pgdata(home).joinpath("postmaster.pid").exists()


async def test_quickstart_runs_on_the_embedded_server(home: Path) -> None:
    code, out = await run_script("examples/quickstart.py", env=embedded_env(home))
    assert code == 0, out
    assert "6 of 6 jobs succeeded." in out, out
    assert "host=" in out and str(pgdata(home)) in unquote(out), out
    assert not pgdata(home).joinpath("postmaster.pid").exists()


async def test_embedded_example_needs_no_server(home: Path) -> None:
    code, out = await run_script("examples/embedded.py", str(home / "db"), env=embedded_env(home))
    assert code == 0, out
    assert "Hello from an embedded PostgreSQL 18" in out, out
    assert not (home / "db" / "pgdata" / "postmaster.pid").exists()
