"""`emotiondesk analyze A B … | FOLDER --out DIR [--jobs N]`: the batch front end of the command line."""

from __future__ import annotations

import argparse
import json
import sys

from emotiondesk.cli.exits import EXIT_INTERRUPTED, fail
from emotiondesk.pipeline import PipelineConfig
from emotiondesk.runs.batch import run_batch


def batch_annotated(value) -> str | None:
    """`--annotated` in a batch: absent → None; bare, `mp4` or `avi` → the container; anything else → ValueError."""
    if value is None:
        return None
    container = "mp4" if value is True else str(value).lstrip(".").lower()
    if container not in ("mp4", "avi"):
        raise ValueError(value)
    return container


def command_batch(args: argparse.Namespace, config: PipelineConfig) -> int:
    """Run the batch, print its summary and one error line per failed input; exit 0, 2 (failures) or 130."""
    if args.out is None:
        return fail("several inputs need --out DIR (one CSV + sidecar per input, and DIR/index.csv)")
    if args.csv is not None:
        return fail(f"--csv {args.csv}: a batch writes DIR/<name>.csv per input; leave --csv out")
    if args.jobs is not None and args.jobs < 1:
        return fail(f"--jobs {args.jobs}: must be at least 1")
    try:
        annotated = batch_annotated(args.annotated)
    except ValueError:
        return fail(f"--annotated {args.annotated}: in a batch give no value, mp4 or avi (videos go to {args.out})")
    report = run_batch(args.input, args.out, config, args.jobs, annotated, args.max_frames, progress=not args.quiet)
    if not args.quiet:
        print(report.text(), file=sys.stderr if args.json else sys.stdout)  # --json: stdout is one JSON document
    if args.json:
        print(json.dumps(report.as_dict()))
    for row in report.rows:
        if row.status == "failed":
            print(f"emotiondesk: error: {row.path}: {row.reason}", file=sys.stderr)
    if report.interrupted:
        print("interrupted: the index is up to date; run the same command again to finish", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 2 if report.count("failed") else 0
