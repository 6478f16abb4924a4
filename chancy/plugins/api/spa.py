"""Serving the dashboard: static files, with ``index.html`` for every other page path.

The dashboard is a single-page app of plain static files (``dashboard/static``, shipped
in the wheel; no build step, no CDN). Paths that are not files get ``index.html`` so the
app's own routes survive a reload, except under ``api/``, where an unknown path is a JSON
404. ``index.html`` gets a ``<base href>`` of the mount point, so the app's relative
URLs resolve under any prefix (``/``, or ``/admin/jobs/`` when mounted there).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.staticfiles import StaticFiles

from chancy.plugins.api.http import error_response

__all__ = ["STATIC_DIR", "DashboardFiles"]

STATIC_DIR = Path(__file__).resolve().parent / "dashboard" / "static"
_HEAD = re.compile(r"<head[^>]*>", re.IGNORECASE)
_BASE = re.compile(r"<base\s", re.IGNORECASE)


def with_base(page: str, base: str) -> str:
    """``page`` with ``<base href=base>`` as the first thing in its head (unless it has one)."""
    if _BASE.search(page):
        return page
    tag = f'<base href="{html.escape(base, quote=True)}">'
    match = _HEAD.search(page)
    if match is None:
        return tag + page
    return page[: match.end()] + tag + page[match.end() :]


class DashboardFiles:
    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self.directory = directory
        self.files = StaticFiles(directory=directory, check_dir=False)

    def routes(self) -> list[BaseRoute]:
        return [Route("/{path:path}", self.serve, methods=["GET", "HEAD"])]

    def index(self, request: Request) -> Response:
        index = self.directory / "index.html"
        if not index.is_file():
            return error_response(404, "The dashboard's files are not installed.")
        base = request.scope.get("root_path", "").rstrip("/") + "/"
        return HTMLResponse(
            with_base(index.read_text(encoding="utf-8"), base),
            headers={"Cache-Control": "no-cache"},
        )

    async def serve(self, request: Request) -> Response:
        path = request.path_params["path"].lstrip("/")
        if path == "api" or path.startswith("api/"):
            return error_response(404, f"No API endpoint at {request.url.path}.")
        if path and path != "index.html":
            try:
                return await self.files.get_response(path, request.scope)
            except HTTPException as exc:
                if exc.status_code != 404:
                    raise
        return self.index(request)
