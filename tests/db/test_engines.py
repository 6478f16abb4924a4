"""The app releases its connections when it is left, whichever API opened them."""

from __future__ import annotations

import gc

import sqlalchemy as sa

from chancy import Chancy, Job


async def test_async_exit_also_closes_the_sync_engine(dsn: str, chancy: Chancy) -> None:
    app = Chancy(dsn, prefix=chancy.prefix, no_default_plugins=True)
    disposed: list[object] = []
    async with app:
        ref = app.sync_push(Job(func="m.f"))
        sa.event.listen(app.sync_engine, "engine_disposed", disposed.append)
    assert len(disposed) == 1
    assert app.sync_engine.pool.checkedin() == 0
    del app
    gc.collect()  # an unclosed psycopg connection would warn here (warnings are errors)
    assert await chancy.get_job(ref) is not None


async def test_sync_exit_closes_only_the_sync_engine(dsn: str, chancy: Chancy) -> None:
    app = Chancy(dsn, prefix=chancy.prefix, no_default_plugins=True)
    with app:
        app.sync_push(Job(func="m.f"))
        assert app.sync_engine.pool.checkedin() == 1
    assert app.sync_engine.pool.checkedin() == 0
    # Still usable afterwards: the pool reconnects.
    with app:
        assert len(next(app.sync_push_many([Job(func="m.f")]))) == 1
    assert app.sync_engine.pool.checkedin() == 0


async def test_django_settings_dict_connects(dsn: str, chancy: Chancy) -> None:
    url = sa.make_url(dsn)
    settings = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": url.database,
        "USER": url.username,
        "PASSWORD": url.password or "",
        "HOST": url.host or url.query.get("host"),  # a socket directory for the embedded server
        "PORT": url.port or "",
    }
    async with Chancy(settings, prefix=chancy.prefix, no_default_plugins=True) as app:
        assert await app.is_up_to_date()
        ref = await app.push(Job(func="m.f"))
    assert await chancy.get_job(ref) is not None
