"""The :class:`Api` plugin: the HTTP API, the dashboard and the Prometheus endpoint.

``build_starlette_app(worker, chancy)`` returns a self-contained ASGI app, which
:meth:`Api.run` serves with uvicorn on every worker that has the plugin, and which you can
also mount inside your own Starlette or FastAPI app under any path.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import TYPE_CHECKING

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.authentication import AuthenticationError
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from chancy.errors import ConfigurationError
from chancy.plugin import Plugin
from chancy.plugins.api.auth import AuthBackend, TokenAuthBackend
from chancy.plugins.api.core import CoreApiPlugin
from chancy.plugins.api.http import ApiError, error_response
from chancy.plugins.api.jobs import JobsApiPlugin
from chancy.plugins.api.plugin import ApiPlugin, RouteT
from chancy.plugins.api.prometheus import PrometheusApiPlugin
from chancy.plugins.api.queues import QueuesApiPlugin
from chancy.plugins.api.spa import DashboardFiles
from chancy.plugins.api.tokens import TOKEN_MAX_AGE, Tokens
from chancy.utils import import_string

if TYPE_CHECKING:
    from chancy.app import Chancy
    from chancy.worker import Worker

__all__ = ["CORE_API_PLUGINS", "Api"]

CORE_API_PLUGINS: tuple[type[ApiPlugin], ...] = (
    CoreApiPlugin,
    QueuesApiPlugin,
    JobsApiPlugin,
    PrometheusApiPlugin,
)
NOT_AUTHENTICATED = (
    "Not authenticated: POST your username and password to api/v1/login, then send "
    "the token as 'Authorization: Bearer <token>'."
)


class Api(Plugin):
    """Serve the API and dashboard from every worker that has this plugin.

    ::

        from chancy.plugins.api import Api
        from chancy.plugins.api.auth import SimpleAuthBackend, hash_password

        api = Api(
            authentication_backend=SimpleAuthBackend({"admin": hash_password("s3cret")}),
            secret_key=os.environ["CHANCY_API_SECRET"],
        )

    ``secret_key`` signs the login tokens: give every worker the same one, or a token
    works only on the worker that issued it (and only until it restarts: without a key a
    random one is made). ``allow_origins`` enables CORS for those origins (no
    credentials: tokens travel in a header). ``metrics_auth=False`` lets Prometheus
    scrape ``/metrics`` without a token. Listening on ``port=0`` picks a free port,
    readable as :attr:`port` once :attr:`serving` is set.
    """

    migrations_branch = "api"

    def __init__(
        self,
        *,
        port: int = 8000,
        host: str = "127.0.0.1",
        debug: bool = False,
        allow_origins: list[str] | None = None,
        secret_key: str | None = None,
        authentication_backend: AuthBackend,
        metrics_auth: bool = True,
        token_max_age: int = TOKEN_MAX_AGE,
    ) -> None:
        super().__init__()
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ConfigurationError(f"Api: port must be an int from 0 to 65535, got {port!r}.")
        if not isinstance(authentication_backend, AuthBackend):
            raise ConfigurationError(
                "Api: authentication_backend must be an AuthBackend, e.g. "
                "SimpleAuthBackend({'admin': hash_password('...')}), got "
                f"{authentication_backend!r}."
            )
        if allow_origins is not None and (
            isinstance(allow_origins, str) or not all(isinstance(o, str) for o in allow_origins)
        ):
            raise ConfigurationError("Api: allow_origins must be a list of origin strings.")
        if secret_key is not None and (not isinstance(secret_key, str) or len(secret_key) < 16):
            raise ConfigurationError("Api: secret_key must be a string of 16 characters or more.")
        if (
            isinstance(token_max_age, bool)
            or not isinstance(token_max_age, int)
            or token_max_age < 1
        ):
            raise ConfigurationError("Api: token_max_age must be a positive number of seconds.")
        self.port = port
        self.host = host
        self.debug = debug
        self.allow_origins = list(allow_origins or [])
        self._generated_key = secret_key is None
        self.secret_key = secret_key or secrets.token_urlsafe(32)
        self.authentication_backend = authentication_backend
        self.metrics_auth = metrics_auth
        self.token_max_age = token_max_age
        #: Set once the socket listens (requests are accepted from then on).
        self.serving = asyncio.Event()

    @staticmethod
    def get_identifier() -> str:
        return "chancy.api"

    def get_tables(self) -> list[str]:
        return ["api_revoked_tokens"]

    def api_plugins(self, chancy: Chancy) -> list[ApiPlugin]:
        """The core route groups, then each enabled plugin's ``api_plugin()``."""
        found: list[ApiPlugin] = [cls(self) for cls in CORE_API_PLUGINS]
        for plugin in chancy.plugins.values():
            path = plugin.api_plugin()
            if path:
                found.append(import_string(path)(self))
        return found

    def build_starlette_app(self, worker: Worker, chancy: Chancy) -> Starlette:
        """The ASGI app (API, ``/metrics``, dashboard), without serving it."""
        if chancy.plugins.get(self.get_identifier()) is not self:
            chancy.log.warning(
                "Api: this Api is not among the app's plugins, so chancy.migrate() does not "
                "create its table; add it with Chancy(..., plugins=[api])."
            )
        tokens = Tokens(chancy, self.secret_key, max_age=self.token_max_age)
        backend = TokenAuthBackend(tokens)
        routes: list[BaseRoute] = []
        for api_plugin in self.api_plugins(chancy):
            for route in api_plugin.routes():
                routes.append(self._route(route, chancy, worker, backend))
        routes.extend(DashboardFiles().routes())
        middleware = []
        if self.allow_origins:
            middleware.append(
                Middleware(
                    CORSMiddleware,
                    allow_origins=self.allow_origins,
                    allow_methods=["*"],
                    allow_headers=["*"],
                    allow_credentials=False,
                )
            )
        app = Starlette(
            debug=self.debug,
            routes=routes,
            middleware=middleware,
            exception_handlers={HTTPException: _http_error},
        )
        app.state.api = self
        app.state.tokens = tokens
        app.state.chancy = chancy
        app.state.worker = worker
        return app

    def _route(
        self, route: RouteT, chancy: Chancy, worker: Worker, backend: TokenAuthBackend
    ) -> BaseRoute:
        endpoint, public = route["endpoint"], route.get("public", False)
        log = chancy.log

        if route.get("is_websocket"):

            async def websocket_endpoint(websocket: WebSocket) -> None:
                if not public:
                    try:
                        await _authenticate(websocket, backend)
                    except AuthenticationError:
                        await websocket.close(code=4401)
                        return
                    except ApiError as exc:
                        log.error("Api: websocket %s refused: %s", route["path"], exc.message)
                        await websocket.close(code=1011)
                        return
                await endpoint(websocket, chancy=chancy, worker=worker)

            return WebSocketRoute(route["path"], websocket_endpoint, name=route.get("name"))

        async def http_endpoint(request: Request) -> Response:
            try:
                if not public:
                    await _authenticate(request, backend)
                return await endpoint(request, chancy=chancy, worker=worker)
            except ApiError as exc:
                return exc.response()
            except AuthenticationError as exc:
                return error_response(401, str(exc) or NOT_AUTHENTICATED)
            except sa.exc.DataError as exc:
                # Postgres refused a value from the request (a NUL byte, a number out of
                # range): the client's input, not a server fault.
                reason = str(exc.orig or exc).strip().splitlines()[0]
                return error_response(422, f"The database refused a value: {reason}")
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
                log.warning(
                    "Api: %s %s: database unreachable (%s).", request.method, request.url.path, exc
                )
                return error_response(503, "The database is unreachable; try again shortly.")
            except Exception:
                log.exception("Api: %s %s failed.", request.method, request.url.path)
                return error_response(500, "Internal error; the worker's log has the details.")

        return Route(
            route["path"], http_endpoint, methods=route.get("methods"), name=route.get("name")
        )

    # -- serving --------------------------------------------------------------------------
    async def run(self, worker: Worker, chancy: Chancy) -> None:
        """Serve until cancelled (the worker stopping), then shut the server down."""
        from chancy.plugins.api.serving import listening_socket, serve

        app = self.build_starlette_app(worker, chancy)
        if self._generated_key:
            chancy.log.warning(
                "Api: no secret_key given, so a random one signs tokens: they work only on "
                "this worker, until it restarts. Pass the same secret_key to every worker."
            )
        with listening_socket(self.host, self.port) as sock:
            self.port = sock.getsockname()[1]
            chancy.log.info("Dashboard running at http://%s:%s", self.host, self.port)
            self.serving.set()
            try:
                await serve(app, sock, debug=self.debug)
            finally:
                self.serving.clear()

    async def cleanup(self, chancy: Chancy) -> int | None:
        """Called by the Pruner: forget revocations of tokens that have expired anyway."""
        return await Tokens(chancy, self.secret_key).forget_expired() or None

    def __repr__(self) -> str:
        return f"<Api(host={self.host!r}, port={self.port!r})>"


async def _authenticate(conn: Request | WebSocket, backend: TokenAuthBackend) -> None:
    found = await backend.authenticate(conn)
    if found is None:
        raise AuthenticationError(NOT_AUTHENTICATED)
    conn.scope["auth"], conn.scope["user"] = found


async def _http_error(request: Request, exc: Exception) -> Response:
    """Routing errors (a wrong method, say) as JSON like every other API error."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "Internal error"
    return error_response(status, f"{detail}: {request.method} {request.url.path}")
