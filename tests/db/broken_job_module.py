"""A module whose own import fails: it needs a dependency that is not installed.

Used to check that the error names that dependency, not "is not a dotted import path".
"""

from __future__ import annotations

import nosuch_dependency_for_chancy_tests  # noqa: F401


async def work() -> None:
    pass


app = None
