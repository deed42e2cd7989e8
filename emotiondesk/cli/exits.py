"""Exit codes and the one-line error every command prints."""

from __future__ import annotations

import sys

EXIT_USAGE_OR_INPUT = 2
EXIT_INTERRUPTED = 130


def fail(message: str) -> int:
    """Print `emotiondesk: error: MESSAGE` on stderr; return the usage/input exit code."""
    print(f"emotiondesk: error: {message}", file=sys.stderr)
    return EXIT_USAGE_OR_INPUT
