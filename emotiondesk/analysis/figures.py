"""The session's figures (matplotlib, no pyplot state): the same ones in the summary dialog and the HTML report."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from emotiondesk.analysis.recorded import RecordedSession
from emotiondesk.palette import DEFAULT_PALETTE, emotion_color

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BACKGROUND = (0.94, 0.94, 0.94)


def plain(text: str) -> str:
    """User text shown as typed (a `$` would otherwise start matplotlib mathtext)."""
    return text.replace("$", r"\$")


def _legend(ax, labels: tuple[str, ...], palette: str) -> None:
    """The emotion legend to the right of the plot, never over the data."""
    from matplotlib.patches import Patch

    handles = [Patch(color=np.array(emotion_color(label, palette)) / 255, label=label) for label in labels]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="emotion")


def draw_distribution(ax, session: RecordedSession, palette: str = DEFAULT_PALETTE) -> None:
    """One horizontal bar per face: the share of its time in each (smoothed) emotion."""
    faces = list(session.summary)
    names = [plain(session.face_title(face_id)) for face_id in faces]
    left = np.zeros(len(faces))
    for label in session.labels:
        shares = np.array([session.summary[face_id][label] for face_id in faces])
        ax.barh(names, shares, left=left, color=np.array(emotion_color(label, palette)) / 255, label=label)
        left += shares
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_xlabel("share of the face's frames")
    ax.set_title("Emotion distribution per face")
    _legend(ax, session.labels, palette)


def draw_timeline(ax, session: RecordedSession, palette: str = DEFAULT_PALETTE, legend: bool = True) -> None:
    """Each face's (smoothed) emotion over time as a coloured band, with the markers as labelled lines."""
    faces = list(session.summary)
    rows = session.rows
    start = min((r["time_s"] for r in rows), default=0.0)
    end = max((r["time_s"] for r in rows), default=0.0) + max(session.interval_s, 0.05)
    for marker in session.markers:
        start, end = min(start, marker.time_s), max(end, marker.time_s)
    bin_s = max((end - start) / 2000, session.interval_s or 0.1, 0.01)
    bins = max(int(np.ceil((end - start) / bin_s)), 1)
    image = np.empty((max(len(faces), 1), bins, 3))
    image[:] = BACKGROUND
    index = {face_id: i for i, face_id in enumerate(faces)}
    colors = {label: np.array(emotion_color(label, palette)) / 255 for label in session.labels}
    span = max(session.interval_s, bin_s)
    for row in rows:  # each detection covers its frame's interval, so bands have no gaps between frames
        first = min(int((row["time_s"] - start) / bin_s + 1e-6), bins - 1)
        last = max(first + 1, min(int(np.ceil((row["time_s"] + span - start) / bin_s - 1e-6)), bins))
        image[index[session.names.canonical(row["face_id"])], first:last] = colors.get(row["smoothed_label"], 0.5)
    ax.imshow(
        image, aspect="auto", interpolation="nearest", extent=(start, start + bins * bin_s, max(len(faces), 1), 0)
    )
    ax.set_yticks([i + 0.5 for i in range(len(faces))], [plain(session.face_title(f)) for f in faces])
    ax.set_xlabel("time (s)")
    ax.set_title("Timeline" + (" with markers" if session.markers else ""))
    for marker in session.markers:
        ax.axvline(marker.time_s, color="black", linewidth=1.2, linestyle="--")
        ax.annotate(
            plain(marker.title),
            (marker.time_s, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -3),
            textcoords="offset points",
            va="top",
            fontsize=8,
            bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
        )
    if legend:
        _legend(ax, session.labels, palette)


def summary_figure(session: RecordedSession, palette: str = DEFAULT_PALETTE, figure: Figure | None = None) -> Figure:
    """Distribution above, timeline with markers below, one legend to the right (dialog and `Save…`)."""
    from matplotlib.figure import Figure

    figure = figure or Figure(figsize=(10, 6), layout="constrained")
    figure.clear()
    faces = max(len(session.summary), 1)
    top, bottom = figure.subplots(2, 1, height_ratios=[1 + faces * 0.3, 1 + faces * 0.3])
    draw_distribution(top, session, palette)
    draw_timeline(bottom, session, palette, legend=False)
    return figure
