"""`emotiondesk report SESSION.csv`: one self-contained HTML page of a recorded session."""

from __future__ import annotations

import argparse

from emotiondesk.cli.exits import fail


def command_report(args: argparse.Namespace) -> int:
    from emotiondesk.analysis.report import write_report

    if args.window <= 0:
        return fail(f"--window {args.window}: must be more than 0 seconds")
    out = write_report(args.session_csv, args.out, args.window, args.palette)
    print(f"report: {out}")
    return 0
