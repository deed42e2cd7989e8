"""`study.html`: one self-contained page of a study (plots embedded, nothing loaded from a network).

Per model group: per-condition means across participants with 95 % bootstrap CIs (bars: colour *and* hatching,
participants as points), the same minus each participant's baseline, then one small timeline per participant
(lines: colour *and* markers) and a data-quality table per session. Readable in greyscale print.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from emotiondesk.analysis.figures import plain
from emotiondesk.analysis.report import CSS, _png
from emotiondesk.analysis.study import (
    BASELINE_COLUMNS,
    BEFORE_FIRST_MARKER,
    FACE_FOUND_FLAG,
    OUTPUT_NAMES,
    Study,
    StudyError,
    StudySession,
    build_study,
    condition_means,
    find_sessions,
    participant_means,
)
from emotiondesk.errors import RecordingError
from emotiondesk.palette import DEFAULT_PALETTE, emotion_hatch, emotion_marker, hex_color
from emotiondesk.sinks.csv_sink import sidecar_path
from emotiondesk.sinks.markers import markers_path

if TYPE_CHECKING:
    import pandas as pd

STUDY_CSS = """
.flag td { background: #fff1d6; } .flag td.flags { font-weight: bold; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } .ci { color: #555; font-size: 0.85em; }
ul.notes li { margin: 0.2em 0; }
"""
VALUE_TITLES = {
    "mean_probability": "mean probability",
    "share_labelled": "share of frames labelled",
    BASELINE_COLUMNS[0]: "mean probability minus baseline",
    BASELINE_COLUMNS[1]: "share labelled minus baseline",
}


def _legend(ax, labels, palette: str, lines: bool = False) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if lines:
        handles = [
            Line2D([], [], color=hex_color(label, palette), marker=emotion_marker(label), label=label, markersize=5)
            for label in labels
        ]
    else:
        handles = [
            Patch(facecolor=hex_color(label, palette), edgecolor="black", hatch=emotion_hatch(label), label=label)
            for label in labels
        ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="emotion")


def means_figure(means: pd.DataFrame, points: pd.DataFrame, conditions: list[str], labels, value: str, palette: str):
    """Grouped bars (one per emotion, colour + hatch) per condition, 95 % CI whiskers, participants as dots."""
    from matplotlib.figure import Figure

    conditions = [c for c in conditions if c in set(means["condition"])]
    figure = Figure(figsize=(10, 3.6), layout="constrained")
    ax = figure.subplots()
    width = 0.8 / max(len(labels), 1)
    indexed = means.set_index(["condition", "emotion"])
    rng = np.random.default_rng(0)
    for k, label in enumerate(labels):
        x = np.arange(len(conditions)) + (k - (len(labels) - 1) / 2) * width
        rows = indexed.reindex([(c, label) for c in conditions])
        heights = rows["mean"].to_numpy(dtype=float)
        low = np.nan_to_num(heights - rows["ci_low"].to_numpy(dtype=float))
        high = np.nan_to_num(rows["ci_high"].to_numpy(dtype=float) - heights)
        ax.bar(
            x,
            heights,
            width,
            color=hex_color(label, palette),
            edgecolor="black",
            linewidth=0.5,
            hatch=emotion_hatch(label),
        )
        ax.errorbar(x, heights, yerr=[low, high], fmt="none", ecolor="black", elinewidth=1, capsize=2)
        mine = points[points["emotion"] == label]
        for i, condition in enumerate(conditions):
            ys = mine.loc[mine["condition"] == condition, value].to_numpy(dtype=float)
            xs = x[i] + rng.uniform(-width / 4, width / 4, len(ys))
            ax.plot(xs, ys, linestyle="none", marker=".", color="black", markersize=3, alpha=0.6)
    ax.set_xticks(np.arange(len(conditions)), [plain(c) for c in conditions])
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_ylabel(VALUE_TITLES.get(value, value))
    ax.set_title(f"Per-condition {VALUE_TITLES.get(value, value)} across participants (bars: 95 % bootstrap CI)")
    _legend(ax, labels, palette)
    return figure


def timeline_figure(sessions: list[StudySession], study: Study, palette: str):
    """One participant: per session, each emotion's probability over time (faces averaged), the conditions as
    shaded, hatched spans with their names, the markers as dashed lines."""
    from matplotlib.figure import Figure

    from emotiondesk.analysis.study import session_segments

    figure = Figure(figsize=(10, 0.6 + 1.5 * len(sessions)), layout="constrained")
    axes = np.atleast_1d(figure.subplots(len(sessions), 1, squeeze=False)[:, 0])
    conditions = study.settings["conditions"]
    for ax, session in zip(axes, sessions):
        faces = session.table[session.table["face_found"] == 1]
        span = max(session.end_s - session.start_s, 1e-6)
        bin_s = max(span / 150, session.interval_s or 0.0, 1e-3)
        bins = ((faces["time_s"] - session.start_s) // bin_s).astype(int)
        columns = [f"p_{label}" for label in session.labels]
        curves = faces[columns].groupby(bins).mean().reindex(range(int(span // bin_s) + 1))  # gaps: no face
        curves.index = session.start_s + (curves.index + 0.5) * bin_s
        every = max(len(curves) // 12, 1)
        for label, column in zip(session.labels, columns):
            ax.plot(
                curves.index,
                curves[column],
                color=hex_color(label, palette),
                marker=emotion_marker(label),
                markevery=every,
                markersize=4,
                linewidth=1.2,
            )
        segments = session_segments(session, conditions, study.settings["window_s"])
        for number, (condition, start, end) in enumerate(segments.itertuples(index=False)):
            shade = condition != BEFORE_FIRST_MARKER
            ax.axvspan(
                start,
                end,
                facecolor="#e8e8e8" if number % 2 else "#f6f6f6",
                hatch="..." if shade and number % 2 else "",
                edgecolor="#bbbbbb",
                linewidth=0,
                zorder=0,
            )
            ax.annotate(
                plain(condition),
                (start, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(2, -2 - 9 * (number % 2)),  # alternate rows: short segments' names do not overlap
                textcoords="offset points",
                va="top",
                fontsize=7,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
            )
        for marker in session.table.attrs["markers"]:
            ax.axvline(marker["time_s"], color="black", linestyle="--", linewidth=0.8)
        ax.set_xlim(session.start_s, session.end_s)
        ax.set_ylim(0, 1.25)  # room above 1 for the condition names
        ax.set_ylabel("probability", fontsize=8)
        ax.set_title(plain(f"session {session.session} — {session.path.name}"), fontsize=9, loc="left")
        ax.tick_params(labelsize=7)
    axes[-1].set_xlabel("time in session (s)")
    _legend(axes[0], sessions[0].labels, palette, lines=True)
    return figure


def _means_table(means: pd.DataFrame, conditions: list[str], labels, title: str) -> list[str]:
    esc = html.escape
    indexed = means.set_index(["condition", "emotion"])
    parts = [f"<table class='means'><tr><th>condition ({esc(title)})</th><th>n</th>"]
    parts += [f"<th>{esc(label)}</th>" for label in labels] + ["</tr>"]
    for condition in conditions:
        if condition not in set(means["condition"]):
            continue
        n = int(indexed.loc[condition, "n"].max())
        cells = []
        for label in labels:
            if (condition, label) not in indexed.index:
                cells.append("<td></td>")
                continue
            row = indexed.loc[(condition, label)]
            ci = (
                ""
                if np.isnan(row["ci_low"])
                else f" <span class='ci'>[{row['ci_low']:.3f}, {row['ci_high']:.3f}]</span>"
            )
            cells.append(f"<td class='num'>{row['mean']:.3f}{ci}</td>")
        parts.append(f"<tr><td>{esc(condition)}</td><td class='num'>{n}</td>{''.join(cells)}</tr>")
    parts.append("</table>")
    return parts


def _quality_table(quality: pd.DataFrame) -> list[str]:
    esc = html.escape
    header = [
        "participant",
        "session",
        "file",
        "model",
        "frames",
        "face found",
        "faces",
        "IDs merged",
        "markers",
        "ended",
        "flags",
    ]
    parts = ["<table class='quality'><tr>", *(f"<th>{esc(h)}</th>" for h in header), "</tr>"]
    for row in quality.itertuples(index=False):
        flagged = " class='flag'" if row.flags else ""
        warn = f"⚠ {row.flags}" if row.flags else ""
        cells = [
            esc(row.participant),
            esc(row.session),
            esc(row.file.rsplit("/", 1)[-1]),
            esc(row.model),
            f"{row.frames}",
            f"{row.face_found:.0%}",
            f"{row.faces}",
            f"{row.ids_merged}",
            f"{row.markers}",
            esc(row.ended),
        ]
        parts.append(
            f"<tr{flagged} title='{esc(row.file)}'>"
            + "".join(f"<td>{c}</td>" for c in cells)
            + f"<td class='flags'>{esc(warn)}</td></tr>"
        )
    parts.append("</table>")
    return parts


def render_study(study: Study, palette: str = DEFAULT_PALETTE) -> str:
    """The study page as one HTML string."""
    esc = html.escape
    settings = study.settings
    participants = sorted({s.participant for s in study.sessions})
    flagged = int((study.quality["flags"] != "").sum())
    mapping = ", ".join(f"{k} = {v}" for k, v in settings["conditions"].items()) or "none (marker texts and numbers)"
    segments = f"{settings['window_s']:g} s after each marker" if settings["window_s"] else "marker to next marker"
    meta = [
        ("Participants", f"{len(participants)}: {', '.join(participants)}"),
        ("Sessions", f"{len(study.sessions)} ({flagged} flagged in the data-quality table)"),
        ("Conditions", ", ".join(study.conditions) or "none"),
        ("Segments", segments),
        ("Condition names", mapping),
        ("Baseline", settings["baseline"] or "none"),
        ("Models", "; ".join(f"{title} — {', '.join(labels)}" for title, labels in study.groups.items())),
        ("Confidence intervals", settings["ci"]),
    ]
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>emotiondesk study — {len(participants)} participants</title>",
        f"<style>{CSS}{STUDY_CSS}</style></head><body>",
        f"<h1>Study — {len(participants)} participants, {len(study.sessions)} sessions</h1>",
        "<table class='meta'>",
        *(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in meta),
        "</table>",
    ]
    if study.notes:
        parts += ["<ul class='notes'>", *(f"<li>{esc(note)}</li>" for note in study.notes), "</ul>"]
    values = ["mean_probability", "share_labelled"]
    if settings["baseline"]:
        values.append(BASELINE_COLUMNS[0])
    for title, labels in study.groups.items():
        table = study.group_table(title)
        heading = f"Per-condition means — {title}" if len(study.groups) > 1 else "Per-condition means"
        parts.append(f"<h2>{esc(heading)}</h2>")
        if len(study.groups) > 1:
            parts.append(
                "<p class='note'>This group's sessions were analysed with this model only; groups are never "
                "averaged together.</p>"
            )
        if table.empty:
            parts.append("<p>No face was found in any condition of these sessions.</p>")
            continue
        for value in values:
            per_participant = participant_means(table, value)
            means = condition_means(per_participant, value)
            if value != "share_labelled":
                figure = means_figure(means, per_participant, study.conditions, labels, value, palette)
                parts.append(f"<p><img alt='{esc(VALUE_TITLES[value])} per condition' src='{_png(figure)}'></p>")
            parts += _means_table(means, study.conditions, labels, VALUE_TITLES[value])
        parts.append(
            "<p class='note'>Each participant counts once per condition: the mean over all their frames in it "
            "(sessions and faces pooled). Brackets: 95 % percentile bootstrap CI over participants.</p>"
        )
    parts.append("<h2>Timelines</h2>")
    for participant in participants:
        sessions = [s for s in study.sessions if s.participant == participant]
        figure = timeline_figure(sessions, study, palette)
        parts.append(
            f"<h3>{esc(participant)}</h3><p><img alt='timeline of {esc(participant)}' src='{_png(figure)}'></p>"
        )
    parts += [
        "<h2>Data quality</h2>",
        f"<p class='note'>Flagged (⚠): runs that ended interrupted or with an error, and sessions whose face was "
        f"found in less than {FACE_FOUND_FLAG:.0%} of the analysed frames.</p>",
        *_quality_table(study.quality),
        "<p class='note'>Made by emotiondesk on this computer; nothing in this page loads from a network. "
        "A facial expression is not a felt emotion. study.csv holds every number on this page per face and "
        "session; study.json lists the session files, models and settings.</p></body></html>",
    ]
    return "\n".join(parts)


def study_outputs(out_dir: Path) -> list[Path]:
    return [Path(out_dir) / name for name in OUTPUT_NAMES]


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise RecordingError(f"{path}: cannot write ({error.strerror or error})") from None


def write_study(
    inputs: Iterable[Path | str],
    out_dir: Path,
    conditions: dict[str, str] | str | None = None,
    window_s: float | None = None,
    baseline: str | None = None,
    by_model: bool = False,
    overwrite: bool = False,
    palette: str | None = None,
    on_progress: Callable[[int, int, str], None] | None = None,
) -> tuple[Study, list[Path]]:
    """Build the study and write `study.csv`, `study.html` and `study.json` into `out_dir`. Every output is
    checked first (never an input, never an existing file without `overwrite`); each is written whole."""
    from emotiondesk import __version__
    from emotiondesk.sinks.safety import check_outputs

    inputs = list(inputs)
    notes: list[str] = []
    paths = find_sessions(inputs, notes)
    if not paths:
        raise StudyError(f"{', '.join(map(str, inputs)) or 'no input'}: no session CSVs found")
    outputs = study_outputs(out_dir)
    read = [p for path in paths for p in (path, sidecar_path(path), markers_path(path))]
    check_outputs([*inputs, *read], outputs, overwrite)
    study = build_study(inputs, conditions, window_s, baseline, by_model, on_progress, sessions=paths)
    study.notes.extend(notes)
    page = render_study(study, palette or DEFAULT_PALETTE)
    record = {
        "emotiondesk_version": __version__,
        "created_at": datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"),
        "inputs": [str(p) for p in inputs],
        "settings": study.settings,
        "groups": {title: list(labels) for title, labels in study.groups.items()},
        "sessions": [
            {
                "csv": str(s.path.resolve()),
                "participant": s.participant,
                "session": s.session,
                "model": s.model,
                "model_version": s.model_version,
                "labels": list(s.labels),
                "status": s.status,
                "frames": s.frames,
                "settings": {k: s.table.attrs["sidecar"].get(k) for k in ("detector", "smoothing", "tracking")},
            }
            for s in study.sessions
        ],
        "notes": study.notes,
    }
    try:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RecordingError(f"{out_dir}: cannot create the folder ({error.strerror or error})") from None
    csv_path, html_path, json_path = outputs
    _write_atomically(csv_path, study.table.to_csv(index=False, float_format="%.8g"))
    _write_atomically(html_path, page)
    _write_atomically(json_path, json.dumps(record, indent=2, default=str))
    return study, outputs
