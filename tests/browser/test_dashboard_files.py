"""The dashboard's files, checked without a browser: the module graph is whole, nothing
renders markup from strings, nothing is fetched from another origin, and the wheel ships
every file (so these run even where chromium is missing)."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "chancy" / "plugins" / "api" / "dashboard" / "static"
PYPROJECT = STATIC.parents[4] / "pyproject.toml"
IMPORT = re.compile(r'(?:import|from)\s*(?:[\w*{}\s,]+from\s*)?"(\./[^"]+)"')


def sources() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in STATIC.iterdir() if p.is_file()}


def test_every_module_import_resolves() -> None:
    files = sources()
    imports = {(name, target) for name, text in files.items() for target in IMPORT.findall(text)}
    assert imports, "the regex found no imports at all"
    missing = [(name, target) for name, target in imports if target[2:] not in files]
    assert missing == []
    index = files["index.html"]
    assert 'src="main.js"' in index and 'href="style.css"' in index


def test_no_markup_is_built_from_strings() -> None:
    """Job data reaches the page only as text nodes (see dom.js)."""
    sinks = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function"
    )
    found = {name: sinks.findall(text) for name, text in sources().items() if name.endswith(".js")}
    assert {name: hits for name, hits in found.items() if hits} == {}


def test_nothing_is_fetched_from_elsewhere() -> None:
    """No CDN, font or absolute URL: everything is relative to where the app is served."""
    allowed = {"http://www.w3.org/2000/svg", "http://www.w3.org/2000/svg'"}
    urls = {
        (name, url)
        for name, text in sources().items()
        for url in re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"')]*", text)
    }
    assert {(name, url) for name, url in urls if url not in allowed} == set()


def test_the_wheel_ships_every_file() -> None:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["chancy"]
    for path in STATIC.iterdir():
        relative = path.relative_to(PYPROJECT.parent / "chancy").as_posix()
        assert any(fnmatch.fnmatch(relative, p) for p in patterns), relative
