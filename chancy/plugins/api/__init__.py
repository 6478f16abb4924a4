"""The HTTP API, dashboard and Prometheus endpoint (``pip install chancy[web]``).

::

    from chancy.plugins.api import Api
    from chancy.plugins.api.auth import SimpleAuthBackend, hash_password

    chancy = Chancy(dsn, plugins=[
        Api(authentication_backend=SimpleAuthBackend({"admin": hash_password("s3cret")}),
            secret_key=os.environ["CHANCY_API_SECRET"]),
    ])

Every worker with the plugin serves it (``http://127.0.0.1:8000`` by default);
``chancy --app X worker web`` serves it without running jobs; and
``Api.build_starlette_app(worker, chancy)`` gives the ASGI app to mount in your own.
See docs/api.md for the endpoints.
"""

from __future__ import annotations

from chancy.plugins.api.auth import (
    AuthBackend,
    SimpleAuthBackend,
    TokenAuthBackend,
    hash_password,
    verify_password,
)
from chancy.plugins.api.plugin import ApiPlugin, RouteT
from chancy.plugins.api.server import Api

__all__ = [
    "Api",
    "ApiPlugin",
    "AuthBackend",
    "RouteT",
    "SimpleAuthBackend",
    "TokenAuthBackend",
    "hash_password",
    "verify_password",
]
