"""Queue routes: list, create, read, partially update, delete, pause and resume."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from chancy.errors import ConfigurationError
from chancy.plugins.api.http import (
    ApiError,
    json_response,
    parse_bool,
    parse_datetime,
    read_json,
)
from chancy.plugins.api.plugin import ApiPlugin, RouteT
from chancy.queue import Queue

if TYPE_CHECKING:
    from chancy.app import Chancy
    from chancy.worker import Worker

__all__ = ["QUEUE_FIELDS", "QueuesApiPlugin", "queue_from_json"]

QUEUE_FIELDS = frozenset(f.name for f in dataclasses.fields(Queue))
#: Short executor names accepted besides import paths (``Chancy.Executor`` members).
EXECUTORS = {
    "Process": "chancy.executors.process.ProcessExecutor",
    "Threaded": "chancy.executors.thread.ThreadedExecutor",
    "Async": "chancy.executors.asyncex.AsyncExecutor",
    "SubInterpreter": "chancy.executors.sub.SubInterpreterExecutor",
}


def queue_from_json(data: dict[str, Any], base: Queue | None = None) -> Queue:
    """A Queue from JSON fields, over ``base``'s settings when given; 422 on bad fields."""
    unknown = set(data) - QUEUE_FIELDS
    if unknown:
        raise ApiError(
            422,
            f"Unknown queue field(s) {sorted(unknown)}; known fields: {sorted(QUEUE_FIELDS)}.",
        )
    fields: dict[str, Any] = dataclasses.asdict(base) if base is not None else {}
    fields.update(data)
    if "name" not in fields:
        raise ApiError(422, "A queue needs a name.")
    tags = fields.get("tags")
    if tags is not None:
        if not isinstance(tags, list | set) or not all(isinstance(t, str) for t in tags):
            raise ApiError(422, 'tags must be a list of patterns, e.g. [".*"].')
        fields["tags"] = set(tags)
    if fields.get("resume_at") is not None and isinstance(fields["resume_at"], str):
        fields["resume_at"] = parse_datetime(fields["resume_at"], "resume_at")
    if isinstance(fields.get("executor"), str):
        fields["executor"] = EXECUTORS.get(fields["executor"], fields["executor"])
    if fields.get("executor_options") is not None and not isinstance(
        fields["executor_options"], dict
    ):
        raise ApiError(422, "executor_options must be a JSON object.")
    name = fields.pop("name")
    try:
        queue = Queue(name, **fields)
        bad = queue.invalid_tags()
    except (ConfigurationError, TypeError, ValueError) as exc:
        raise ApiError(422, str(exc)) from None
    if bad:
        raise ApiError(422, f"Queue {name!r}: tags {bad!r} are not valid regular expressions.")
    return queue


async def _existing(chancy: Chancy, name: str) -> Queue:
    try:
        return await chancy.get_queue(name)
    except KeyError:
        raise ApiError(404, f"Queue {name!r} not found.") from None


class QueuesApiPlugin(ApiPlugin):
    def name(self) -> str:
        return "queues"

    def routes(self) -> list[RouteT]:
        one = "/api/v1/queues/{name}"
        return [
            {"path": "/api/v1/queues", "endpoint": self.list_queues, "methods": ["GET"]},
            {"path": "/api/v1/queues", "endpoint": self.create_queue, "methods": ["POST"]},
            {"path": one, "endpoint": self.get_queue, "methods": ["GET"]},
            {"path": one, "endpoint": self.update_queue, "methods": ["PATCH"]},
            {"path": one, "endpoint": self.delete_queue, "methods": ["DELETE"]},
            {"path": one + "/pause", "endpoint": self.pause_queue, "methods": ["POST"]},
            {"path": one + "/resume", "endpoint": self.resume_queue, "methods": ["POST"]},
        ]

    @staticmethod
    async def list_queues(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        return json_response([q.pack() for q in await chancy.get_all_queues()])

    @staticmethod
    async def create_queue(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        queue = queue_from_json(await read_json(request))
        try:
            await chancy.get_queue(queue.name)
        except KeyError:
            stored = await chancy.declare(queue)
            return json_response(stored.pack(), status=201)
        raise ApiError(409, f"Queue {queue.name!r} already exists; PATCH it to change it.")

    @staticmethod
    async def get_queue(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        return json_response((await _existing(chancy, request.path_params["name"])).pack())

    @staticmethod
    async def update_queue(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        """Change only the fields given; the rest keep their stored values."""
        name = request.path_params["name"]
        changes = await read_json(request)
        if changes.get("name", name) != name:
            raise ApiError(422, "A queue cannot be renamed; create a new queue instead.")
        queue = queue_from_json(changes, base=await _existing(chancy, name))
        return json_response((await chancy.declare(queue, upsert=True)).pack())

    @staticmethod
    async def delete_queue(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        """Delete the queue; its jobs too only with ``?purge_jobs=true``."""
        name = request.path_params["name"]
        purge = parse_bool(request, "purge_jobs", False)
        await _existing(chancy, name)
        await chancy.delete_queue(name, purge_jobs=purge)
        return json_response({"success": f"Queue {name!r} deleted.", "purged_jobs": purge})

    @staticmethod
    async def pause_queue(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        """Pause, optionally until ``{"resume_at": "<ISO 8601 with time zone>"}``."""
        name = request.path_params["name"]
        body = await read_json(request)
        unknown = set(body) - {"resume_at"}
        if unknown:
            raise ApiError(422, f"Unknown field(s) {sorted(unknown)}; only resume_at is accepted.")
        raw = body.get("resume_at")
        resume_at = None if raw is None else parse_datetime(raw, "resume_at")
        await _existing(chancy, name)
        await chancy.pause_queue(name, resume_at=resume_at)
        return json_response((await _existing(chancy, name)).pack())

    @staticmethod
    async def resume_queue(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        name = request.path_params["name"]
        await _existing(chancy, name)
        await chancy.resume_queue(name)
        return json_response((await _existing(chancy, name)).pack())
