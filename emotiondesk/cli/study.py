"""`emotiondesk study INPUTS… --out DIR`: per-condition results across participants (study.csv, study.html)."""

from __future__ import annotations

import argparse
import sys


def command_study(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from emotiondesk.analysis.study_report import write_study

    bars: list[tqdm] = []  # made on the first report, so an early error prints alone

    def progress(done: int, total: int, name: str) -> None:
        if not bars:
            bars.append(tqdm(total=total, unit="session", disable=args.quiet, file=sys.stderr, desc="reading"))
        bar = bars[0]
        bar.total = total
        bar.n = done
        bar.set_postfix_str(name, refresh=True)
        if total and done == total:
            bar.close()
            if not args.quiet:
                print("drawing study.html…", file=sys.stderr)

    try:
        study, outputs = write_study(
            args.inputs,
            args.out,
            args.conditions,
            args.window,
            args.baseline,
            args.by_model,
            args.overwrite,
            args.palette,
            progress,
        )
    finally:
        for bar in bars:
            bar.close()
    if not args.quiet:
        participants = len({s.participant for s in study.sessions})
        print(
            f"study: {len(study.sessions)} sessions, {participants} participants, {len(study.conditions)} conditions "
            f"({', '.join(study.conditions)}); {len(study.table)} rows"
        )
        for output in outputs:
            print(f"  {output}")
    for row in study.quality.itertuples(index=False):
        if row.flags:
            print(f"emotiondesk: warning: {row.file}: {row.flags}", file=sys.stderr)
    for note in study.notes:
        print(f"emotiondesk: note: {note}", file=sys.stderr)
    return 0
