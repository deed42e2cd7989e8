"""Per-stage time and end-to-end fps of the pipeline versus faces per frame and resolution.

    python bench/pipeline.py [--frames 90] [--model PATH] [--detector short|full]
        [--faces 0 1 3 6] [--resolutions 640x480 1280x720] [--details-faces 1 3] [--details-every 1 2 3]

Clips are generated from the bundled real-face photo (0, 1, 3, 6 faces; 640×480 and 1280×720). For each,
the loop runs once one stage after another (decode → detect → crop → classify → track → CSV write →
draw) with every stage timed, and once as `analyze` runs it (`Pipeline.stream`: the next frame is decoded
and detected on a second core while this one is classified) for its fps; then the same crops are
classified once batched and once per face. Each row states how many faces the detector actually found.
With `--fer-python`, the `fer` package's `detect_emotions` is timed on the same frames in its own venv
(see bench/fer_peer.py). Then the face-details rows: the same loops at 640×480 with the Face Landmarker on
(`--face-details`, every frame and every Nth frame), and what every Nth frame costs in accuracy on a clip of a
head turning left and right (yaw sweep): the carried-forward values against the every-frame ones.
Prints markdown tables (medians).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emotiondesk.pipeline import Pipeline, PipelineConfig  # noqa: E402
from emotiondesk.samples import face_frame, sample_face, write_face_clip  # noqa: E402
from emotiondesk.sinks.csv_sink import CsvRecorder  # noqa: E402
from emotiondesk.sinks.drawing import draw_result  # noqa: E402
from emotiondesk.sources import open_source  # noqa: E402
from emotiondesk.stages.crops import face_crops  # noqa: E402
from emotiondesk.stages.face_details import BLENDSHAPE_NAMES  # noqa: E402

STAGES = ["decode", "detect", "crop", "classify", "track", "write", "draw"]
DETAIL_STAGES = ["decode", "detect", "details", "crop", "classify", "track", "write", "draw"]


def run_clip(clip: Path, config: PipelineConfig, workdir: Path) -> dict:
    timings: dict[str, list[float]] = {stage: [] for stage in DETAIL_STAGES}
    detected: list[int] = []
    batched, per_face = [], []
    with (
        Pipeline(config) as pipeline,
        open_source(clip) as source,
        CsvRecorder(workdir / "bench.csv", pipeline.labels, face_details=config.face_details) as recorder,
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
            timings["details"].append(result.timings_ms.get("details", 0.0))
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
        "details_run_ms": float(np.median([v for v in timings["details"] if v > 0] or [0.0])),
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
        CsvRecorder(workdir / "streamed.csv", pipeline.labels, face_details=config.face_details) as recorder,
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
    parser.add_argument("--resolutions", nargs="*", default=["640x480", "1280x720"], help="WxH of the main table")
    parser.add_argument("--details-faces", type=int, nargs="*", default=[1, 3], help="faces of the face-details rows")
    parser.add_argument("--details-every", type=int, nargs="*", default=[1, 2, 3], help="landmarker every N frames")
    args = parser.parse_args()
    config = PipelineConfig(model=args.model, detector=args.detector)
    face = sample_face()
    rows = []
    resolutions = [tuple(int(v) for v in r.split("x")) for r in args.resolutions]
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        for width, height in resolutions:
            for faces in args.faces:
                clip = write_face_clip(workdir / f"{faces}_{width}.avi", face, faces, args.frames, width, height)
                stats = run_clip(clip, config, workdir)
                stats["streamed_fps"] = run_streamed(clip, config, workdir)
                rows.append(((width, height), faces, stats))
        detail_rows = run_details(args, config, face, workdir)
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
    if detail_rows:
        print_details(args, detail_rows)
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


def run_details(args, config: PipelineConfig, face: np.ndarray, workdir: Path) -> list:
    """The face-details rows: 640×480 clips, landmarker off and on (every frame, every Nth frame)."""
    rows = []
    for faces in args.details_faces:
        clip = write_face_clip(workdir / f"details_{faces}.avi", face, faces, args.frames, 640, 480)
        for every in [0, *args.details_every]:
            variant = replace(config, face_details=every > 0, face_details_every=max(every, 1))
            stats = run_clip(clip, variant, workdir)
            stats["streamed_fps"] = run_streamed(clip, variant, workdir)
            rows.append(((640, 480), faces, every, stats))
    return rows


def print_details(args, detail_rows: list) -> None:
    print(f"\nFace details (`--face-details`, `--face-details-every N`), 640×480, {args.frames} frames; medians\n")
    print(
        "| faces in clip | faces detected | face details | landmarker ms (on the frames it runs) | detect ms | "
        "ms/frame one stage after another | fps one stage after another | fps streamed (`analyze`) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for _size, faces, every, stats in detail_rows:
        mode = {0: "off", 1: "every frame", 2: "every 2nd frame", 3: "every 3rd frame"}.get(every, f"every {every}th")
        landmarker = stats["details_run_ms"]
        print(
            f"| {faces} | {stats['faces_detected']:.0f} | {mode} | {landmarker:.2f} | "
            f"{stats['median_ms']['detect']:.2f} | "
            f"{1000 / stats['fps']:.1f} | {stats['fps']:.1f} | {stats['streamed_fps']:.1f} |"
        )
    errors = schedule_errors(args.details_every, args.frames)
    print(
        "\nWhat every Nth frame costs in accuracy: a head turning left and right (yaw sweep of ±20° over 2 s at "
        "30 fps, one face, the bundled photo warped); carried-forward values against the every-frame run, "
        "mean absolute difference over all frames\n"
    )
    print("| face details | yaw (°) | pitch (°) | roll (°) | blendshapes (score, mean of 52) | mouthSmileLeft |")
    print("|---|---|---|---|---|---|")
    for every, error in errors.items():
        print(
            f"| every {every} frames | {error['yaw']:.2f} | {error['pitch']:.2f} | {error['roll']:.2f} | "
            f"{error['blendshapes']:.4f} | {error['smile']:.4f} |"
        )


def turning_frames(frames: int) -> list[np.ndarray]:
    """The bundled face, its middle shifted sideways by a sine: the nose sweeps as in a head turn."""
    base = face_frame(sample_face(), 1)
    height, width = base.shape[:2]
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    x0, x1 = width * 0.38, width * 0.62  # the face's extent in face_frame's one-face layout
    t = np.clip((xs - x0) / (x1 - x0), 0, 1)
    out = []
    for step in range(frames):
        shift = 30 * np.sin(2 * np.pi * step / 60)
        out.append(cv2.remap(base, (xs - shift * np.sin(np.pi * t)).astype(np.float32), ys, cv2.INTER_LINEAR))
    return out


def schedule_errors(everies: list[int], frames: int) -> dict[int, dict[str, float]]:
    """Mean |carried − every-frame| of pose and blendshapes for each schedule (first face of each frame)."""
    from emotiondesk.types import Frame

    images = turning_frames(max(frames, 60))
    values: dict[int, list] = {}
    for every in sorted({1, *everies}):
        config = PipelineConfig(face_details=True, face_details_every=every)
        with Pipeline(config) as pipeline:
            per_frame = []
            for index, image in enumerate(images):
                result = pipeline.process(Frame(index, index / 30, image))
                face = result.faces[0] if result.faces else None
                ok = face is not None and face.head_pose is not None
                per_frame.append((np.array(face.head_pose), face.blendshapes) if ok else None)
            values[every] = per_frame
    reference = values[1]
    errors = {}
    smile = BLENDSHAPE_NAMES.index("mouthSmileLeft")
    for every in everies:
        if every == 1:
            continue
        pairs = [(a, b) for a, b in zip(reference, values[every]) if a is not None and b is not None]
        pose = np.mean([np.abs(a[0] - b[0]) for a, b in pairs], axis=0)
        shapes = np.mean([np.abs(a[1] - b[1]) for a, b in pairs], axis=0)
        errors[every] = {
            "yaw": pose[0],
            "pitch": pose[1],
            "roll": pose[2],
            "blendshapes": float(shapes.mean()),
            "smile": float(shapes[smile]),
        }
    return errors


if __name__ == "__main__":
    sys.exit(main())
