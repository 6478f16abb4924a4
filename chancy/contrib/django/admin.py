"""Admin pages for chancy's jobs, queues and workers (as upstream), with retry and cancel.

Retry and cancel go through chancy's own API rather than editing rows, so workers are
notified and a running job's claim is fenced exactly as ``Chancy.retry_jobs`` and
``Chancy.cancel_job`` do it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages

from chancy.contrib.django.app import run_with_chancy
from chancy.contrib.django.models import Job, Queue, Worker
from chancy.job import Reference


@admin.action(description="Retry selected jobs")
def retry_jobs(modeladmin: admin.ModelAdmin, request: Any, queryset: Any) -> None:
    refs = [Reference(pk) for pk in queryset.values_list("pk", flat=True)]
    queues = run_with_chancy(lambda app: app.retry_jobs(refs))
    modeladmin.message_user(
        request,
        f"Queued {len(refs)} job(s) for retry ({', '.join(sorted(queues)) or 'none eligible'}).",
        messages.SUCCESS,
    )


@admin.action(description="Cancel selected jobs")
def cancel_jobs(modeladmin: admin.ModelAdmin, request: Any, queryset: Any) -> None:
    refs = [Reference(pk) for pk in queryset.values_list("pk", flat=True)]

    async def cancel(app: Any) -> int:
        return sum([await app.cancel_job(ref) for ref in refs])

    cancelled = run_with_chancy(cancel)
    modeladmin.message_user(request, f"Cancelled {cancelled} job(s).", messages.SUCCESS)


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "queue", "func", "state", "attempts", "max_attempts", "created_at")
    list_filter = ("state", "queue")
    search_fields = ("id", "queue", "func")
    actions = (retry_jobs, cancel_jobs)
    readonly_fields = ("id", "claim_id", "taken_by", "errors", "result")


@admin.register(Worker)
class WorkerAdmin(admin.ModelAdmin):
    list_display = ("worker_id", "queues", "tags", "last_seen", "expires_at")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ("name", "state", "executor", "concurrency")
    search_fields = ("name",)
    list_filter = ("state",)
