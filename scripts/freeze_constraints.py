"""Write constraints.txt from the active environment after a green `bash scripts/test.sh`.

Local version labels (torch's `+cpu`) are dropped, so the pin matches the wheel the index serves here.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

HEADER = """\
# The versions the test suite was last green with (bash scripts/test.sh on Python {python}); the README's
# two commands and .ci/run install with -c constraints.txt. pip install emotiondesk itself keeps ranges.
# Regenerate after a green run: python scripts/freeze_constraints.py
"""


def main() -> int:
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"], check=True, capture_output=True, text=True
    ).stdout
    pins = [re.sub(r"\+[\w.]+$", "", line) for line in frozen.splitlines() if line and not line.startswith("#")]
    pins = [pin for pin in pins if not pin.lower().startswith("emotiondesk")]
    python = ".".join(map(str, sys.version_info[:2]))
    target = Path(__file__).resolve().parent.parent / "constraints.txt"
    target.write_text(HEADER.format(python=python) + "\n".join(pins) + "\n")
    print(f"{target}: {len(pins)} pins")
    return 0


if __name__ == "__main__":
    sys.exit(main())
