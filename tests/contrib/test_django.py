"""Runs the Django suite (tests/django_suite) against the example project, in a subprocess.

pytest-django configures Django once per process from ``--ds``, so the Django tests get a
process of their own; this test fails with their output when any of them fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from chancy.testing import random_prefix
from tests.conftest import DSN

pytest.importorskip("django.tasks", reason="Django 6 (Python 3.12+) is not installed")
pytest.importorskip("pytest_django")

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(420)
def test_django_suite() -> None:
    env = {
        **os.environ,
        "CHANCY_DSN": DSN,
        "CHANCY_PREFIX": random_prefix(),
        "DJANGO_SETTINGS_MODULE": "django_project.settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "examples" / "django_project"), str(ROOT)]),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "pytest_django"]
        + ["-o", "addopts=", "tests/django_suite"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    passed = re.search(r"(\d+) passed", proc.stdout)
    assert passed and int(passed.group(1)) >= 10, proc.stdout[-2000:]
