"""Time the `fer` package's `detect_emotions` on the same generated frames as bench/pipeline.py.

Run it with the Python of a separate venv that has `pip install fer` (it brings TensorFlow and its own
cv2, which must not share emotiondesk's venv):

    python3 -m venv /tmp/fervenv && /tmp/fervenv/bin/pip install fer
    /tmp/fervenv/bin/python bench/fer_peer.py --frames 30     # prints JSON; bench/pipeline.py --fer-python does this
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--faces", type=int, nargs="*", default=[0, 1, 3, 6])
    args = parser.parse_args()
    from fer.fer import FER

    from emotiondesk.samples import face_frame, sample_face

    detector = FER()  # the package default: OpenCV Haar cascade + mini-Xception
    face = sample_face()
    results = []
    for width, height in ((640, 480), (1280, 720)):
        for faces in args.faces:
            timings, found = [], []
            for step in range(args.frames + 3):
                frame = face_frame(face, faces, width, height, step)
                start = time.perf_counter()
                detections = detector.detect_emotions(frame)
                if step >= 3:  # first calls warm TensorFlow up
                    timings.append((time.perf_counter() - start) * 1e3)
                    found.append(len(detections))
            results.append(
                {
                    "width": width,
                    "height": height,
                    "faces": faces,
                    "ms": float(np.median(timings)),
                    "detected": float(np.median(found)),
                }
            )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
