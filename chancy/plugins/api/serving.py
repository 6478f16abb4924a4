"""uvicorn inside a worker: our own listening socket, and the worker keeps its signals."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn

__all__ = ["EmbeddedServer", "listening_socket", "serve"]


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves SIGINT and SIGTERM to the worker's own handlers."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def install_signal_handlers(self) -> None:  # uvicorn < 0.29
        return None


@contextlib.contextmanager
def listening_socket(host: str, port: int) -> Iterator[socket.socket]:
    """Bind and listen before serving: the port is known at once (``port=0`` picks a free
    one), connections queue until uvicorn accepts them, and a bind error is an ordinary
    exception rather than uvicorn's ``sys.exit``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.set_inheritable(True)
        yield sock
    finally:
        sock.close()


async def serve(app: Any, sock: socket.socket, *, debug: bool) -> None:
    """Serve ``app`` on ``sock`` until cancelled, then shut down gracefully (briefly)."""
    config = uvicorn.Config(
        app,
        log_level="debug" if debug else "error",
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    server = EmbeddedServer(config)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        server.should_exit = True
        with contextlib.suppress(Exception, asyncio.CancelledError):
            async with asyncio.timeout(5):
                await task
        raise
    except SystemExit as exc:
        # uvicorn exits the process on some startup failures; never the worker's.
        raise RuntimeError(f"The API server stopped: uvicorn exited ({exc}).") from None
