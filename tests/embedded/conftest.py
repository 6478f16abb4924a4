"""A scratch home for each test's embedded server.

Not pytest's ``tmp_path``: when running as root, the wheel runs Postgres as a dedicated
system user that must traverse the data directory's parents, and every new pytest session
resets ``/tmp/pytest-of-root`` to mode 0700, which would lock that user out mid-test when
sessions run side by side.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def home() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="chancy-embedded-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
