"""The core routes: health, login and logout, configuration, plugins, system, workers."""

from __future__ import annotations

import os
import platform
import socket
import sys
from importlib import metadata
from typing import TYPE_CHECKING, Any

from starlette.authentication import AuthenticationError
from starlette.requests import Request
from starlette.responses import Response

from chancy.plugins.api import statements as api_sql
from chancy.plugins.api.events import stream_events
from chancy.plugins.api.http import ApiError, json_response, read_json
from chancy.plugins.api.plugin import ApiPlugin, RouteT

if TYPE_CHECKING:
    from chancy.app import Chancy
    from chancy.worker import Worker

__all__ = ["CoreApiPlugin"]


def _version() -> str | None:
    try:
        return metadata.version("chancy")
    except metadata.PackageNotFoundError:
        return None


class CoreApiPlugin(ApiPlugin):
    def name(self) -> str:
        return "core"

    def routes(self) -> list[RouteT]:
        return [
            {"path": "/health", "endpoint": self.health, "methods": ["GET"], "public": True},
            {
                "path": "/api/v1/login",
                "endpoint": self.login,
                "methods": ["POST"],
                "name": "login",
                "public": True,
            },
            {"path": "/api/v1/logout", "endpoint": self.logout, "methods": ["POST"]},
            {"path": "/api/v1/configuration", "endpoint": self.configuration, "methods": ["GET"]},
            {"path": "/api/v1/plugins", "endpoint": self.plugins, "methods": ["GET"]},
            {"path": "/api/v1/system", "endpoint": self.system, "methods": ["GET"]},
            {"path": "/api/v1/workers", "endpoint": self.workers, "methods": ["GET"]},
            {"path": "/api/v1/ws", "endpoint": stream_events, "is_websocket": True},
        ]

    @staticmethod
    async def health(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        return json_response({"status": "healthy"})

    @staticmethod
    async def login(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        body = await read_json(request)
        username, password = body.get("username"), body.get("password")
        backend = request.app.state.api.authentication_backend
        if (
            not isinstance(username, str)
            or not isinstance(password, str)
            or not await backend.login(request, username, password)
        ):
            raise ApiError(401, "Invalid username or password")
        return json_response({"token": request.app.state.tokens.issue(username)})

    @staticmethod
    async def logout(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        claims = request.scope.get("chancy.token")
        if claims is None:
            raise AuthenticationError("Logging out needs the token to revoke.")
        await request.app.state.tokens.revoke(claims)
        await request.app.state.api.authentication_backend.logout(request)
        return json_response({"success": "Logged out"})

    @staticmethod
    async def configuration(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        """Which plugins are on, so the dashboard shows their pages."""
        return json_response(
            {
                "plugins": [type(p).__name__ for p in chancy.plugins.values()],
                "identifiers": sorted(chancy.plugins),
                "prefix": chancy.prefix,
            }
        )

    @staticmethod
    async def plugins(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        found: list[dict[str, Any]] = []
        for ident, plugin in chancy.plugins.items():
            found.append(
                {
                    "identifier": ident,
                    "name": type(plugin).__name__,
                    "module": type(plugin).__module__,
                    "dependencies": list(plugin.get_dependencies()),
                    "tables": [chancy.prefix + t for t in plugin.get_tables()],
                    "migrations_branch": getattr(plugin, "migrations_branch", None),
                    "api_plugin": plugin.api_plugin(),
                }
            )
        return json_response(found)

    @staticmethod
    async def system(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        async with chancy.engine.connect() as conn:
            server = (await conn.execute(api_sql.build_server_version())).scalar_one()
        return json_response(
            {
                "chancy_version": _version(),
                "python_version": platform.python_version(),
                "python_implementation": platform.python_implementation(),
                "platform": platform.platform(),
                "hostname": socket.gethostname(),
                "pid": os.getpid(),
                "executable": sys.executable,
                "postgres_version": server,
                "prefix": chancy.prefix,
                "notifications": chancy.notifications,
                "worker": {
                    "worker_id": worker.worker_id,
                    "is_leader": worker.is_leader.is_set(),
                    "tags": sorted(worker.tags),
                    "queues": sorted(q.name for q in worker),
                },
            }
        )

    @staticmethod
    async def workers(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        return json_response(await chancy.get_all_workers())
