"""The build kind that --version, the About box and every sidecar name: standalone, pip or source tree."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys

import pytest

from emotiondesk import __version__, build
from emotiondesk.cli.main import build_parser
from emotiondesk.sinks.csv_sink import CsvRecorder, sidecar_path


def test_this_checkout_is_a_source_tree():
    assert build.build_kind() == build.SOURCE_TREE
    assert build.version_text() == f"emotiondesk {__version__} (source tree)"


def test_frozen_is_standalone(monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert build.build_kind() == build.STANDALONE


def test_an_installed_copy_is_pip(tmp_path):
    """The same module in a site-packages-like folder (no pyproject.toml beside the package) says pip."""
    package = tmp_path / "site-packages" / "emotiondesk"
    package.mkdir(parents=True)
    shutil.copy2(build.__file__, package / "build.py")
    spec = importlib.util.spec_from_file_location("installed_build", package / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.build_kind() == build.PIP


def test_version_flag_names_the_build(capsys):
    try:
        build_parser().parse_args(["--version"])
    except SystemExit:
        pass
    assert capsys.readouterr().out.strip() == build.version_text()


def test_every_sidecar_names_the_build(tmp_path):
    with CsvRecorder(tmp_path / "run.csv", ("happy", "sad")):
        pass
    assert json.loads(sidecar_path(tmp_path / "run.csv").read_text())["build"] == build.SOURCE_TREE


def test_about_box_names_the_build(qtbot, monkeypatch):
    """Help → About shows `emotiondesk 0.1.0 (source tree)` here (the frozen app's said `(standalone)`)."""
    pytest.importorskip("PySide6")
    from PySide6.QtWidgets import QWidget

    from emotiondesk._qt import help as qt_help

    shown = []
    monkeypatch.setattr(qt_help.QMessageBox, "about", lambda parent, title, text: shown.append(text))
    parent = QWidget()
    qtbot.addWidget(parent)
    qt_help.show_about(parent, "emotion_fer2013", ("happy", "sad"))
    assert build.version_text() in shown[0]
