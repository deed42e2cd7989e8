"""`emotiondesk` command line: the window by default, `analyze`, `report` and `cameras` headless."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from emotiondesk import __version__
from emotiondesk.assets import DEFAULT_EMOTION_MODEL, EMOTION_MODELS
from emotiondesk.errors import EmotionDeskError
from emotiondesk.palette import DEFAULT_PALETTE, PALETTES
from emotiondesk.session import SessionInfo

EXIT_USAGE_OR_INPUT = 2
EXIT_INTERRUPTED = 130
MODEL_HELP = (
    f"emotion model: {' | '.join(EMOTION_MODELS)} (bundled; default {DEFAULT_EMOTION_MODEL}) or a contract .onnx path"
)


VERBOSE_HELP = "also show native libraries' messages (MediaPipe, FFmpeg); they are always kept in the log file"


def fail(message: str) -> int:
    print(f"emotiondesk: error: {message}", file=sys.stderr)
    return EXIT_USAGE_OR_INPUT


def command_analyze(args: argparse.Namespace) -> int:
    from emotiondesk.analyze import analyze
    from emotiondesk.pipeline import PipelineConfig

    if not 0.0 < args.min_confidence < 1.0:
        return fail(f"--min-confidence {args.min_confidence}: must be between 0 and 1")
    if args.smoothing < 1 or (args.max_frames is not None and args.max_frames < 1):
        return fail("--smoothing and --max-frames must be at least 1")
    if args.face_details_every < 1:
        return fail(f"--face-details-every {args.face_details_every}: must be at least 1")
    config = PipelineConfig(
        model=args.model,
        detector=args.detector,
        min_detection_confidence=args.min_confidence,
        smoothing_window=args.smoothing,
        face_details=args.face_details or args.face_details_every > 1,
        face_details_every=args.face_details_every,
    )
    if args.out is not None or len(args.input) > 1:  # several inputs: emotiondesk.batch
        from emotiondesk.cli_batch import command_batch

        if args.markers is not None or args.lsl:
            return fail("--markers and --lsl are for one input at a time, not for a batch (--out DIR)")
        return command_batch(args, config)
    args.input = args.input[0]
    if args.annotated is True:
        return fail("--annotated needs a file name here (a bare --annotated is for --out DIR batches)")
    from emotiondesk.markers import markers_path
    from emotiondesk.outputs import check_outputs
    from emotiondesk.recording import sidecar_path

    written = (args.csv, args.csv and sidecar_path(args.csv), args.csv and markers_path(args.csv), args.annotated)
    outputs = [p for p in written if p is not None]
    check_outputs([args.input, *([args.markers] if args.markers else [])], outputs, overwrite=args.overwrite)
    lsl_build = None
    if args.lsl:
        from emotiondesk.lsl import lsl_sinks

        lsl_build = lsl_sinks(args.csv, args.session)  # fails here, before any work, when pylsl is missing
    scheduled = None
    if args.markers is not None:  # check_outputs above refused a markers file that is this run's own output
        from emotiondesk.markers import read_markers_file

        if args.csv is None:
            return fail(f"--markers {args.markers}: needs --csv (markers are written beside it)")
        scheduled = read_markers_file(args.markers)
    info = SessionInfo(args.participant or "", args.session or "", args.notes or "")
    outcome = analyze(
        args.input,
        config,
        args.csv,
        args.annotated,
        progress=not args.quiet,
        max_frames=args.max_frames,
        overwrite=args.overwrite,
        extra_sinks=run_sinks(args.csv, scheduled, lsl_build),
        info=info,
        palette=args.palette,
    )
    summary = outcome.summary
    human = sys.stderr if args.json else sys.stdout  # with --json, stdout holds exactly one JSON document
    if not args.quiet:
        print(summary.text(), file=human)
        if args.csv:
            print(f"CSV: {args.csv} ({summary.faces} rows), sidecar: {sidecar_path(args.csv)}", file=human)
            if markers_path(args.csv).exists():
                print(f"markers: {markers_path(args.csv)}", file=human)
        if args.annotated:
            print(f"annotated video: {args.annotated}", file=human)
    if args.json:
        print(json.dumps({**summary.as_dict(), **outcome.status().as_dict()}))
    if outcome.error is not None:
        return fail(f"{outcome.error} — stopped after {summary.frames} frames; what was written is kept")
    if outcome.interrupted:
        print(f"interrupted after {summary.frames} frames; the CSV holds every frame processed", file=sys.stderr)
        return EXIT_INTERRUPTED
    if summary.frames == 0:
        return fail(f"{args.input}: no frames could be read")
    return 0


def run_sinks(csv_path: Path | None, scheduled: list | None, lsl_build=None):
    """The run's extra sinks: LSL outlets (`--lsl`), and the markers CSV beside `--csv` — `--markers FILE`
    times for files, lines typed on stdin while a camera runs; each marker also goes to the LSL Markers outlet."""
    from emotiondesk.markers import MarkersSink, markers_path, read_marker_lines

    def build(pipeline, source) -> list:
        sinks = lsl_build(pipeline, source) if lsl_build is not None else []
        outlet = next((sink for sink in sinks if hasattr(sink, "push_marker")), None)
        if csv_path is None or (scheduled is None and source.kind != "camera"):
            return sinks
        forward = (lambda marker: outlet.push_marker(marker.marker, marker.text)) if outlet is not None else None
        markers = MarkersSink(markers_path(csv_path), scheduled, on_marker=forward)
        if source.kind == "camera":
            read_marker_lines(sys.stdin, markers.mark)
        return [*sinks, markers]

    return build


def command_report(args: argparse.Namespace) -> int:
    from emotiondesk.report import write_report

    if args.window <= 0:
        return fail(f"--window {args.window}: must be more than 0 seconds")
    out = write_report(args.session_csv, args.out, args.window, args.palette)
    print(f"report: {out}")
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
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
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
    analyze_parser.add_argument("--participant", help="participant ID, written in every CSV row and the sidecar")
    analyze_parser.add_argument("--session", help="session name, written in every CSV row and the sidecar")
    analyze_parser.add_argument("--notes", help="free-text notes, written in the sidecar")
    analyze_parser.add_argument(
        "--markers",
        type=Path,
        help="file of `time_s,text` lines: event markers for a video (a camera takes markers typed on stdin)",
    )
    analyze_parser.add_argument(
        "--palette", choices=sorted(PALETTES), default=DEFAULT_PALETTE, help="colours of the annotated video"
    )
    analyze_parser.add_argument(
        "--face-details",
        action="store_true",
        help="add 52 blendshape scores (bs_<name>) and yaw, pitch, roll per face (MediaPipe Face Landmarker; costly)",
    )
    analyze_parser.add_argument(
        "--face-details-every",
        type=int,
        default=1,
        metavar="N",
        help="run the landmarker on every Nth frame only, carrying each face's values forward (implies --face-details)",
    )
    analyze_parser.add_argument(
        "--lsl",
        action="store_true",
        help="stream results to Lab Streaming Layer (needs emotiondesk[lsl]; makes this app visible on the network)",
    )
    analyze_parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    analyze_parser.add_argument(
        "--json", action="store_true", help="print the summary as one JSON document on stdout (the rest on stderr)"
    )
    analyze_parser.add_argument("--overwrite", action="store_true", help="replace output files that exist already")
    analyze_parser.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)
    analyze_parser.set_defaults(func=command_analyze)

    report_parser = sub.add_parser("report", help="write a self-contained HTML report of a recorded session")
    report_parser.add_argument("session_csv", type=Path, help="a CSV recorded by the window or `analyze --csv`")
    report_parser.add_argument("--out", type=Path, help="HTML file to write (default: the CSV's name, .html)")
    report_parser.add_argument(
        "--window", type=float, default=5.0, help="seconds after each marker averaged in the per-marker table"
    )
    report_parser.add_argument("--palette", choices=sorted(PALETTES), default=DEFAULT_PALETTE, help="emotion colours")
    report_parser.set_defaults(func=command_report)

    cameras_parser = sub.add_parser("cameras", help="list cameras that deliver frames")
    cameras_parser.set_defaults(func=command_cameras)
    return parser


def main(argv: list[str] | None = None) -> int:
    from emotiondesk.native_log import NativeOutputLog

    args = build_parser().parse_args(argv)
    with NativeOutputLog(echo=args.verbose):
        try:
            return args.func(args)
        except EmotionDeskError as error:
            return fail(str(error))
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
