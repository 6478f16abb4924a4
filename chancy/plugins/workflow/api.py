"""The WorkflowPlugin's API routes: the workflow list and one workflow with its steps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from chancy.plugins.api.http import ApiError, json_response, parse_int, parse_uuid
from chancy.plugins.api.plugin import ApiPlugin, RouteT
from chancy.plugins.workflow.model import Workflow
from chancy.plugins.workflow.plugin import WorkflowPlugin

if TYPE_CHECKING:
    from chancy.app import Chancy
    from chancy.worker import Worker

__all__ = ["WorkflowApiPlugin"]

STATES = [s.value for s in Workflow.State]


class WorkflowApiPlugin(ApiPlugin):
    def name(self) -> str:
        return "workflow"

    def routes(self) -> list[RouteT]:
        return [
            {"path": "/api/v1/workflows", "endpoint": self.list_workflows, "methods": ["GET"]},
            {"path": "/api/v1/workflows/{id}", "endpoint": self.get_workflow, "methods": ["GET"]},
        ]

    @staticmethod
    async def list_workflows(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        """Newest first; ``?state=running,failed`` and ``?limit=`` (1 to 500, default 100)."""
        limit = parse_int(request, "limit", 100, minimum=1, maximum=500)
        raw = request.query_params.get("state")
        states = [s.strip() for s in raw.split(",") if s.strip()] if raw else None
        bad = [s for s in states or [] if s not in STATES]
        if bad:
            raise ApiError(422, f"Unknown workflow state(s) {bad}; use {STATES}.")
        found = await WorkflowPlugin.get_workflows(chancy, states=states, limit=limit)
        return json_response(found)

    @staticmethod
    async def get_workflow(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        ident = parse_uuid(request.path_params["id"], "The workflow id")
        workflow = await WorkflowPlugin.get_workflow(chancy, ident)
        if workflow is None:
            raise ApiError(404, "Workflow not found")
        return json_response(workflow)
