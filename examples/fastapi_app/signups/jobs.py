"""The jobs. Kept free of the app instance and the web code, so a worker (or an executor's
child process) importing them loads nothing else."""

from __future__ import annotations

import logging

from chancy import job

log = logging.getLogger(__name__)


@job(queue="mail", max_attempts=3)
async def send_welcome(*, user_id: int, email: str) -> None:
    """Stands in for a call to a mail API."""
    log.info("welcome mail to user %s <%s>", user_id, email)
