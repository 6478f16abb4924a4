"""The names and payload keys of the events sent between processes through NOTIFY.

The app and plugins send them inside a transaction (delivered on commit); every worker's
listener re-emits them on its :class:`~chancy.hub.Hub`. Payloads are small JSON objects
with one-letter keys, because ``pg_notify`` payloads are limited to 8000 bytes and a
batch push sends one notification per queue. Build payloads with the functions here so
the sender and the worker's handler cannot drift apart.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CLAIM",
    "JOB",
    "JOB_CANCELLED",
    "JOB_RECOVERED",
    "QUEUE",
    "QUEUE_CHANGES",
    "QUEUE_DECLARED",
    "QUEUE_DELETED",
    "QUEUE_PAUSED",
    "QUEUE_PUSHED",
    "QUEUE_RESUMED",
    "WORKER_ANNOUNCED",
    "WORKER_ID",
    "job_payload",
    "queue_payload",
    "recovered_payload",
]

#: Jobs were pushed to a queue: its producers claim now instead of at their next poll.
QUEUE_PUSHED = "queue.pushed"
QUEUE_DECLARED = "queue.declared"
QUEUE_DELETED = "queue.deleted"
QUEUE_PAUSED = "queue.paused"
QUEUE_RESUMED = "queue.resumed"
#: A queue's settings or state changed: workers re-read their assignment at once.
QUEUE_CHANGES = (QUEUE_DECLARED, QUEUE_PAUSED, QUEUE_RESUMED, QUEUE_DELETED)
#: A job was cancelled: the worker running it stops it.
JOB_CANCELLED = "job.cancelled"
#: Recovery gave a job to another claim: the worker running the old claim stops it.
JOB_RECOVERED = "job.recovered"
WORKER_ANNOUNCED = "worker.announced"

#: Payload keys.
QUEUE = "q"
JOB = "j"
CLAIM = "c"
WORKER_ID = "worker_id"


def queue_payload(name: str) -> dict[str, Any]:
    return {QUEUE: name}


def job_payload(job_id: str) -> dict[str, Any]:
    return {JOB: job_id}


def recovered_payload(job_id: str, old_claim: str) -> dict[str, Any]:
    return {JOB: job_id, CLAIM: old_claim}
