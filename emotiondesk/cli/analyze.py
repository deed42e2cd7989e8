"""`emotiondesk analyze INPUT`: one input headless (several, or --out DIR, go to the batch front end)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from emotiondesk.cli.exits import UsageError, fail
from emotiondesk.metadata import SessionInfo


def command_analyze(args: argparse.Namespace) -> int:
    """Check every option and output, then run; bad options raise UsageError (main prints it, and with --json
    a JSON document too)."""
    from emotiondesk.pipeline import PipelineConfig
    from emotiondesk.runs.analyze import analyze

    check_options(args)
    config = PipelineConfig(
        model=args.model,
        detector=args.detector,
        min_detection_confidence=args.min_confidence,
        smoothing_window=args.smoothing,
        reid_s=args.reid_seconds,
        max_faces=args.max_faces,
        face_details=args.face_details or args.face_details_every > 1,
        face_details_every=args.face_details_every,
    )
    if args.out is not None or args.dask is not None or len(args.input) > 1:  # several inputs: runs.batch
        from emotiondesk.cli.batch import command_batch

        if args.markers is not None or args.lsl:
            raise UsageError("--markers and --lsl are for one input at a time, not for a batch (--out DIR)")
        return command_batch(args, config)
    args.input = args.input[0]
    if args.annotated is True:
        raise UsageError("--annotated needs a file name here (a bare --annotated is for --out DIR batches)")
    from emotiondesk.sinks.csv_sink import sidecar_path
    from emotiondesk.sinks.markers import markers_path
    from emotiondesk.sinks.safety import check_outputs, run_outputs

    if args.markers is not None and is_image_input(args.input):
        raise UsageError(
            f"--markers {args.markers}: markers are times in a video or camera run; {args.input} is images (no time)"
        )
    if args.markers is not None and args.csv is None:
        raise UsageError(f"--markers {args.markers}: needs --csv (markers are written beside it)")
    # every output (CSV, sidecar, markers, annotated video) checked before anything is opened or replaced
    check_outputs([args.input, args.markers], run_outputs(args.csv, args.annotated), overwrite=args.overwrite)
    lsl_build = None
    if args.lsl:
        from emotiondesk.sinks.lsl import lsl_sinks

        lsl_build = lsl_sinks(args.csv, args.session)  # fails here, before any work, when pylsl is missing
    scheduled = None
    if args.markers is not None:  # check_outputs above refused a markers file that is this run's own output
        from emotiondesk.sinks.markers import read_markers_file

        scheduled = read_markers_file(args.markers)
    info = SessionInfo(args.participant or "", args.session or "", args.notes or "")
    from emotiondesk.runs.stops import stop_on_signals

    with stop_on_signals():  # SIGTERM and SIGHUP end the run like Ctrl+C: outputs closed, sidecar `interrupted`
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
        if args.csv and args.csv.exists():  # name only outputs that exist
            print(f"CSV: {args.csv} ({summary.faces} face rows), sidecar: {sidecar_path(args.csv)}", file=human)
            if markers_path(args.csv).exists():
                print(f"markers: {markers_path(args.csv)}", file=human)
        if args.annotated and args.annotated.exists() and args.annotated.stat().st_size > 0:
            print(f"annotated video: {args.annotated}", file=human)
    if args.json:
        print(json.dumps({**summary.as_dict(), **outcome.status().as_dict()}))
        args.json_printed = True
    if outcome.error is not None:
        return fail(f"{outcome.error} — stopped after {summary.frames} frames; what was written is kept")
    if outcome.interrupted:
        print(f"interrupted after {summary.frames} frames; the CSV holds every frame processed", file=sys.stderr)
        return outcome.exit_code
    if summary.frames == 0:
        return fail(f"{args.input}: no frames could be read")
    return 0


def check_options(args: argparse.Namespace) -> None:
    """One message per wrong option, naming it."""
    if not 0.0 < args.min_confidence < 1.0:
        raise UsageError(f"--min-confidence {args.min_confidence}: must be between 0 and 1")
    if args.smoothing < 1:
        raise UsageError(f"--smoothing {args.smoothing}: must be at least 1 (1 = no smoothing)")
    if args.max_frames is not None and args.max_frames < 1:
        raise UsageError(f"--max-frames {args.max_frames}: must be at least 1")
    if args.face_details_every < 1:
        raise UsageError(f"--face-details-every {args.face_details_every}: must be at least 1")
    if args.reid_seconds < 0:
        raise UsageError(f"--reid-seconds {args.reid_seconds}: must be 0 or more (0 = off)")
    if args.max_faces is not None and args.max_faces < 1:
        raise UsageError(f"--max-faces {args.max_faces}: must be at least 1")
    if args.jobs is not None and args.out is None and len(args.input) == 1:
        raise UsageError(f"--jobs {args.jobs}: is for batches (--out DIR); one input runs in one process")


def is_image_input(spec: str) -> bool:
    """A folder of images or one image file (no time axis: no markers)."""
    from emotiondesk.sources import IMAGE_SUFFIXES

    path = Path(spec).expanduser()
    return path.is_dir() or (path.exists() and path.suffix.lower() in IMAGE_SUFFIXES)


def run_sinks(csv_path: Path | None, scheduled: list | None, lsl_build=None):
    """The run's extra sinks: LSL outlets (`--lsl`), and the markers CSV beside `--csv` — `--markers FILE`
    times for files, lines typed on stdin while a camera runs; each marker also goes to the LSL Markers outlet."""
    from emotiondesk.sinks.markers import MarkersSink, markers_path, read_marker_lines

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
