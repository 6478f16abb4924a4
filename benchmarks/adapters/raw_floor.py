"""The raw-SQL floor: what plain psycopg can do on this machine with no queue library.

A minimal table, a ``FOR UPDATE SKIP LOCKED`` claim of a batch of rows, and one batched
UPDATE to complete them: two commits per batch and nothing else. For single pushes, one
prepared INSERT per autocommit call. No job body, no
notifications, no bookkeeping. No queue on the same machine can beat it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import psycopg

DDL = """
CREATE TABLE IF NOT EXISTS raw_jobs (
    id bigserial PRIMARY KEY,
    state smallint NOT NULL DEFAULT 0,
    payload jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS raw_jobs_ready ON raw_jobs (id) WHERE state = 0;
"""
INSERT = "INSERT INTO raw_jobs (payload) SELECT unnest(%s::jsonb[])"
CLAIM = """
UPDATE raw_jobs SET state = 1 WHERE id IN (
    SELECT id FROM raw_jobs WHERE state = 0 ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
) RETURNING id
"""
INSERT_ONE = "INSERT INTO raw_jobs (payload) VALUES (%s::jsonb)"
COMPLETE = "UPDATE raw_jobs SET state = 2 WHERE id = ANY(%s)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--workload", required=True)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=100, help="claim batch size")
    parser.add_argument("--samples", type=int, default=0)
    args = parser.parse_args()
    with psycopg.connect(args.dsn) as conn:
        conn.execute(DDL)
        conn.execute("TRUNCATE raw_jobs")
        conn.commit()
        if args.workload == "enqueue_batch":
            start = time.perf_counter()
            for i in range(0, args.jobs, 1000):
                conn.execute(INSERT, (["{}"] * min(1000, args.jobs - i),))
                conn.commit()
            elapsed = time.perf_counter() - start
            result = {"value": args.jobs / elapsed, "unit": "jobs/s", "n": args.jobs}
        elif args.workload == "enqueue_single":
            # One INSERT per call in its own (autocommit) transaction: the floor for a push.
            n = max(1, args.jobs // 20)
            conn.autocommit = True
            conn.execute(INSERT_ONE, ("{}",), prepare=True)
            calls = []
            start = time.perf_counter()
            for _ in range(n):
                t = time.perf_counter()
                conn.execute(INSERT_ONE, ("{}",), prepare=True)
                calls.append((time.perf_counter() - t) * 1000)
            elapsed = time.perf_counter() - start
            result = {
                "value": n / elapsed,
                "unit": "jobs/s",
                "n": n,
                "p50_ms": statistics.median(calls),
            }
        elif args.workload == "drain":
            for i in range(0, args.jobs, 1000):
                conn.execute(INSERT, (["{}"] * min(1000, args.jobs - i),))
            conn.commit()
            done = 0
            start = time.perf_counter()
            while True:
                ids = [r[0] for r in conn.execute(CLAIM, (args.concurrency,)).fetchall()]
                conn.commit()
                if not ids:
                    break
                conn.execute(COMPLETE, (ids,))
                conn.commit()
                done += len(ids)
            elapsed = time.perf_counter() - start
            ok = done == args.jobs
            result = {
                "value": done / elapsed if ok else None,
                "unit": "jobs/s",
                "n": done,
                "batch": args.concurrency,
                "ok": ok,
            }
        else:
            result = {"value": None, "unit": "", "note": "not measured for the raw floor"}
    out = {"system": "raw SQL floor", "workload": args.workload, "version": psycopg.__version__}
    sys.stdout.write(json.dumps({**out, **result}) + "\n")


if __name__ == "__main__":
    main()
