"""Repository hygiene: no large stray files tracked, every dependency pinned for reproducible installs."""

import re
import subprocess
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parent.parent
LIMIT_BYTES = 1_000_000


def tracked_files() -> list[str]:
    try:
        listing = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [name for name in listing.stdout.decode().split("\0") if name]


def test_no_file_over_1_mb_is_tracked_outside_assets():
    large = [
        f"{name} ({(ROOT / name).stat().st_size / 1e6:.1f} MB)"
        for name in tracked_files()
        if not name.startswith("assets/") and (ROOT / name).is_file() and (ROOT / name).stat().st_size > LIMIT_BYTES
    ]
    assert not large, f"tracked files over 1 MB outside assets/: {large}"


def requirement_name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_dependency_is_pinned_in_the_constraints():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needed = {requirement_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        needed |= {requirement_name(r) for r in extra}
    pinned = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pinned[name.lower().replace("_", "-")] = version
    assert all(version for version in pinned.values()), "constraints.txt holds exact pins only"
    missing = sorted(needed - set(pinned))
    assert not missing, f"dependencies without a pin in constraints.txt: {missing}"


def test_setup_commands_install_with_the_constraints():
    for script in ("scripts/test.sh", "scripts/run.sh"):
        installs = [line for line in (ROOT / script).read_text().splitlines() if "pip install" in line]
        assert any("-c constraints.txt" in line for line in installs), script
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
