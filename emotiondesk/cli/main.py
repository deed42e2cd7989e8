"""`emotiondesk` command line: the window by default, `analyze`, `report`, `study` and `cameras` headless."""

from __future__ import annotations

import argparse
from pathlib import Path

from emotiondesk import __version__
from emotiondesk.assets import DEFAULT_EMOTION_MODEL, EMOTION_MODELS
from emotiondesk.cli.analyze import command_analyze
from emotiondesk.cli.cameras import command_cameras
from emotiondesk.cli.exits import EXIT_INTERRUPTED, fail
from emotiondesk.cli.report import command_report
from emotiondesk.cli.study import command_study
from emotiondesk.errors import EmotionDeskError
from emotiondesk.palette import DEFAULT_PALETTE, PALETTES

MODEL_HELP = (
    f"emotion model: {' | '.join(EMOTION_MODELS)} (bundled; default {DEFAULT_EMOTION_MODEL}) or a contract .onnx path"
)


VERBOSE_HELP = "also show native libraries' messages (MediaPipe, FFmpeg); they are always kept in the log file"


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

    study_parser = sub.add_parser(
        "study", help="per-condition results across participants: study.csv and study.html from many sessions"
    )
    study_parser.add_argument(
        "inputs", nargs="+", type=Path, help="session CSVs, folders of them, batch output folders (index.csv)"
    )
    study_parser.add_argument("--out", type=Path, required=True, help="folder for study.csv, study.html, study.json")
    study_parser.add_argument(
        "--conditions",
        metavar="MAP",
        help='name number-only markers (or rename texts): "1=baseline,2=video A"',
    )
    study_parser.add_argument(
        "--window", type=float, metavar="S", help="take S seconds after each marker (default: up to the next marker)"
    )
    study_parser.add_argument(
        "--baseline", metavar="CONDITION", help="also report each participant's values minus their own baseline"
    )
    study_parser.add_argument(
        "--by-model",
        action="store_true",
        help="report sessions of different models or label sets as separate groups (default: refuse to mix them)",
    )
    study_parser.add_argument("--palette", choices=sorted(PALETTES), default=DEFAULT_PALETTE, help="emotion colours")
    study_parser.add_argument("--overwrite", action="store_true", help="replace study files that exist already")
    study_parser.add_argument("--quiet", action="store_true", help="no progress or summary")
    study_parser.set_defaults(func=command_study)

    cameras_parser = sub.add_parser("cameras", help="list cameras that deliver frames")
    cameras_parser.set_defaults(func=command_cameras)
    return parser


def main(argv: list[str] | None = None) -> int:
    from emotiondesk.runs.native_log import NativeOutputLog

    args = build_parser().parse_args(argv)
    with NativeOutputLog(echo=args.verbose):
        try:
            return args.func(args)
        except EmotionDeskError as error:
            return fail(str(error))
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
