"""``chancy misc``, the root options and the help texts."""

from __future__ import annotations

import importlib.metadata
import sys
import types

import click
import pytest

import chancy
from chancy.cli.main import cli
from tests.cli.conftest import AppModule, invoke, one_line_error, run


@pytest.mark.unmigrated
def test_migrate_stepwise_check_and_remove(app_path: str) -> None:
    result = invoke("--app", app_path, "misc", "check-migrations")
    assert result.exit_code == 1
    assert "Up to date: no" in result.output
    out = run("--app", app_path, "misc", "migrate")
    assert "Applied 4 migration(s)." in out and "core_0004" in out
    assert "Up to date: yes" in run("--app", app_path, "misc", "check-migrations")
    assert "Applied 0 migration(s)." in run("--app", app_path, "misc", "migrate")
    assert "none" in run("--app", app_path, "misc", "migrate", "--to-version", "0")


def test_migrate_brings_plugin_branches_up(app_module: AppModule) -> None:
    out = run("--app", app_module.full, "misc", "migrate")
    assert "Up to date: yes" in run("--app", app_module.full, "misc", "check-migrations")
    assert "cron" in out and "metrics" in out and "workflow" in out


@pytest.mark.parametrize("name", ["cron", "Cron", "CRON", "metrics", "workflowplugin", "workflow"])
def test_migrate_plugin_accepts_upstream_class_and_branch_names(app_path: str, name: str) -> None:
    run("--app", app_path, "misc", "migrate")
    out = run("--app", app_path, "misc", "migrate", "--plugin", name)
    branch = {"workflowplugin": "workflow"}.get(name.lower(), name.lower())
    assert f"Migrated plugin branch {branch!r}." in out
    assert branch in out.splitlines()[-1]
    removed = run("--app", app_path, "misc", "migrate", "--plugin", name, "--remove")
    assert f"Removed plugin branch {branch!r}." in removed
    assert branch not in removed.splitlines()[-1]


def test_migrate_unknown_plugin_is_one_line(app_path: str) -> None:
    line = one_line_error(invoke("--app", app_path, "misc", "migrate", "-p", "nosuch"))
    assert "No plugin found with name 'nosuch'" in line and "workflowplugin" in line


def test_migrate_remove_without_plugin_is_refused(app_path: str) -> None:
    run("--app", app_path, "misc", "migrate")
    result = invoke("--app", app_path, "misc", "migrate", "--remove")
    assert result.exit_code == 2
    assert "--remove needs --plugin" in result.output
    assert "Up to date: yes" in run("--app", app_path, "misc", "check-migrations")


def test_migrate_plugin_and_version_cannot_combine(app_path: str) -> None:
    result = invoke("--app", app_path, "misc", "migrate", "-p", "cron", "-t", "1")
    assert result.exit_code == 2 and "cannot be combined" in result.output


def test_factory_path_and_dotted_form(app_module: AppModule) -> None:
    assert "core_0004" in run("--app", f"{app_module.name}.factory", "misc", "migrate")


@pytest.mark.unmigrated
def test_chancy_app_variable_is_the_default(app_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHANCY_APP", app_path)
    assert "Applied 4" in run("misc", "migrate")


def test_missing_app_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHANCY_APP", raising=False)
    result = invoke("queue", "list")
    assert result.exit_code == 2 and "needs --app" in result.output


def test_version() -> None:
    assert chancy.__version__ == importlib.metadata.version("chancy")
    assert run("--version").strip() == f"chancy, version {chancy.__version__}"


def test_help_names_the_app_variable() -> None:
    assert "CHANCY_APP" in run("--help")


def _commands(group: click.Group, trail: str = "chancy") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in group.commands.items():
        found.append((f"{trail} {name}", command))
        if isinstance(command, click.Group):
            found += _commands(command, f"{trail} {name}")
    return found


def test_every_command_and_option_has_help() -> None:
    missing = [f"{trail}: no help" for trail, cmd in _commands(cli) if not cmd.help]
    for trail, command in [("chancy", cli), *_commands(cli)]:
        for param in command.params:
            if isinstance(param, click.Option) and not param.help:
                missing.append(f"{trail} {param.opts[0]}")
    assert missing == []


def test_shell_binds_the_app_and_runs_top_level_await(app_module: AppModule) -> None:
    run("--app", app_module.path, "misc", "migrate")
    script = "\n".join(
        [
            "print('prefix', chancy.prefix)",
            "print(GREETING)",
            "print('queues', len(await chancy.get_all_queues()))",
            "print(Job.__name__, QueuedJob.__name__, Reference.__name__, Queue.__name__)",
            "1/0",
            "print('still alive')",
        ]
    )
    result = invoke("--app", app_module.path, "misc", "shell", "--plain", input=script + "\n")
    assert result.exit_code == 0, result.output
    module = app_module.module()
    assert f"prefix {module.app.prefix}" in result.output
    assert "hello from the app module" in result.output
    assert "queues 0" in result.output
    assert "Job QueuedJob Reference Queue" in result.output
    assert "ZeroDivisionError" in result.output and "still alive" in result.output


def test_shell_prefers_ipython_when_installed(
    app_module: AppModule, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, object] = {}
    fake = types.ModuleType("IPython")
    fake.start_ipython = lambda argv, user_ns, display_banner: seen.update(user_ns)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", fake)
    result = invoke("--app", app_module.path, "misc", "shell")
    assert result.exit_code == 0, result.output
    assert seen["chancy"] is app_module.module().app and seen["GREETING"]
    assert {"Job", "QueuedJob", "Queue", "Reference", "Limit", "Worker", "asyncio"} <= set(seen)
