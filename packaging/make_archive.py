"""Packs dist/emotiondesk/ into dist/emotiondesk-<version>-<platform>.tar.gz (a .zip on Windows), with the
.desktop file, the icon and the licences: emotiondesk's, MediaPipe's Apache-2.0, and every bundled
distribution's own licence files (OpenCV, onnxruntime, MediaPipe…) under licenses/, and Qt's and PySide6's
LGPL-3.0 (their wheels ship no licence file: packaging/licenses/).

Run by scripts/build_app.sh with the build venv's Python (its installed distributions are what was frozen)."""

from __future__ import annotations

import platform
import shutil
import sys
import tarfile
from importlib import metadata
from pathlib import Path

import emotiondesk

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
BUILD_TOOLS = {"pip", "setuptools", "wheel", "pyinstaller", "pyinstaller-hooks-contrib", "altgraph", "emotiondesk"}


def platform_tag() -> str:
    system = {"darwin": "macos", "win32": "windows"}.get(sys.platform, sys.platform)
    machine = platform.machine().lower().replace("amd64", "x86_64")
    return f"{system}-{machine}"


def copy_licences(target: Path) -> int:
    """Each bundled distribution's licence files into target/licenses/<name>/; returns how many."""
    count = 0
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name or name.lower() in BUILD_TOOLS:
            continue
        for file in dist.files or []:
            if any(word in file.name.upper() for word in ("LICENSE", "LICENCE", "COPYING", "NOTICE")):
                source = Path(dist.locate_file(file))
                if source.is_file() and source.suffix not in (".py", ".pyc"):
                    destination = target / "licenses" / name / file.name
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source, destination)
                    count += 1
    return count


def main() -> int:
    folder = DIST / "emotiondesk"
    if not (folder / ("emotiondesk.exe" if sys.platform == "win32" else "emotiondesk")).is_file():
        print(f"{folder}: no frozen app; run scripts/build_app.sh first", file=sys.stderr)
        return 1
    name = f"emotiondesk-{emotiondesk.__version__}-{platform_tag()}"
    staging = DIST / "staging" / name
    shutil.rmtree(staging.parent, ignore_errors=True)
    staging.mkdir(parents=True)
    shutil.copytree(folder, staging / "emotiondesk", symlinks=True)
    shutil.copy2(ROOT / "packaging" / "emotiondesk.png", staging)
    if sys.platform.startswith("linux"):
        shutil.copy2(ROOT / "packaging" / "emotiondesk.desktop", staging)
    if (DIST / "emotiondesk.app").is_dir():  # macOS: the app bundle too (camera-permission text in its Info.plist)
        shutil.copytree(DIST / "emotiondesk.app", staging / "emotiondesk.app", symlinks=True)
    shutil.copy2(ROOT / "LICENSE", staging / "LICENSE")
    shutil.copy2(ROOT / "assets" / "models" / "LICENSE-Apache-2.0-mediapipe.txt", staging)
    licences = copy_licences(staging)
    shutil.copytree(ROOT / "packaging" / "licenses", staging / "licenses" / "Qt-PySide6")  # no licence in their wheels
    if sys.platform == "win32":
        archive = Path(shutil.make_archive(str(DIST / name), "zip", staging.parent, name))
    else:
        archive = DIST / f"{name}.tar.gz"
        with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
            tar.add(staging, arcname=name)
    shutil.rmtree(staging.parent)
    print(f"{archive} ({archive.stat().st_size / 1e6:.0f} MB, {licences} bundled licence files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
