"""tests/hang_watch.py, the suite's guard against a hung test: it names the test, prints native stacks and
stops the run."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

HUNG_TEST = """
import time


def test_that_hangs():
    time.sleep(120)
"""


def test_a_hung_test_gets_its_native_stacks_printed_and_the_run_stopped(tmp_path):
    (tmp_path / "test_hung.py").write_text(HUNG_TEST)
    conftest = Path(__file__).with_name("conftest.py")
    env = {**os.environ, "EMOTIONDESK_TEST_HANG_S": "3"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "--confcutdir",
            str(tmp_path),
            "-p",
            "conftest",
            str(tmp_path / "test_hung.py"),
        ],
        cwd=conftest.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
    )
    output = done.stdout + done.stderr
    assert done.returncode in (-6, -9), output  # stopped, not left to run out its two minutes
    assert "hang_watch: test_hung.py::test_that_hangs has run" in output, output
    assert "in test_that_hangs" in output, output  # faulthandler's Python stack, as the run aborts
    if shutil.which("gdb"):
        assert "Thread 1" in output and "sleep" in output, output  # the main thread, asleep in C
