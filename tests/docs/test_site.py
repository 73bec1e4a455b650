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


def test_every_docs_page_is_in_the_navigation():
    config = (ROOT / "mkdocs.yml").read_text()
    pages = [
        p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")
    ]
    assert [p for p in pages if p not in config] == []
