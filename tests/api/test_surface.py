"""The Api plugin's public surface: upstream's constructor and names, plus our additions."""

from __future__ import annotations

import inspect

import chancy.plugins.api as api_module
from chancy.plugin import Plugin
from chancy.plugins.api import Api
from chancy.plugins.api.auth import AuthBackend, SimpleAuthBackend, TokenAuthBackend
from chancy.plugins.api.plugin import ApiPlugin, RouteT
from chancy.plugins.cron import Cron
from chancy.plugins.metrics import Metrics
from chancy.plugins.workflow import WorkflowPlugin
from chancy.utils import import_string

KW = inspect.Parameter.KEYWORD_ONLY
REQUIRED = inspect.Parameter.empty


def test_constructor_matches_upstream() -> None:
    params = list(inspect.signature(Api.__init__).parameters.values())[1:]
    got = [(p.name, p.kind, p.default) for p in params[:6]]
    assert got == [
        ("port", KW, 8000),
        ("host", KW, "127.0.0.1"),
        ("debug", KW, False),
        ("allow_origins", KW, None),
        ("secret_key", KW, None),
        ("authentication_backend", KW, REQUIRED),
    ]
    assert all(p.kind is KW and p.default is not REQUIRED for p in params[6:])
    assert Api.get_identifier() == "chancy.api"
    assert callable(Api.build_starlette_app)


def test_exports() -> None:
    assert api_module.__all__ == sorted(api_module.__all__)
    for name in ("Api", "ApiPlugin", "AuthBackend", "RouteT", "SimpleAuthBackend"):
        assert name in api_module.__all__
    assert issubclass(SimpleAuthBackend, AuthBackend)
    assert TokenAuthBackend.authenticate
    assert set(RouteT.__annotations__) >= {"path", "endpoint", "methods", "name", "is_websocket"}


def test_plugins_name_their_api_plugins() -> None:
    class Bare(Plugin):
        @staticmethod
        def get_identifier() -> str:
            return "test.bare"

    assert Bare().api_plugin() is None  # the base adds no routes
    for plugin in (Metrics(), WorkflowPlugin(), Cron()):
        path = plugin.api_plugin()
        assert path is not None and issubclass(import_string(path), ApiPlugin)
