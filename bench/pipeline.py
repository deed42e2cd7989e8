"""Per-stage time and end-to-end fps of the pipeline versus faces per frame and resolution.

    python bench/pipeline.py [--frames 90] [--model PATH] [--detector short|full]

Clips are generated from the bundled real-face photo (0, 1, 3, 6 faces; 640×480 and 1280×720). For each,
the loop runs once one stage after another (decode → detect → crop → classify → track → CSV write →
draw) with every stage timed, and once as `analyze` runs it (`Pipeline.stream`: the next frame is decoded
and detected on a second core while this one is classified) for its fps; then the same crops are
classified once batched and once per face. Each row states how many faces the detector actually found.
With `--fer-python`, the `fer` package's `detect_emotions` is timed on the same frames in its own venv
(see bench/fer_peer.py). Prints markdown tables (medians).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emotiondesk.drawing import draw_result  # noqa: E402
from emotiondesk.pipeline import Pipeline, PipelineConfig  # noqa: E402
from emotiondesk.preprocessing import face_crops  # noqa: E402
from emotiondesk.recording import CsvRecorder  # noqa: E402
from emotiondesk.samples import sample_face, write_face_clip  # noqa: E402
from emotiondesk.sources import open_source  # noqa: E402

STAGES = ["decode", "detect", "crop", "classify", "track", "write", "draw"]


def run_clip(clip: Path, config: PipelineConfig, workdir: Path) -> dict:
    timings: dict[str, list[float]] = {stage: [] for stage in STAGES}
    detected: list[int] = []
    batched, per_face = [], []
    with (
        Pipeline(config) as pipeline,
        open_source(clip) as source,
        CsvRecorder(workdir / "bench.csv", pipeline.labels) as recorder,
    ):
        iterator = iter(source)
        started = time.perf_counter()
        frames = 0
        while True:
            t0 = time.perf_counter()
            frame = next(iterator, None)
            if frame is None:
                break
            t1 = time.perf_counter()
            result = pipeline.process(frame)
            t2 = time.perf_counter()
            recorder.write(result)
            t3 = time.perf_counter()
            draw_result(frame.image, result)
            t4 = time.perf_counter()
            frames += 1
            timings["decode"].append((t1 - t0) * 1e3)
            for stage in ("detect", "crop", "classify", "track"):
                timings[stage].append(result.timings_ms[stage])
            timings["write"].append((t3 - t2) * 1e3)
            timings["draw"].append((t4 - t3) * 1e3)
            detected.append(len(result.faces))
            if result.faces:
                gray = cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY)
                crops = face_crops(gray, result.faces, config.geometry)
                t5 = time.perf_counter()
                pipeline.classifier.classify(crops)
                t6 = time.perf_counter()
                for crop in crops:
                    pipeline.classifier.classify(crop[None])
                t7 = time.perf_counter()
                batched.append((t6 - t5) * 1e3)
                per_face.append((t7 - t6) * 1e3)
        elapsed = time.perf_counter() - started - sum(batched) / 1e3 - sum(per_face) / 1e3
    return {
        "median_ms": {stage: float(np.median(values)) for stage, values in timings.items()},
        "fps": frames / elapsed,
        "faces_detected": float(np.median(detected)),
        "batched_ms": float(np.median(batched)) if batched else float("nan"),
        "per_face_ms": float(np.median(per_face)) if per_face else float("nan"),
    }


def run_streamed(clip: Path, config: PipelineConfig, workdir: Path) -> float:
    """fps of the `analyze` loop: `Pipeline.stream` (next frame detected on a second core), CSV, draw."""
    with (
        Pipeline(config) as pipeline,
        open_source(clip) as source,
        CsvRecorder(workdir / "streamed.csv", pipeline.labels) as recorder,
    ):
        started, frames = time.perf_counter(), 0
        for frame, result in pipeline.stream(source):
            recorder.write(result)
            draw_result(frame.image, result)
            frames += 1
        return frames / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--model", help="emotion model (default: bundled)")
    parser.add_argument("--detector", default="short")
    parser.add_argument("--faces", type=int, nargs="*", default=[0, 1, 3, 6])
    parser.add_argument("--fer-python", help="python of a venv with `fer` installed, to time it side by side")
    args = parser.parse_args()
    config = PipelineConfig(model=args.model, detector=args.detector)
    face = sample_face()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        for width, height in ((640, 480), (1280, 720)):
            for faces in args.faces:
                clip = write_face_clip(workdir / f"{faces}_{width}.avi", face, faces, args.frames, width, height)
                stats = run_clip(clip, config, workdir)
                stats["streamed_fps"] = run_streamed(clip, config, workdir)
                rows.append(((width, height), faces, stats))
    print(f"{args.frames} frames per clip, detector {args.detector}, onnxruntime 1 thread; medians in ms/frame\n")
    print(
        "| resolution | faces in clip | faces detected | "
        + " | ".join(STAGES)
        + " | fps, one stage after another | fps, streamed (`analyze`) |"
    )
    print("|---|---|---|" + "---|" * len(STAGES) + "---|---|")
    for (width, height), faces, stats in rows:
        stages = " | ".join(f"{stats['median_ms'][s]:.2f}" for s in STAGES)
        print(
            f"| {width}×{height} | {faces} | {stats['faces_detected']:.0f} | {stages} | {stats['fps']:.1f} | "
            f"{stats['streamed_fps']:.1f} |"
        )
    if args.fer_python:
        command = [
            args.fer_python,
            str(ROOT / "bench" / "fer_peer.py"),
            "--frames",
            str(min(args.frames, 30)),
            "--faces",
            *map(str, args.faces),
        ]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        fer_rows = json.loads(output.strip().splitlines()[-1])
        print("\nPer-frame time, emotiondesk (`analyze` loop incl. decode, CSV, draw) vs fer.detect_emotions\n")
        print(
            "| resolution | faces in clip | emotiondesk faces found | emotiondesk ms/frame | fer faces found | "
            "fer ms/frame | fer ÷ emotiondesk |"
        )
        print("|---|---|---|---|---|---|---|")
        for ((width, height), faces, stats), fer in zip(rows, fer_rows):
            ours = 1000 / stats["streamed_fps"]
            print(
                f"| {width}×{height} | {faces} | {stats['faces_detected']:.0f} | {ours:.1f} | {fer['detected']:.0f} | "
                f"{fer['ms']:.1f} | {fer['ms'] / ours:.1f}× |"
            )
    print("\nBatched versus one onnxruntime call per face (classification only, same crops)\n")
    print("| resolution | faces detected | one batched call (ms) | one call per face (ms) | speed-up |")
    print("|---|---|---|---|---|")
    for (width, height), _faces, stats in rows:
        if stats["faces_detected"] >= 1:
            print(
                f"| {width}×{height} | {stats['faces_detected']:.0f} | {stats['batched_ms']:.2f} | "
                f"{stats['per_face_ms']:.2f} | {stats['per_face_ms'] / stats['batched_ms']:.2f}× |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
