"""`emotiondesk analyze INPUT`: one input headless (several, or --out DIR, go to the batch front end)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from emotiondesk.cli.exits import EXIT_INTERRUPTED, fail
from emotiondesk.metadata import SessionInfo


def command_analyze(args: argparse.Namespace) -> int:
    from emotiondesk.pipeline import PipelineConfig
    from emotiondesk.runs.analyze import analyze

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
    if args.out is not None or len(args.input) > 1:  # several inputs: emotiondesk.runs.batch
        from emotiondesk.cli.batch import command_batch

        if args.markers is not None or args.lsl:
            return fail("--markers and --lsl are for one input at a time, not for a batch (--out DIR)")
        return command_batch(args, config)
    args.input = args.input[0]
    if args.annotated is True:
        return fail("--annotated needs a file name here (a bare --annotated is for --out DIR batches)")
    from emotiondesk.sinks.csv_sink import sidecar_path
    from emotiondesk.sinks.markers import markers_path
    from emotiondesk.sinks.safety import check_outputs

    written = (args.csv, args.csv and sidecar_path(args.csv), args.csv and markers_path(args.csv), args.annotated)
    outputs = [p for p in written if p is not None]
    check_outputs([args.input, *([args.markers] if args.markers else [])], outputs, overwrite=args.overwrite)
    lsl_build = None
    if args.lsl:
        from emotiondesk.sinks.lsl import lsl_sinks

        lsl_build = lsl_sinks(args.csv, args.session)  # fails here, before any work, when pylsl is missing
    scheduled = None
    if args.markers is not None:  # check_outputs above refused a markers file that is this run's own output
        from emotiondesk.sinks.markers import read_markers_file

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
