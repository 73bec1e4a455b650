"""The documentation site builds with ``mkdocs build --strict`` (API pages included)."""

import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_mkdocs_build_is_strictly_clean(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    # No -q: it hides the warnings that --strict turns into a failure, and any
    # warning printed at all fails the test as well.
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path)],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    warnings = [line for line in output.splitlines() if "WARNING" in line]
    assert warnings == [], "\n".join(warnings)
    assert (tmp_path / "api" / "engine" / "index.html").exists()
    # Docstring examples render as highlighted code, not as a run-on paragraph
    # (griffe reads a Google "Examples:" section; "Example:" is taken as prose).
    for page in (tmp_path / "api").rglob("index.html"):
        html = page.read_text()
        assert 'class="gp">&gt;&gt;&gt;' in html, page
        assert not re.search(r"<p>[^<]*&gt;&gt;&gt;", html), page


def _nav_paths(entries):
    """The page paths in an mkdocs ``nav`` (titles and sections unwrapped; links
    to other sites left out)."""
    if isinstance(entries, str):
        return [] if re.match(r"^[a-z][a-z0-9+.-]*://", entries) else [entries]
    if isinstance(entries, dict):
        return [p for value in entries.values() for p in _nav_paths(value)]
    if isinstance(entries, list):
        return [p for entry in entries for p in _nav_paths(entry)]
    raise AssertionError(f"unexpected nav entry {entries!r} in mkdocs.yml")


def _mkdocs_config():
    yaml = pytest.importorskip("yaml")

    class Loader(yaml.SafeLoader):
        """Reads mkdocs' ``!!python/name:`` and ``!ENV`` tags as plain values."""

    Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    return yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=Loader)


def test_every_docs_page_is_in_the_navigation():
    config = _mkdocs_config()
    docs = ROOT / config.get("docs_dir", "docs")
    pages = {p.relative_to(docs).as_posix() for p in docs.rglob("*.md")}
    nav = _nav_paths(config["nav"])
    assert sorted(pages - set(nav)) == [], "pages missing from the nav"
    assert sorted(set(nav) - pages) == [], "nav entries with no page"
    assert len(nav) == len(set(nav)), "a page is in the nav twice"


def test_nav_paths_unwraps_sections():
    nav = [
        "index.md",
        {"Home": "tour.md"},
        {"Guides": [{"A": "a.md"}, "b/c.md", {"Site": "https://example.org/x.md"}]},
    ]
    assert _nav_paths(nav) == ["index.md", "tour.md", "a.md", "b/c.md"]
