"""`emotiondesk cameras`: list the cameras that deliver frames."""

from __future__ import annotations

import argparse


def command_cameras(args: argparse.Namespace) -> int:
    from emotiondesk.sources import list_cameras

    cameras = list_cameras()
    if not cameras:
        print("no camera found — analyse a file instead: emotiondesk analyze VIDEO --csv out.csv")
        return 1
    for camera in cameras:
        print(f"{camera.index}\t{camera.name}")
    return 0
