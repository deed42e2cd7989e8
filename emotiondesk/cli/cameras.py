"""`emotiondesk cameras`: list the cameras that deliver frames (exit 1, with a message on stderr, when none)."""

from __future__ import annotations

import argparse
import sys

from emotiondesk.cli.exits import EXIT_NO_CAMERA


def command_cameras(args: argparse.Namespace) -> int:
    from emotiondesk.sources import list_cameras

    cameras = list_cameras()
    if not cameras:
        print(
            "emotiondesk: no camera found — analyse a file instead: emotiondesk analyze VIDEO --csv out.csv",
            file=sys.stderr,
        )
        return EXIT_NO_CAMERA
    for camera in cameras:
        print(f"{camera.index}\t{camera.name}")
    return 0
