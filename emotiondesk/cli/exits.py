"""Exit codes, the one-line error every command prints, and the JSON document `--json` prints when a run fails
before it starts."""

from __future__ import annotations

import json
import sys

from emotiondesk.errors import EmotionDeskError

EXIT_USAGE_OR_INPUT = 2
EXIT_NO_CAMERA = 1  # `emotiondesk cameras` found none
EXIT_INTERRUPTED = 130  # Ctrl+C (SIGINT); SIGTERM gives 143, SIGHUP 129: 128 + the signal's number


class UsageError(EmotionDeskError):
    """A bad option or combination of options, found before any work starts."""


def fail(message: str) -> int:
    """Print `emotiondesk: error: MESSAGE` on stderr; return the usage/input exit code."""
    print(f"emotiondesk: error: {message}", file=sys.stderr)
    return EXIT_USAGE_OR_INPUT


def failure_document(message: str, code: int, state: str = "error") -> str:
    """The one JSON document of a run that ended before it started (`--json`): the same keys a run's has."""
    return json.dumps(
        {
            "status": state,
            "finished": False,
            "interrupted": state == "interrupted",
            "error": message,
            "exit_code": code,
            "frames": 0,
            "frames_done": 0,
        }
    )
