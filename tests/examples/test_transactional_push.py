"""Run the transactional-push examples end to end on a fresh prefix."""

from __future__ import annotations

import importlib.util
import pathlib
import sys
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest
import sqlalchemy as sa

from chancy.testing import random_prefix

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def load_example() -> Iterator[Callable[[str], ModuleType]]:
    loaded: list[str] = []

    def load(name: str) -> ModuleType:
        module_name = f"chancy_example_{name}"
        spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        loaded.append(module_name)
        spec.loader.exec_module(module)
        return module

    yield load
    for name in loaded:
        sys.modules.pop(name, None)


def tables_with_prefix(dsn: str, prefix: str) -> list[str]:
    engine = sa.create_engine(sa.make_url(dsn).set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as conn:
            stmt = sa.text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE starts_with(table_name, :prefix)"
            )
            return list(conn.execute(stmt, {"prefix": prefix}).scalars())
    finally:
        engine.dispose()


EXPECTED_JOBS = [{"queue": "mail", "kwargs": {"email": "ada@example.com"}}]


async def test_transactional_push_example(
    dsn: str, load_example: Callable[[str], ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    example = load_example("transactional_push")
    assert example.__doc__ and "transaction" in example.__doc__
    prefix = random_prefix("ex")

    result = await example.main(dsn, prefix=prefix)

    assert result["users"] == ["ada@example.com"]  # bob's row was rolled back...
    assert result["jobs"] == EXPECTED_JOBS  # ...and so was bob's job
    out = capsys.readouterr().out
    assert f"job {result['committed_ref']} committed together" in out
    assert "signup bob@example.com failed (unknown plan 'platinum')" in out
    assert "rolled back" in out and "cleaned up" in out
    assert tables_with_prefix(dsn, prefix) == []


def test_sync_push_example(
    dsn: str, load_example: Callable[[str], ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    example = load_example("sync_push")
    prefix = random_prefix("ex")

    result = example.main(dsn, prefix=prefix)

    assert result["users"] == ["ada@example.com"]
    assert result["jobs"] == [{"email": "ada@example.com"}]
    out = capsys.readouterr().out
    assert f"job {result['committed_ref']} committed together" in out
    assert "bot@spam.invalid failed" in out and "rolled back" in out
    assert tables_with_prefix(dsn, prefix) == []
