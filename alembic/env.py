"""Developer CLI environment: ``alembic -x prefix=dev_ [-x url=...] upgrade heads``.

The same :func:`chancy.migrations.runtime.run_env` as the shipped environment, so what
you try here is exactly what ``Chancy.migrate()`` runs. ``--sql`` prints the DDL instead.
"""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context

from chancy.migrations.runtime import make_connection, run_env
from chancy.plugins.tables import full_metadata

DEFAULT_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"

if context.config.config_file_name:
    fileConfig(context.config.config_file_name)
x = context.get_x_argument(as_dictionary=True)
prefix = x.get("prefix", "chancy_")
url = x.get("url") or os.environ.get("CHANCY_DEV_URL", DEFAULT_URL)
metadata = full_metadata(prefix)

if context.is_offline_mode():
    run_env(context, prefix=prefix, url=url, target_metadata=metadata)
else:
    with make_connection(url) as connection:
        run_env(context, prefix=prefix, connection=connection, target_metadata=metadata)
