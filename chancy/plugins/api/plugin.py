"""The contract between the Api and whatever adds routes to it (upstream's ApiPlugin).

A plugin adds routes by returning the import path of an :class:`ApiPlugin` subclass from
its ``api_plugin()``. Every endpoint is called as ``endpoint(request, chancy=...,
worker=...)`` and must return a Starlette response. Routes require a logged-in user
unless they set ``public``.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from typing import Any, NotRequired, Protocol, TypedDict

__all__ = ["ApiPlugin", "RouteT", "ServingApi"]


class ServingApi(Protocol):
    """What an :class:`ApiPlugin` reads from the :class:`~chancy.plugins.api.Api` serving
    it. A Protocol, so this contract does not import the server that imports it."""

    #: Whether ``/metrics`` requires a token.
    metrics_auth: bool


class RouteT(TypedDict):
    """One route: ``path`` (Starlette syntax), ``endpoint``, ``methods`` and ``name``."""

    path: str
    endpoint: Callable[..., Awaitable[Any]]
    methods: NotRequired[list[str]]
    name: NotRequired[str]
    #: A websocket route: the endpoint gets the WebSocket instead of a Request.
    is_websocket: NotRequired[bool]
    #: Served without a token (the health check and the login itself).
    public: NotRequired[bool]


class ApiPlugin(abc.ABC):
    """A group of routes, built with the :class:`~chancy.plugins.api.Api` serving them."""

    def __init__(self, api: ServingApi) -> None:
        self.api = api

    @abc.abstractmethod
    def name(self) -> str:
        """A short name for logs and the plugins listing."""

    @abc.abstractmethod
    def routes(self) -> list[RouteT]:
        """The routes to add."""
