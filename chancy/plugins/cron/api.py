"""The Cron plugin's API route: every schedule with its next and last run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from chancy.plugins.api.http import json_response
from chancy.plugins.api.plugin import ApiPlugin, RouteT
from chancy.plugins.cron.plugin import Cron

if TYPE_CHECKING:
    from chancy.app import Chancy
    from chancy.worker import Worker

__all__ = ["CronApiPlugin"]


class CronApiPlugin(ApiPlugin):
    def name(self) -> str:
        return "cron"

    def routes(self) -> list[RouteT]:
        return [{"path": "/api/v1/crons", "endpoint": self.list_crons, "methods": ["GET"]}]

    @staticmethod
    async def list_crons(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        schedules = await Cron.get_schedules(chancy)
        return json_response(sorted(schedules.values(), key=lambda s: s["next_run"]))
