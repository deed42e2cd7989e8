"""Watches a pytest run from outside: if one test runs past a limit, prints every thread's native stack
(gdb, where installed), then aborts the run (faulthandler adds the Python stacks), so a hang in C++ (a Qt call
holding the GIL, say) names its frame and lock instead of waiting out CI's time limit. Started by conftest.py.

Usage: python tests/hang_watch.py PID HEARTBEAT_FILE LIMIT_S  (the heartbeat holds the running test's id)
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def native_stacks(pid: int) -> str:
    gdb = shutil.which("gdb")
    if gdb is None:
        return "(no gdb on this machine: no native stacks)\n"
    quiet = ["-nx", "-q", "-iex", "set debuginfod enabled off", "-iex", "set auto-load off"]  # nothing fetched
    short = ["-ex", "set print frame-arguments none", "-ex", "set print entry-values no"]
    stacks = ["-ex", "thread apply all bt 12", "-ex", "thread 1", "-ex", "bt 40"]  # the main thread last, whole
    command = [gdb, "-p", str(pid), "-batch", *quiet, *short, *stacks]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"(gdb failed: {error})\n"
    return done.stdout + done.stderr


def main(pid: int, heartbeat: Path, limit_s: float) -> None:
    while alive(pid) and os.getppid() == pid:
        time.sleep(1)
        try:
            age = time.time() - heartbeat.stat().st_mtime
            test = heartbeat.read_text().strip()
        except OSError:
            continue
        if age > limit_s:
            print(f"\nhang_watch: {test} has run {age:.0f} s; every thread's native stack:", flush=True)
            print(native_stacks(pid), flush=True)
            print(f"hang_watch: {test} hung for {age:.0f} s (stacks above); the test run is stopped.", flush=True)
            os.kill(pid, signal.SIGABRT)  # faulthandler (on in pytest) prints the Python stacks as it aborts
            deadline = time.monotonic() + 15
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
            return


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is for the test run; the watch ends when the run does
    main(int(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3]))
