"""Which build of emotiondesk is running: the standalone app, a pip-installed wheel, or a source tree."""

from __future__ import annotations

import sys
from pathlib import Path

from emotiondesk import __version__

STANDALONE = "standalone"
PIP = "pip"
SOURCE_TREE = "source tree"


def build_kind() -> str:
    """`standalone` when frozen (PyInstaller sets sys.frozen), `source tree` for a checkout or an editable
    install (the package sits next to the repository's pyproject.toml), else `pip` (an installed wheel)."""
    if getattr(sys, "frozen", False):
        return STANDALONE
    package = Path(__file__).resolve().parent
    if (package.parent / "pyproject.toml").is_file() and (package.parent / "assets" / "models").is_dir():
        return SOURCE_TREE
    return PIP


def version_text() -> str:
    """`emotiondesk 0.1.0 (standalone)`: the version and the build kind, for --version and the About box."""
    return f"emotiondesk {__version__} ({build_kind()})"
