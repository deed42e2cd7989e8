"""Smoke test of the standalone build: runs dist/emotiondesk/emotiondesk with an empty environment (no venv).

    python scripts/smoke_frozen.py [--app dist/emotiondesk/emotiondesk] [--out FOLDER] [--screenshot PNG]

Checks, each printed as it passes: `--version` names the standalone build; `analyze` of the bundled sample
writes a CSV equal to the one this Python's emotiondesk writes (apart from wall_time) and a sidecar saying
`standalone`; `analyze --face-details` finds the bundled .task and fills the bs_ columns; `report` writes the
HTML report; a two-file batch (`analyze --out --jobs 2`) runs its spawned workers frozen, and `study` reads
it; on Linux, the window opens under Xvfb (a screenshot is saved) and, where strace works, no run of the
binary connects or sends anywhere but loopback. Runs with the build venv's Python too (standard library only,
plus emotiondesk for the reference CSV), so the Windows and macOS workflow uses it as it is. Exit status 0 when
every check passed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "assets" / "samples" / "three_faces.mp4"
EXE = "emotiondesk.exe" if sys.platform == "win32" else "emotiondesk"
DEFAULT_APP = ROOT / "dist" / "emotiondesk" / EXE
# the privacy test's patterns (tests/test_privacy.py): any IPv4/IPv6 address a connect/send names
INET_ADDRESS = re.compile(r"(?:sin_addr=inet_addr\(|inet_pton\(AF_INET6?, )\"([^\"]+)\"")
TRACED = "trace=connect,sendto,sendmsg,sendmmsg,setsockopt"


class SmokeError(AssertionError):
    """A check of the frozen app failed."""


def empty_env(**extra: str) -> dict[str, str]:
    """`env -i`: nothing of this shell's environment (no venv, no PYTHONPATH); Windows needs SYSTEMROOT."""
    env = {
        name: os.environ[name] for name in ("SYSTEMROOT", "WINDIR") if sys.platform == "win32" and name in os.environ
    }
    return {**env, **extra}


def run_app(
    app: Path, args: list[str], env: dict[str, str] | None = None, timeout: float = 300, trace: Path | None = None
):
    command = [str(app), *args]
    if trace is not None:
        command = ["strace", "-f", "-e", TRACED, "-o", str(trace), *command]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env or empty_env())
    if result.returncode != 0:
        raise SmokeError(f"{' '.join(args)}: exit {result.returncode}\n{result.stderr[-3000:]}")
    return result


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    return rows[0], rows[1:]


def without_wall_time(path: Path) -> list[list[str]]:
    header, rows = read_rows(path)
    keep = [index for index, name in enumerate(header) if name != "wall_time"]
    return [[header[i] for i in keep]] + [[row[i] for i in keep] for row in rows]


def check_version(app: Path) -> str:
    text = run_app(app, ["--version"]).stdout.strip()
    if not re.fullmatch(r"emotiondesk \S+ \(standalone\)", text):
        raise SmokeError(f"--version printed {text!r}, expected 'emotiondesk X (standalone)'")
    return text


def check_analyze(app: Path, out: Path, trace: Path | None = None) -> Path:
    """The frozen CSV equals this Python's (venv or build venv) apart from wall_time; the sidecar says standalone."""
    frozen = out / "frozen.csv"
    run_app(app, ["analyze", str(SAMPLE), "--csv", str(frozen), "--quiet", "--overwrite"], trace=trace)
    reference = out / "reference.csv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "emotiondesk",
            "analyze",
            str(SAMPLE),
            "--csv",
            str(reference),
            "--quiet",
            "--overwrite",
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    got, expected = without_wall_time(frozen), without_wall_time(reference)
    if len(got) < 2:
        raise SmokeError(f"{frozen}: no rows")
    if got != expected:
        differing = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b) if len(got) == len(expected) else 0
        raise SmokeError(f"{frozen}: differs from {reference} ({len(got)} vs {len(expected)} lines; line {differing})")
    sidecar = json.loads(frozen.with_suffix(".json").read_text())
    if sidecar.get("build") != "standalone" or sidecar.get("status") != "finished":
        found = f"build {sidecar.get('build')!r}, status {sidecar.get('status')!r}"
        raise SmokeError(f"{frozen.with_suffix('.json')}: {found}")
    return frozen


def check_face_details(app: Path, out: Path, trace: Path | None = None) -> Path:
    csv_path = out / "details.csv"
    run_app(
        app, ["analyze", str(SAMPLE), "--csv", str(csv_path), "--face-details", "--quiet", "--overwrite"], trace=trace
    )
    header, rows = read_rows(csv_path)
    blendshapes = [i for i, name in enumerate(header) if name.startswith("bs_")]
    if len(blendshapes) != 52 or not rows:
        raise SmokeError(f"{csv_path}: {len(blendshapes)} bs_ columns, {len(rows)} rows")
    filled = sum(1 for row in rows if row[blendshapes[0]] not in ("", "nan"))
    if filled == 0:
        raise SmokeError(f"{csv_path}: the Face Landmarker filled no row")
    text = csv_path.with_suffix(".json").read_text()
    if "face_landmarker.task" not in text:
        raise SmokeError(f"{csv_path.with_suffix('.json')}: does not name the bundled face_landmarker.task")
    return csv_path


def check_report(app: Path, csv_path: Path) -> Path:
    page = csv_path.with_suffix(".html")
    run_app(app, ["report", str(csv_path), "--out", str(page)])
    text = page.read_text(encoding="utf-8")
    if "<html" not in text.lower() or "data:image/png;base64" not in text:
        raise SmokeError(f"{page}: not a report with its figures")
    return page


def check_batch(app: Path, out: Path) -> Path:
    """Two inputs, two spawned worker processes: multiprocessing works frozen (freeze_support)."""
    inputs = out / "batch-in"
    inputs.mkdir(exist_ok=True)
    for name in ("a.mp4", "b.mp4"):
        shutil.copy2(SAMPLE, inputs / name)
    folder = out / "batch-out"
    run_app(
        app,
        [
            "analyze",
            str(inputs / "a.mp4"),
            str(inputs / "b.mp4"),
            "--out",
            str(folder),
            "--jobs",
            "2",
            "--quiet",
            "--overwrite",
        ],
    )
    index = folder / "index.csv"
    if not index.is_file() or len(read_rows(index)[1]) != 2:
        raise SmokeError(f"{index}: missing or not two rows")
    return index


def check_study(app: Path, batch_index: Path) -> Path:
    """`study` over the batch's two sessions (pandas frozen): study.csv and study.html."""
    folder = batch_index.parent.parent / "study"
    run_app(app, ["study", str(batch_index.parent), "--out", str(folder), "--overwrite"])
    if not (folder / "study.html").is_file() or len(read_rows(folder / "study.csv")[1]) < 1:
        raise SmokeError(f"{folder}: no study.csv rows or no study.html")
    return folder / "study.csv"


def check_no_network(trace: Path) -> int:
    """tests/test_privacy.py's verdict on one strace file: nothing addressed beyond loopback, no DNS."""
    text = trace.read_text()
    if "+++ exited" not in text:
        raise SmokeError(f"{trace}: the trace did not record the run")
    sends = [line for line in text.splitlines() if re.search(r"\b(connect|sendto|sendmsg|sendmmsg)\(", line)]
    addressed = {host for line in sends for host in INET_ADDRESS.findall(line)}
    outside = {h for h in addressed if not (h.startswith("127.") or h in ("::1", "::ffff:127.0.0.1"))}
    if outside or "htons(53)" in text or "googleapis" in text or "ADD_MEMBERSHIP" in text:
        raise SmokeError(f"{trace}: network traffic beyond loopback: {sorted(outside)}")
    return len(sends)


def strace_works() -> bool:
    if not shutil.which("strace"):
        return False
    return subprocess.run(["strace", "-f", "-o", os.devnull, "true"], capture_output=True).returncode == 0


def start_xvfb() -> tuple[subprocess.Popen, str]:
    display = f":{90 + os.getpid() % 100}"
    server = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(50):
        if Path(f"/tmp/.X11-unix/X{display[1:]}").exists():
            return server, display
        time.sleep(0.1)
    server.kill()
    raise SmokeError("Xvfb did not start")


def traced_child(pid: int) -> int:
    """The app strace started (SIGTERM goes to the app itself, so strace records its whole exit)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return int(children[0]) if children else pid


def check_window(app: Path, out: Path, screenshot: Path, seconds: float = 12.0, trace: Path | None = None) -> float:
    """Opens the window on the sample under Xvfb (a fresh HOME: no settings of the user's), waits until its X
    window is mapped (xdotool), lets it play, saves a screenshot, then stops it with SIGTERM. Returns the
    seconds from start to the mapped window."""
    server, display = start_xvfb()
    home = out / "home"
    home.mkdir(exist_ok=True)
    env = empty_env(DISPLAY=display, HOME=str(home), XDG_RUNTIME_DIR=str(home))
    command = [str(app), "--source", str(SAMPLE)]
    if trace is not None:
        command = ["strace", "-f", "-e", TRACED, "-o", str(trace), *command]
    log = open(out / "window.log", "w")
    started = time.monotonic()
    window = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        mapped = None
        while time.monotonic() - started < 120 and window.poll() is None:
            found = subprocess.run(
                ["xdotool", "search", "--onlyvisible", "--name", "emotiondesk"],
                capture_output=True,
                env={"DISPLAY": display},
            )
            if found.returncode == 0 and found.stdout.strip():
                mapped = time.monotonic() - started
                break
            time.sleep(0.2)
        if mapped is None:
            raise SmokeError(f"the window did not open (exit {window.poll()}); see {out / 'window.log'}")
        time.sleep(seconds)
        if window.poll() is not None:
            raise SmokeError(f"the window closed by itself (exit {window.returncode}); see {out / 'window.log'}")
        shot = subprocess.run(
            ["import", "-window", "root", str(screenshot)], env={"DISPLAY": display}, capture_output=True, timeout=60
        )
        if shot.returncode != 0 or not screenshot.is_file():
            raise SmokeError(f"screenshot failed: {shot.stderr.decode()[-500:]}")
        os.kill(traced_child(window.pid) if trace is not None else window.pid, signal.SIGTERM)
        window.wait(timeout=60)
        return mapped
    finally:
        if window.poll() is None:
            window.kill()
            window.wait()
        log.close()
        server.terminate()
        server.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--app", type=Path, default=DEFAULT_APP)
    parser.add_argument("--out", type=Path, help="keep the outputs here (default: a temporary folder)")
    parser.add_argument("--screenshot", type=Path, help="the window's screenshot (default: OUT/window.png)")
    args = parser.parse_args()
    if not args.app.is_file():
        print(f"{args.app}: no frozen app; build it first: bash scripts/build_app.sh", file=sys.stderr)
        return 2
    out = args.out or Path(tempfile.mkdtemp(prefix="emotiondesk-smoke-"))
    out.mkdir(parents=True, exist_ok=True)
    linux = sys.platform.startswith("linux")
    traced = linux and strace_works()
    trace = (lambda name: out / f"{name}.strace") if traced else (lambda name: None)
    checks = [
        ("--version", lambda: check_version(args.app)),
        ("analyze = venv CSV", lambda: check_analyze(args.app, out, trace("analyze"))),
        ("analyze --face-details", lambda: check_face_details(args.app, out, trace("details"))),
        ("report", lambda: check_report(args.app, out / "frozen.csv")),
        ("batch, 2 workers", lambda: check_batch(args.app, out)),
        ("study of the batch", lambda: check_study(args.app, out / "batch-out" / "index.csv")),
    ]
    if linux and shutil.which("Xvfb") and shutil.which("xdotool") and shutil.which("import"):
        shot = args.screenshot or out / "window.png"
        window = lambda: f"mapped after {check_window(args.app, out, shot, trace=trace('window')):.1f} s, {shot}"  # noqa: E731
        checks.append(("window under Xvfb", window))
    else:
        print("window: not checked (needs Linux with Xvfb, xdotool and ImageMagick's import)")
    if traced:
        checks.append(
            (
                "no network (strace)",
                lambda: ", ".join(
                    f"{name}: {check_no_network(out / f'{name}.strace')} sends"
                    for name in ("analyze", "details", "window")
                    if (out / f"{name}.strace").exists()
                ),
            )
        )
    else:
        print("network: NOT verified (strace not available or not permitted)")
    failed = 0
    for name, check in checks:
        began = time.monotonic()
        try:
            detail = check()
        except (SmokeError, subprocess.SubprocessError, OSError) as error:
            failed += 1
            print(f"FAIL {name}: {error}")
            continue
        print(f"ok   {name} ({time.monotonic() - began:.1f} s): {detail}")
    print(f"outputs in {out}")
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
