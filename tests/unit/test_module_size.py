"""Modules stay small (CONTRIBUTING: about 400 lines at most), so each has one subject."""

from __future__ import annotations

from pathlib import Path

import chancy

LIMIT = 400


def test_every_module_is_under_the_limit() -> None:
    root = Path(chancy.__file__).parent
    too_long = {
        str(path.relative_to(root)): n
        for path in root.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT
    }
    assert not too_long, f"split these modules (over {LIMIT} lines): {too_long}"
