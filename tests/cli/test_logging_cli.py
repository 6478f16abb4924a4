"""``--log-format`` and ``--log-level``: the CLI installs chancy's log output."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import AppModule, invoke, run

ROOT = Path(__file__).resolve().parents[2]


def test_log_format_json_installs_one_json_handler(chancy_logger: logging.Logger) -> None:
    run("--log-format", "json", "--log-level", "debug", "misc", "--help")
    visible = [h for h in chancy_logger.handlers if not isinstance(h, logging.NullHandler)]
    assert len(visible) == 1 and type(visible[0].formatter).__name__ == "JsonFormatter"
    assert chancy_logger.level == logging.DEBUG
    run("--log-format", "text", "misc", "--help")
    visible = [h for h in chancy_logger.handlers if not isinstance(h, logging.NullHandler)]
    assert len(visible) == 1 and type(visible[0].formatter).__name__ != "JsonFormatter"


def test_bad_log_format_is_a_usage_error() -> None:
    result = invoke("--log-format", "xml", "misc", "--help")
    assert result.exit_code == 2 and "xml" in result.output


def test_worker_logs_json_lines(app_module: AppModule, tmp_path: Path) -> None:
    run("--app", app_module.path, "misc", "migrate")
    module_dir = Path(str(sys.modules[app_module.name].__file__)).parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(module_dir), str(ROOT)])}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chancy.cli.main",
            "--log-format",
            "json",
            "--app",
            app_module.path,
            "worker",
            "start",
            "--queue",
            "none-such",
            "--worker-id",
            "w-json",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert proc.stderr is not None
    try:
        first = proc.stderr.readline()  # the start line: the worker is up
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = [line for line in (first + rest).splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]
    assert records and all(r["logger"].startswith("chancy") for r in records)
    assert any(r.get("worker_id") == "w-json" for r in records)
    assert "started" in records[0]["message"] and "stopped" in records[-1]["message"]
    assert proc.returncode == 0
