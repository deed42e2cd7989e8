"""`emotiondesk` command line: the window by default, `analyze` and `cameras` headless."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from emotiondesk import __version__
from emotiondesk.assets import DEFAULT_EMOTION_MODEL, EMOTION_MODELS
from emotiondesk.errors import EmotionDeskError

EXIT_USAGE_OR_INPUT = 2
EXIT_INTERRUPTED = 130
MODEL_HELP = (
    f"emotion model: {' | '.join(EMOTION_MODELS)} (bundled; default {DEFAULT_EMOTION_MODEL}) or a contract .onnx path"
)


def fail(message: str) -> int:
    print(f"emotiondesk: error: {message}", file=sys.stderr)
    return EXIT_USAGE_OR_INPUT


def command_analyze(args: argparse.Namespace) -> int:
    from emotiondesk.analyze import analyze, check_writable
    from emotiondesk.pipeline import PipelineConfig

    if not 0.0 < args.min_confidence < 1.0:
        return fail(f"--min-confidence {args.min_confidence}: must be between 0 and 1")
    if args.smoothing < 1 or (args.max_frames is not None and args.max_frames < 1):
        return fail("--smoothing and --max-frames must be at least 1")
    config = PipelineConfig(
        model=args.model,
        detector=args.detector,
        min_detection_confidence=args.min_confidence,
        smoothing_window=args.smoothing,
    )
    if args.out is not None or len(args.input) > 1:  # several inputs: emotiondesk.batch
        from emotiondesk.cli_batch import command_batch

        return command_batch(args, config)
    args.input = args.input[0]
    if args.annotated is True:
        return fail("--annotated needs a file name here (a bare --annotated is for --out DIR batches)")
    for output in (args.csv, args.annotated):
        check_writable(output)
    outcome = analyze(args.input, config, args.csv, args.annotated, progress=not args.quiet, max_frames=args.max_frames)
    summary = outcome.summary
    if not args.quiet:
        print(summary.text())
        if args.csv:
            print(f"CSV: {args.csv} ({summary.faces} rows), sidecar: {args.csv.with_suffix('.json')}")
        if args.annotated:
            print(f"annotated video: {args.annotated}")
    if args.json:
        print(json.dumps(summary.as_dict()))
    if outcome.error is not None:
        return fail(f"{outcome.error} — stopped after {summary.frames} frames; what was written is kept")
    if outcome.interrupted:
        print(f"interrupted after {summary.frames} frames; the CSV holds every frame processed", file=sys.stderr)
        return EXIT_INTERRUPTED
    if summary.frames == 0:
        return fail(f"{args.input}: no frames could be read")
    return 0


def command_cameras(args: argparse.Namespace) -> int:
    from emotiondesk.sources import list_cameras

    cameras = list_cameras()
    if not cameras:
        print("no camera found — analyse a file instead: emotiondesk analyze VIDEO --csv out.csv")
        return 1
    for camera in cameras:
        print(f"{camera.index}\t{camera.name}")
    return 0


def command_gui(args: argparse.Namespace) -> int:
    try:
        from emotiondesk._qt.app import run_app
    except ImportError as error:
        return fail(f"the window needs PySide6 ({error}); headless use: emotiondesk analyze INPUT")
    return run_app(source=args.source, model=args.model)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emotiondesk",
        description="Real-time facial-emotion detection. With no command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"emotiondesk {__version__}")
    parser.add_argument("--source", help="open the window on this video/image file or camera index")
    parser.add_argument("--model", help=MODEL_HELP)
    parser.set_defaults(func=command_gui)
    sub = parser.add_subparsers(dest="command")

    analyze_parser = sub.add_parser("analyze", help="analyse a video, image, image folder or camera headless")
    analyze_parser.add_argument(
        "input",
        nargs="+",
        help="video/image file, image folder, or camera: 0, camera:1; with --out: several, or FOLDERs",
    )
    analyze_parser.add_argument("--csv", type=Path, help="write one row per face per frame here (streamed)")
    analyze_parser.add_argument(
        "--annotated",
        type=Path,
        nargs="?",
        const=True,
        help="write the video with boxes and labels here (batch: mp4/avi)",
    )
    analyze_parser.add_argument("--out", type=Path, help="batch: one CSV + sidecar per input here, and index.csv")
    analyze_parser.add_argument(
        "--jobs", type=int, help="batch: worker processes (default: cores ÷ 1.5, at most one per 1000 frames)"
    )
    analyze_parser.add_argument("--model", help=MODEL_HELP)
    analyze_parser.add_argument(
        "--detector", default="short", help="short (webcam distance, fastest), full (small/far faces) or a .tflite path"
    )
    analyze_parser.add_argument("--min-confidence", type=float, default=0.5, help="face detection threshold")
    analyze_parser.add_argument("--smoothing", type=int, default=5, help="EMA window in frames (1 = off)")
    analyze_parser.add_argument("--max-frames", type=int, help="stop after this many frames")
    analyze_parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    analyze_parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    analyze_parser.set_defaults(func=command_analyze)

    cameras_parser = sub.add_parser("cameras", help="list cameras that deliver frames")
    cameras_parser.set_defaults(func=command_cameras)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except EmotionDeskError as error:
        return fail(str(error))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
