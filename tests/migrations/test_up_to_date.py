"""is_up_to_date() and the errors a bad migration target raises."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from chancy import Chancy
from chancy.errors import MigrationError
from chancy.migrations import Migrator
from tests.migrations.helpers import leftovers


async def test_is_up_to_date_before_and_after_migrate(
    new_prefix: Callable[..., str], make_app: Callable[[str], Chancy]
) -> None:
    app = make_app(new_prefix())
    assert await app.is_up_to_date() is False
    assert await app.current_revisions() == ()
    await app.migrate()
    assert await app.is_up_to_date() is True


async def test_an_older_core_is_not_up_to_date(
    new_prefix: Callable[..., str], make_app: Callable[[str], Chancy]
) -> None:
    app = make_app(new_prefix())
    await app.migrate(to_version=len(app.migrator.core_revisions()) - 1)
    assert await app.is_up_to_date() is False
    await app.migrate()
    assert await app.is_up_to_date() is True


def test_is_up_to_date_checks_the_plugin_branches_asked_for(
    engine: sa.Engine, new_prefix: Callable[..., str]
) -> None:
    migrator = Migrator(new_prefix())
    plugins = [b for b in migrator.branches() if b != "core"]
    assert plugins, "the bundled plugins' branches are missing from the migrator"
    with engine.begin() as conn:
        migrator.upgrade(conn, "core@head")
    with engine.connect() as conn:
        assert migrator.is_up_to_date(conn)
        assert not migrator.is_up_to_date(conn, plugins[:1])
    with engine.begin() as conn:
        migrator.upgrade(conn, f"{plugins[0]}@head")
    with engine.connect() as conn:
        # Only the plugin row is recorded now (it depends on the core head), yet core
        # counts as migrated: the check follows ancestors, not the raw heads.
        assert migrator.is_up_to_date(conn, plugins[:1])
        assert migrator.is_up_to_date(conn)


@pytest.mark.parametrize("version", [-1, 999])
async def test_a_version_that_does_not_exist_is_a_helpful_error(
    engine: sa.Engine,
    new_prefix: Callable[..., str],
    make_app: Callable[[str], Chancy],
    version: int,
) -> None:
    prefix = new_prefix()
    app = make_app(prefix)
    newest = len(app.migrator.core_revisions())
    with pytest.raises(MigrationError) as caught:
        await app.migrate(to_version=version)
    message = str(caught.value)
    assert f"Core version {version} does not exist" in message
    assert f"valid versions are 0 to {newest}" in message
    assert prefix in message
    with engine.connect() as conn:
        assert leftovers(conn, prefix) == set()  # nothing was created on the way


async def test_an_unknown_target_is_a_migration_error(
    engine: sa.Engine, new_prefix: Callable[..., str], make_app: Callable[[str], Chancy]
) -> None:
    prefix = new_prefix()
    app = make_app(prefix)
    with pytest.raises(MigrationError, match="Cannot upgrade .*'nosuchplugin@head'.*core"):
        await app.migrate_plugin("nosuchplugin")
    with engine.connect() as conn:
        assert leftovers(conn, prefix) == set()


async def test_a_revision_unknown_to_this_chancy_is_explained(
    engine: sa.Engine, new_prefix: Callable[..., str], make_app: Callable[[str], Chancy]
) -> None:
    """A database migrated by a newer chancy (or a missing plugin) names the cause."""
    prefix = new_prefix()
    app = make_app(prefix)
    await app.migrate()
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {prefix}alembic_version SET version_num = 'core_9999'"))
    for call in (app.is_up_to_date, app.migrate):
        with pytest.raises(MigrationError, match="'core_9999'.*newer chancy"):
            await call()
