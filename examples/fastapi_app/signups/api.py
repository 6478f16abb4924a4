"""The web app: ``POST /signups`` writes a user row and queues its welcome mail atomically.

Run it (``pip install uvicorn``), from ``examples/fastapi_app``::

    uvicorn signups.api:app                              # web only ...
    chancy --app signups.settings:chancy worker start    # ... and a worker beside it, or
    SIGNUPS_WORKER_IN_APP=1 uvicorn signups.api:app      # the worker inside the web process

The request's ``AsyncSession`` comes from a dependency on chancy's own engine, so the row
and the job share one transaction: if the insert fails, no mail is queued, and a worker
is woken (NOTIFY) only when the transaction commits.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chancy import Chancy, Queue, Reference, Worker
from signups import settings
from signups.jobs import send_welcome
from signups.models import Base, User


def get_chancy(request: Request) -> Chancy:
    return request.app.state.chancy


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


ChancyDep = Annotated[Chancy, Depends(get_chancy)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]


class SignupIn(BaseModel):
    email: str


async def create_signup(body: SignupIn, session: SessionDep, chancy: ChancyDep) -> dict[str, Any]:
    """Insert the user and push the job in the request's transaction."""
    try:
        async with session.begin():
            user = User(email=body.email)
            session.add(user)
            await session.flush()  # assigns user.id; a duplicate email fails here
            ref = await chancy.push_ex(
                session, send_welcome.job.with_kwargs(user_id=user.id, email=user.email)
            )
    except sa.exc.IntegrityError as exc:  # rolled back: neither the user nor the job exists
        raise HTTPException(409, f"{body.email} is already signed up") from exc
    return {"user_id": user.id, "job_id": ref.identifier}


async def job_state(job_id: str, chancy: ChancyDep) -> dict[str, Any]:
    job = await chancy.get_job(Reference(job_id))
    if job is None:
        raise HTTPException(404, f"no job {job_id}")
    return {"job_id": job_id, "state": job.state, "attempts": job.attempts}


def create_app(chancy: Chancy | None = None, *, run_worker: bool | None = None) -> FastAPI:
    """The ASGI app. ``run_worker`` (default: ``$SIGNUPS_WORKER_IN_APP == "1"``) runs a
    worker inside the app's lifespan, for small deployments and development."""
    chancy = chancy or settings.chancy
    if run_worker is None:
        run_worker = os.environ.get("SIGNUPS_WORKER_IN_APP") == "1"

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with chancy:  # disposes chancy's engines at shutdown
            # Fine for an example; in production run `chancy ... misc migrate` on deploy.
            await chancy.migrate()
            await chancy.declare(Queue("mail", executor=Chancy.Executor.Async), upsert=True)
            async with chancy.engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            if not run_worker:
                yield
                return
            # uvicorn owns the signals; the lifespan's end stops the worker gracefully.
            async with Worker(chancy, register_signal_handlers=False):
                yield

    app = FastAPI(title="signups", lifespan=lifespan)
    app.state.chancy = chancy
    app.state.sessions = async_sessionmaker(chancy.engine, expire_on_commit=False)
    app.post("/signups", status_code=201)(create_signup)
    app.get("/jobs/{job_id}")(job_state)
    return app


app = create_app()
