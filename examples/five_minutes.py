import asyncio

from chancy import Chancy, Queue, Worker, job


@job(queue="mail", max_attempts=3)
async def send_welcome(*, to: str) -> None:
    print(f"Welcome mail to {to}")


async def main() -> None:
    # No DSN: $CHANCY_DSN if set, else an embedded Postgres (pip install 'chancy[embedded]').
    async with Chancy() as chancy:
        await chancy.migrate()  # Alembic, per table prefix
        await chancy.declare(Queue("mail", concurrency=50, executor=Chancy.Executor.Async))
        ref = await chancy.push(send_welcome.job.with_kwargs(to="ada@example.com"))
        async with Worker(chancy) as worker:  # or: chancy --app app:chancy worker start
            finished = await chancy.wait_for_job(ref, interval=0.1, timeout=60)
            print(f"Job {finished.id}: {finished.state}")
            await worker.stop()


if __name__ == "__main__":  # required: process executors re-import this module
    asyncio.run(main())
