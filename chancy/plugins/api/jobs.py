"""Job routes: the browser, functions, detail, delete, retry, cancel and batch actions."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from chancy.db.models import ACTIVE_STATES, FINISHED_STATES
from chancy.db.statements import jobs as jobs_sql
from chancy.job import Reference
from chancy.plugins.api import statements as api_sql
from chancy.plugins.api.filters import JobQuery
from chancy.plugins.api.http import ApiError, json_response, parse_bool, parse_uuid, read_json
from chancy.plugins.api.plugin import ApiPlugin, RouteT

if TYPE_CHECKING:
    import uuid

    from chancy.app import Chancy
    from chancy.worker import Worker

__all__ = ["BATCH_ACTIONS", "MAX_BATCH", "JobsApiPlugin"]

MAX_BATCH = 1000
#: Seconds the function list is cached (it groups the whole jobs table).
FUNCTIONS_TTL = 60
MAX_FUNCTIONS = 1000
#: Which states each batch action applies to.
BATCH_ACTIONS: dict[str, frozenset[str]] = {
    "retry": frozenset(FINISHED_STATES),
    "cancel": frozenset(ACTIVE_STATES),
    "purge": frozenset({"pending", "retrying", "succeeded", "failed"}),
}


def _row(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


async def _job_row(chancy: Chancy, ident: uuid.UUID) -> dict[str, Any] | None:
    async with chancy.engine.connect() as conn:
        row = (await conn.execute(jobs_sql.build_get_job(chancy.models, ident))).first()
    return _row(row) if row is not None else None


async def _conflict_or_missing(chancy: Chancy, ident: uuid.UUID, action: str) -> ApiError:
    """Why an action changed nothing: the job is gone (404) or in the wrong state (409)."""
    row = await _job_row(chancy, ident)
    if row is None:
        return ApiError(404, "Job not found")
    return ApiError(409, f"Cannot {action} job {ident}: it is {row['state']}.")


class JobsApiPlugin(ApiPlugin):
    def __init__(self, api: Any) -> None:
        super().__init__(api)
        self._functions: dict[str, tuple[float, list[str]]] = {}

    def name(self) -> str:
        return "jobs"

    def routes(self) -> list[RouteT]:
        one = "/api/v1/jobs/{id}"
        return [
            {"path": "/api/v1/jobs", "endpoint": self.list_jobs, "methods": ["GET"]},
            {"path": "/api/v1/jobs", "endpoint": self.batch, "methods": ["POST"]},
            {"path": "/api/v1/jobs/functions", "endpoint": self.functions, "methods": ["GET"]},
            {"path": one, "endpoint": self.get_job, "methods": ["GET"]},
            {"path": one, "endpoint": self.delete_job, "methods": ["DELETE"]},
            {"path": one + "/retry", "endpoint": self.retry_job, "methods": ["POST"]},
            {"path": one + "/cancel", "endpoint": self.cancel_job, "methods": ["POST"]},
        ]

    @staticmethod
    async def list_jobs(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        """Newest first. ``pagination=true`` wraps the list with the next page's cursor."""
        query = JobQuery.from_request(request, pagination=parse_bool(request, "pagination"))
        stmt = api_sql.build_job_page(
            chancy.models,
            states=query.states,
            queue=query.queue,
            rules=query.rules,
            before=query.before,
            limit=query.limit + 1,
        )
        async with chancy.engine.connect() as conn:
            rows = [_row(r) for r in (await conn.execute(stmt)).all()]
        jobs, more = rows[: query.limit], len(rows) > query.limit
        if not query.pagination:
            return json_response(jobs)
        return json_response(
            {
                "jobs": jobs,
                "limit": query.limit,
                "has_more": more,
                "next_before": jobs[-1]["id"] if more else None,
            }
        )

    async def functions(self, request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        """Distinct job functions (cached for a minute), for the search box."""
        cached = self._functions.get(chancy.prefix)
        if cached is None or time.monotonic() - cached[0] > FUNCTIONS_TTL:
            stmt = api_sql.build_job_functions(chancy.models, MAX_FUNCTIONS)
            async with chancy.engine.connect() as conn:
                found = list((await conn.execute(stmt)).scalars())
            cached = self._functions[chancy.prefix] = (time.monotonic(), found)
        return json_response(cached[1])

    @staticmethod
    async def get_job(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        row = await _job_row(chancy, parse_uuid(request.path_params["id"], "The job id"))
        if row is None:
            raise ApiError(404, "Job not found")
        return json_response(row)

    @staticmethod
    async def delete_job(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        """Delete a job that is not running (cancel a running one first)."""
        ident = parse_uuid(request.path_params["id"], "The job id")
        if not await chancy.purge_jobs([Reference(ident)]):
            raise await _conflict_or_missing(chancy, ident, "delete")
        return json_response({"success": "Job deleted", "id": ident})

    @staticmethod
    async def retry_job(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        """Run a finished job again with a fresh attempt budget."""
        ident = parse_uuid(request.path_params["id"], "The job id")
        if not await chancy.retry_jobs([Reference(ident)]):
            raise await _conflict_or_missing(chancy, ident, "retry")
        return json_response({"success": "Job retried", "job": await _job_row(chancy, ident)})

    @staticmethod
    async def cancel_job(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        """Cancel a pending, retrying or running job."""
        ident = parse_uuid(request.path_params["id"], "The job id")
        if not await chancy.cancel_job(Reference(ident)):
            raise await _conflict_or_missing(chancy, ident, "cancel")
        return json_response({"success": "Job cancelled", "job": await _job_row(chancy, ident)})

    @staticmethod
    async def batch(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        """``{"action": "retry" | "cancel" | "purge", "ids": [...]}`` in one transaction.

        The jobs are locked first, so each one's state cannot change between the check
        and the action; each id is reported ``completed``, ``skipped`` (wrong state) or
        ``failed`` (not found).
        """
        body = await read_json(request)
        action, ids = body.get("action"), body.get("ids")
        if action not in BATCH_ACTIONS:
            raise ApiError(422, f"action must be one of {sorted(BATCH_ACTIONS)}, got {action!r}.")
        if not isinstance(ids, list) or not ids:
            raise ApiError(422, "ids must be a non-empty list of job ids.")
        if len(ids) > MAX_BATCH:
            raise ApiError(422, f"At most {MAX_BATCH} jobs per batch, got {len(ids)}.")
        idents = list(dict.fromkeys(parse_uuid(i, "Each job id") for i in ids))
        results: list[dict[str, Any]] = []
        async with chancy.engine.begin() as conn:
            locked = (await conn.execute(api_sql.build_lock_jobs(chancy.models, idents))).all()
            states = {row.id: row.state for row in locked}
            eligible = []
            for ident in idents:
                state = states.get(ident)
                if state is None:
                    results.append({"id": ident, "status": "failed", "detail": "Job not found"})
                elif state not in BATCH_ACTIONS[action]:
                    detail = f"Cannot {action} a {state} job."
                    results.append({"id": ident, "status": "skipped", "detail": detail})
                else:
                    eligible.append(ident)
                    results.append({"id": ident, "status": "completed", "detail": None})
            refs = [Reference(i) for i in eligible]
            if action == "retry":
                await chancy.retry_jobs_ex(conn, refs)
            elif action == "purge":
                await chancy.purge_jobs_ex(conn, refs)
            else:
                for ref in refs:
                    await chancy.cancel_job_ex(conn, ref)
        counts = {
            s: sum(r["status"] == s for r in results) for s in ("completed", "skipped", "failed")
        }
        return json_response({"action": action, "results": results, **counts})
