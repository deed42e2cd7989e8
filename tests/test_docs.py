"""The documentation site builds with `mkdocs build --strict` (no broken link or anchor, no page left out of the
nav), every page under docs/ is in the nav, and README.md stays a front door of at most 200 lines."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README_MAX_LINES = 200


def nav_pages(nav) -> set[str]:
    """The page files named anywhere in mkdocs.yml's nav (entries are `Title: page.md`, nested lists, or `page.md`)."""
    if isinstance(nav, str):
        return {nav}
    if isinstance(nav, list):
        return set().union(*(nav_pages(item) for item in nav)) if nav else set()
    if isinstance(nav, dict):
        return set().union(*(nav_pages(value) for value in nav.values())) if nav else set()
    return set()


def load_nav() -> list:
    import yaml  # PyYAML comes with mkdocs

    return yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]


def test_readme_is_at_most_200_lines():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move the detail into docs/"


def test_every_page_is_in_the_nav():
    pytest.importorskip("mkdocs")
    listed = nav_pages(load_nav())
    pages = {path.relative_to(ROOT / "docs").as_posix() for path in (ROOT / "docs").rglob("*.md")}
    assert not pages - listed, f"pages under docs/ missing from mkdocs.yml's nav: {sorted(pages - listed)}"
    assert not listed - pages, f"nav entries without a page under docs/: {sorted(listed - pages)}"


def test_the_site_builds_strict(tmp_path):
    pytest.importorskip("mkdocs")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert build.returncode == 0, f"mkdocs build --strict failed:\n{build.stdout}\n{build.stderr}"
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "api" / "index.html").is_file()
