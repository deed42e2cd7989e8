"""The session's figures (matplotlib, no pyplot state): the same ones in the summary dialog and the HTML report."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from emotiondesk.analysis.recorded import RecordedSession
from emotiondesk.palette import DEFAULT_PALETTE, emotion_color

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BACKGROUND = (0.94, 0.94, 0.94)
MAX_FACES = 30  # rows a figure draws legibly; past that, the faces present longest (the report's table lists all)
SUMMARY_FACES = 10  # the summary dialog's fixed-size figure draws fewer
ROW_LINES, GAP_LINES = 5, 1  # the timeline draws each face in ROW_LINES image lines, the last GAP_LINES a gap


def shown_faces(session: RecordedSession, limit: int = MAX_FACES) -> list[int]:
    """The faces a figure draws, by ID: all of them, or the `limit` present longest."""
    faces = sorted(session.summary, key=lambda f: -session.summary[f]["frames"])[:limit]
    return sorted(faces)


def _shown_note(session: RecordedSession, faces: list[int]) -> str:
    hidden = len(session.summary) - len(faces)
    return f" ({len(faces)} of {len(session.summary)} faces: those present longest)" if hidden else ""


def plain(text: str) -> str:
    """User text shown as typed (a `$` would otherwise start matplotlib mathtext)."""
    return text.replace("$", r"\$")


def _legend(ax, labels: tuple[str, ...], palette: str) -> None:
    """The emotion legend to the right of the plot, never over the data."""
    from matplotlib.patches import Patch

    handles = [Patch(color=np.array(emotion_color(label, palette)) / 255, label=label) for label in labels]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="emotion")


def draw_distribution(ax, session: RecordedSession, palette: str = DEFAULT_PALETTE, limit: int = MAX_FACES) -> None:
    """One horizontal bar per face (at most `limit`): the share of its time in each (smoothed) emotion."""
    faces = shown_faces(session, limit)
    names = [plain(session.face_title(face_id)) for face_id in faces]
    left = np.zeros(len(faces))
    for label in session.labels:
        shares = np.array([session.summary[face_id][label] for face_id in faces])
        ax.barh(names, shares, left=left, color=np.array(emotion_color(label, palette)) / 255, label=label)
        left += shares
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=9 if len(faces) <= 12 else 7, length=0)
    ax.set_xlabel("share of the face's frames")
    ax.set_title("Emotion distribution per face" + _shown_note(session, faces))
    _legend(ax, session.labels, palette)


def draw_timeline(
    ax, session: RecordedSession, palette: str = DEFAULT_PALETTE, legend: bool = True, limit: int = MAX_FACES
) -> None:
    """Each face's (smoothed) emotion over time as a coloured band (at most `limit` faces, a gap between them),
    with the markers as dashed lines labelled above the plot."""
    faces = shown_faces(session, limit)
    rows = session.rows
    start = min((r["time_s"] for r in rows), default=0.0)
    end = max((r["time_s"] for r in rows), default=0.0) + max(session.interval_s, 0.05)
    for marker in session.markers:
        start, end = min(start, marker.time_s), max(end, marker.time_s)
    bin_s = max((end - start) / 2000, session.interval_s or 0.1, 0.01)
    bins = max(int(np.ceil((end - start) / bin_s)), 1)
    count = max(len(faces), 1)
    image = np.empty((count * ROW_LINES, bins, 3))
    image[:] = 1.0  # the gaps between rows: the page's white
    for row in range(count):
        image[row * ROW_LINES : (row + 1) * ROW_LINES - GAP_LINES] = BACKGROUND
    index = {face_id: i for i, face_id in enumerate(faces)}
    colors = {label: np.array(emotion_color(label, palette)) / 255 for label in session.labels}
    span = max(session.interval_s, bin_s)
    for row in rows:  # each detection covers its frame's interval, so bands have no gaps between frames
        line = index.get(session.names.canonical(row["face_id"]))
        if line is None:
            continue
        first = min(int((row["time_s"] - start) / bin_s + 1e-6), bins - 1)
        last = max(first + 1, min(int(np.ceil((row["time_s"] + span - start) / bin_s - 1e-6)), bins))
        top = line * ROW_LINES
        image[top : top + ROW_LINES - GAP_LINES, first:last] = colors.get(row["smoothed_label"], 0.5)
    ax.imshow(image, aspect="auto", interpolation="nearest", extent=(start, start + bins * bin_s, count, 0))
    gap = GAP_LINES / ROW_LINES
    ax.set_yticks([i + (1 - gap) / 2 for i in range(len(faces))], [plain(session.face_title(f)) for f in faces])
    ax.tick_params(axis="y", labelsize=9 if len(faces) <= 12 else 7, length=0)
    ax.set_xlabel("time (s)")
    title = "Timeline" + (" with markers" if session.markers else "") + _shown_note(session, faces)
    ax.set_title(title, pad=6 + 12 * _marker_levels(session, start, end))
    for number, marker in enumerate(sorted(session.markers, key=lambda m: m.time_s)):
        ax.axvline(marker.time_s, color="black", linewidth=1.2, linestyle="--")
        level = number % _marker_levels(session, start, end)
        ax.annotate(  # above the plot, in one of a few staggered lines: never over the face rows
            plain(marker.title),
            (marker.time_s, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, 2 + 12 * level),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
            annotation_clip=False,
        )
    if legend:
        _legend(ax, session.labels, palette)


def _marker_levels(session: RecordedSession, start: float, end: float) -> int:
    """Lines of marker labels above the timeline: 1, or up to 3 when markers sit close (staggered)."""
    times = sorted(m.time_s for m in session.markers)
    close = any(b - a < (end - start) / 12 for a, b in zip(times, times[1:]))
    return 3 if close else 1


def summary_figure(session: RecordedSession, palette: str = DEFAULT_PALETTE, figure: Figure | None = None) -> Figure:
    """Distribution above, timeline with markers below, one legend to the right (dialog and `Save…`)."""
    from matplotlib.figure import Figure

    figure = figure or Figure(figsize=(10, 6), layout="constrained")
    figure.clear()
    faces = max(len(shown_faces(session, SUMMARY_FACES)), 1)
    top, bottom = figure.subplots(2, 1, height_ratios=[1 + faces * 0.3, 1 + faces * 0.3])
    draw_distribution(top, session, palette, SUMMARY_FACES)
    draw_timeline(bottom, session, palette, legend=False, limit=SUMMARY_FACES)
    return figure
