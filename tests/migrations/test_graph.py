"""Rules of the revision graph: a linear core, labelled plugin branches, prefix-taking revisions."""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import Script, ScriptDirectory

from chancy.migrations import CORE_BRANCH, Migrator
from chancy.migrations.migrator import version_locations

ROOT = Path(__file__).resolve().parents[2]
CORE_DIR = ROOT / "chancy" / "migrations" / "versions"


def _tuple(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def graph_problems(script: ScriptDirectory, core_dir: Path) -> list[str]:
    """Everything wrong with the graph, one sentence each; ``[]`` when it is fine."""
    problems: list[str] = []
    revisions: list[Script] = list(script.walk_revisions())
    by_dir: dict[Path, list[Script]] = {}
    for rev in revisions:
        path = Path(rev.path)
        by_dir.setdefault(path.parent.resolve(), []).append(rev)
        if not path.name.startswith(f"{rev.revision}_"):
            problems.append(f"{path.name}: file name must start with '{rev.revision}_'")
        for fn_name in ("upgrade", "downgrade"):
            fn = getattr(rev.module, fn_name, None)
            params = list(inspect.signature(fn).parameters) if callable(fn) else None
            if params != ["table_prefix"]:
                problems.append(f"{rev.revision}: {fn_name} must take (table_prefix), has {params}")

    core = by_dir.pop(core_dir.resolve(), [])
    core_ids = {r.revision for r in core}
    bases = [r for r in core if not _tuple(r.down_revision)]
    if [CORE_BRANCH] != [label for r in bases for label in r.branch_labels]:
        problems.append(f"core: needs exactly one base labelled {CORE_BRANCH!r}, found {bases}")
    children: dict[str, list[str]] = {}
    for rev in core:
        parents = _tuple(rev.down_revision)
        if len(parents) > 1 or not set(parents) <= core_ids:
            problems.append(f"{rev.revision}: a core revision revises one core revision")
        if _tuple(rev.dependencies):
            problems.append(f"{rev.revision}: a core revision depends on nothing")
        for parent in parents:
            children.setdefault(parent, []).append(rev.revision)
    heads = [r.revision for r in core if r.revision not in children]
    if len(heads) != 1:
        problems.append(f"core: must have exactly one head, has {sorted(heads)}")
    problems += [f"core: {p} has two children {c}" for p, c in children.items() if len(c) > 1]

    for folder, plugin in by_dir.items():
        ids = {r.revision for r in plugin}
        plugin_bases = [r for r in plugin if not _tuple(r.down_revision)]
        if len(plugin_bases) != 1:
            problems.append(f"{folder}: a plugin folder holds one branch, has bases {plugin_bases}")
        for rev in plugin_bases:
            if not rev.branch_labels:
                problems.append(f"{rev.revision}: a plugin base needs a branch label")
            deps = set(_tuple(rev.dependencies))
            if not deps or not deps <= core_ids:
                problems.append(f"{rev.revision}: a plugin base must depend on a core revision")
        for rev in plugin:
            if not set(_tuple(rev.down_revision)) <= ids:
                problems.append(f"{rev.revision}: revises a revision outside its plugin folder")
    return problems


def test_shipped_graph_follows_the_rules() -> None:
    script = Migrator().script
    assert graph_problems(script, CORE_DIR) == []
    core = Migrator().core_revisions()
    assert script.get_revision(core[0]).down_revision is None
    assert core[-1] == script.get_revision(f"{CORE_BRANCH}@head").revision


def _write(folder: Path, name: str, body: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(body))


def _revision(rev: str, down: str | None, *, labels: str = "None", deps: str = "None") -> str:
    return f"""
        revision = {rev!r}
        down_revision = {down!r}
        branch_labels = {labels}
        depends_on = {deps}

        def upgrade(table_prefix): pass

        def downgrade(table_prefix): pass
    """


def test_graph_rules_catch_a_bad_graph(tmp_path: Path) -> None:
    core, plugin = tmp_path / "core", tmp_path / "plugins" / "cron" / "migrations"
    _write(core, "c1_base.py", _revision("c1", None, labels="('core',)"))
    _write(core, "c2_left.py", _revision("c2", "c1"))
    _write(core, "c3_right.py", _revision("c3", "c1"))  # a second core head
    _write(core, "wrong_name.py", _revision("c4", "c2"))
    _write(core, "c5_old_style.py", _revision("c5", "c3").replace("(table_prefix)", "()"))
    _write(plugin, "p1_base.py", _revision("p1", None))  # no label, no depends_on
    script = ScriptDirectory(str(tmp_path), version_locations=[str(core), str(plugin)])

    problems = "\n".join(graph_problems(script, core))

    assert "core: must have exactly one head" in problems
    assert "core: c1 has two children" in problems
    assert "wrong_name.py: file name must start with 'c4_'" in problems
    assert "c5: upgrade must take (table_prefix), has []" in problems
    assert "p1: a plugin base needs a branch label" in problems
    assert "p1: a plugin base must depend on a core revision" in problems


def test_dev_cli_lists_every_branch_folder() -> None:
    """alembic.ini cannot glob: each plugin adding a branch must add its folder there too."""
    listed = Config(str(ROOT / "alembic.ini")).get_version_locations_list() or []
    assert {Path(p).resolve() for p in listed if Path(p).is_dir()} == {
        Path(p).resolve() for p in version_locations()
    }


def test_dev_cli_folder_is_not_a_package() -> None:
    """An ``alembic/__init__.py`` would shadow the real Alembic when run from the root."""
    assert (ROOT / "alembic" / "env.py").is_file()
    assert not (ROOT / "alembic" / "__init__.py").exists()


@pytest.mark.parametrize("func", ["upgrade", "downgrade"])
def test_every_shipped_revision_takes_the_prefix(func: str) -> None:
    """The shipped graph, checked directly (the rule above, without its bookkeeping)."""
    for rev in Migrator().script.walk_revisions():
        assert list(inspect.signature(getattr(rev.module, func)).parameters) == ["table_prefix"]
