"""``chancy queue``: declare, list, pause, resume, delete, stats and push."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from chancy import Chancy, Job, Queue
from tests.cli.conftest import AppModule, invoke, one_line_error, run


def test_declare_list_pause_resume_delete(app_path: str) -> None:
    run("--app", app_path, "misc", "migrate")
    out = run("--app", app_path, "queue", "declare", "mail", "-c", "3", "-e", "Async", "--json")
    declared = json.loads(out)
    assert declared["concurrency"] == 3 and declared["executor"].endswith("AsyncExecutor")
    table = run("--app", app_path, "queue", "list")
    assert table.splitlines()[0].split()[:3] == ["NAME", "STATE", "CONCURRENCY"]
    assert "mail" in table and "AsyncExecutor" in table
    assert "Paused queue 'mail' for 60 s." in run(
        "--app", app_path, "queue", "pause", "mail", "--for-seconds", "60"
    )
    listed = json.loads(run("--app", app_path, "queue", "list", "--json"))
    assert [(q["name"], q["state"]) for q in listed] == [("mail", "paused")]
    assert listed[0]["resume_at"]
    assert "Resumed queue 'mail'." in run("--app", app_path, "queue", "resume", "mail")
    assert "Deleted queue 'mail'." in run("--app", app_path, "queue", "delete", "mail", "--yes")
    assert json.loads(run("--app", app_path, "queue", "list", "--json")) == []
    assert "No queues declared." in invoke("--app", app_path, "queue", "list").stderr


def test_missing_queue_is_an_error(app_path: str) -> None:
    run("--app", app_path, "misc", "migrate")
    for command in (["delete", "nosuch", "--yes"], ["pause", "nosuch"], ["resume", "nosuch"]):
        line = one_line_error(invoke("--app", app_path, "queue", *command))
        assert line == "Error: Queue 'nosuch' not found."


def test_declare_bad_input_is_one_line(app_path: str) -> None:
    run("--app", app_path, "misc", "migrate")
    line = one_line_error(invoke("--app", app_path, "queue", "declare", "q", "-t", "(unclosed"))
    assert "do not compile" in line


def test_push_prints_the_id_and_checks_kwargs(app_path: str) -> None:
    run("--app", app_path, "misc", "migrate")
    ident = run("--app", app_path, "queue", "push", "os.getcwd", "-k", '{"a": 1}').strip()
    assert len(ident) == 36
    as_json = json.loads(run("--app", app_path, "queue", "push", "os.getcwd", "--json"))
    assert len(as_json["id"]) == 36
    got = json.loads(run("--app", app_path, "job", "get", ident, "--json"))
    assert got["func"] == "os.getcwd" and got["kwargs"] == {"a": 1}
    bad = invoke("--app", app_path, "queue", "push", "os.getcwd", "-k", "[1]")
    assert bad.exit_code == 2 and "JSON object" in bad.output
    bad = invoke("--app", app_path, "queue", "push", "os.getcwd", "-k", "{nope")
    assert bad.exit_code == 2 and "not valid JSON" in bad.output
    assert invoke("--app", app_path, "queue", "push").exit_code == 2


def test_push_from_a_json_lines_file(app_path: str, tmp_path: Path) -> None:
    run("--app", app_path, "misc", "migrate")
    lines = [json.dumps({"kwargs": {"a": i, "b": 1}, "priority": i}) for i in range(1200)]
    lines.insert(3, "")
    lines.append(json.dumps({"func": "os.getcwd", "queue": "other"}))
    source = tmp_path / "jobs.jsonl"
    source.write_text("\n".join(lines) + "\n")
    out = run("--app", app_path, "queue", "push", "tests.cli.cli_jobs.add", "-f", str(source))
    assert len(out.split()) == 1201
    listed = json.loads(run("--app", app_path, "job", "list", "-n", "2000", "--json"))
    assert len(listed) == 1201
    assert {j["queue"] for j in listed} == {"default", "other"}
    assert sorted(j["priority"] for j in listed if j["queue"] == "default") == list(range(1200))


def test_push_file_with_a_bad_line_pushes_nothing(app_path: str, tmp_path: Path) -> None:
    run("--app", app_path, "misc", "migrate")
    source = tmp_path / "jobs.jsonl"
    source.write_text('{"func": "os.getcwd"}\n{"func": "os.getcwd", "colour": "red"}\n')
    result = invoke("--app", app_path, "queue", "push", "-f", str(source))
    assert result.exit_code == 2 and "Line 2" in result.output and "colour" in result.output
    source.write_text('{"func": "os.getcwd"}\n{"func": "os.getcwd", "priority": "high"}\n')
    result = invoke("--app", app_path, "queue", "push", "-f", str(source))
    assert result.exit_code == 2 and "Line 2" in result.output
    source.write_text('{"kwargs": {}}\n')
    result = invoke("--app", app_path, "queue", "push", "-f", str(source))
    assert result.exit_code == 2 and "no 'func'" in result.output
    assert json.loads(run("--app", app_path, "job", "list", "--json")) == []


def test_stats_counts_states_and_undeclared_queues(app_module: AppModule) -> None:
    run("--app", app_module.path, "misc", "migrate")
    app: Chancy = app_module.module().app

    async def setup() -> None:
        async with app:
            await app.declare(Queue("mail"))
            await app.declare(Queue("idle"))
            refs = [await app.push(Job(func="os.getcwd", queue="mail")) for _ in range(3)]
            await app.push(Job(func="os.getcwd", queue="ghost"))
            await app.cancel_job(refs[0])

    asyncio.run(setup())
    stats = {
        s["queue"]: s for s in json.loads(run("--app", app_module.path, "queue", "stats", "--json"))
    }
    assert set(stats) == {"mail", "idle", "ghost"}
    assert stats["mail"]["pending"] == 2 and stats["mail"]["failed"] == 1
    assert stats["mail"]["state"] == "active" and stats["ghost"]["state"] == "undeclared"
    assert stats["idle"]["pending"] == 0 and stats["idle"]["oldest_ready_seconds"] is None
    assert stats["mail"]["oldest_ready_seconds"] >= 0
    assert stats["mail"]["throughput_per_minute"] is None  # Metrics is not migrated
    table = run("--app", app_module.path, "queue", "stats")
    assert "undeclared" in table and "PENDING" in table


def test_stats_reads_throughput_from_metrics(app_module: AppModule) -> None:
    run("--app", app_module.full, "misc", "migrate")
    full: Chancy = app_module.module().full

    async def record() -> None:
        from chancy.plugins.metrics import Metrics

        async with full:
            await full.declare(Queue("mail"))
            metrics = full.plugins[Metrics.get_identifier()]
            await metrics.increment_counter("queue:mail:throughput", 10)
            await metrics.flush(full)

    asyncio.run(record())
    stats = json.loads(run("--app", app_module.full, "queue", "stats", "--json"))
    assert stats[0]["queue"] == "mail" and stats[0]["throughput_per_minute"] == 2.0
