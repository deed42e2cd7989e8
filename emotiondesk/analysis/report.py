"""`emotiondesk report SESSION.csv`: one self-contained HTML page (plots embedded, nothing loaded from a network)."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from emotiondesk.analysis.recorded import RecordedSession, load_recorded, marker_windows
from emotiondesk.errors import RecordingError
from emotiondesk.palette import DEFAULT_PALETTE, emotion_color


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _cell(value: float, label: str, palette: str) -> str:
    r, g, b = emotion_color(label, palette)
    return f'<td style="background: rgba({r},{g},{b},{0.1 + 0.8 * value:.2f})">{value:.2f}</td>'


CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; padding: 0 1.5em; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9em; } td, th { padding: 3px 8px; border: 1px solid #ddd; }
th { background: #f4f4f4; text-align: left; } img { max-width: 100%; }
.meta th { width: 11em; } .note { color: #666; font-size: 0.85em; }
"""


def render_report(session: RecordedSession, window_s: float = 5.0, palette: str = DEFAULT_PALETTE) -> str:
    """The report as one HTML string: metadata, per-face distributions, timeline with markers, marker windows."""
    from matplotlib.figure import Figure

    from emotiondesk.analysis.figures import draw_distribution, draw_timeline

    esc = html.escape
    side = session.sidecar
    faces = max(len(session.summary), 1)
    distribution = Figure(figsize=(9, 1.2 + 0.45 * faces), layout="constrained")
    draw_distribution(distribution.subplots(), session, palette)
    timeline = Figure(figsize=(9, 1.6 + 0.45 * faces), layout="constrained")
    draw_timeline(timeline.subplots(), session, palette)
    model = side.get("model") or {}
    source = side.get("source") or {}
    meta = [
        ("Participant", session.info.participant),
        ("Session", session.info.session),
        ("Notes", session.info.notes),
        ("Recording", str(session.csv_path.name)),
        ("Started / ended", f"{side.get('started_at', '')} – {side.get('ended_at', '')}"),
        ("Status", f"{side.get('status', 'unknown')} ({side.get('frames', '?')} frames, {len(session.rows)} rows)"),
        ("Source", f"{source.get('name', '')} ({source.get('kind', '')})"),
        ("Model", f"{model.get('name', '')} {model.get('version', '')} — {', '.join(session.labels)}"),
        ("Faces", ", ".join(session.face_title(f) for f in session.summary)),
        ("Markers", str(len(session.markers))),
    ]
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>emotiondesk report — {esc(session.csv_path.name)}</title><style>{CSS}</style></head><body>",
        f"<h1>Session report — {esc(session.info.participant or session.csv_path.stem)}</h1>",
        "<table class='meta'>",
        *(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in meta),
        "</table><h2>Per-face distribution</h2><table><tr><th>face</th><th>time present (s)</th><th>frames</th>",
        *(f"<th>{esc(label)}</th>" for label in session.labels),
        "</tr>",
    ]
    for face_id, shares in session.summary.items():
        cells = "".join(_cell(shares[label], label, palette) for label in session.labels)
        parts.append(
            f"<tr><td>{esc(session.face_title(face_id))}</td><td>{shares['seconds']:.1f}</td>"
            f"<td>{int(shares['frames'])}</td>{cells}</tr>"
        )
    parts += [
        "</table>",
        f"<p><img alt='Emotion distribution per face' src='{_png(distribution)}'></p>",
        f"<h2>Timeline</h2><p><img alt='Timeline with markers' src='{_png(timeline)}'></p>",
        f"<h2>Per-marker windows</h2><p class='note'>Mean probabilities in the {window_s:g} s after each marker.</p>",
    ]
    windows = marker_windows(session, window_s)
    if not windows:
        parts.append("<p>No markers in this session.</p>")
    else:
        parts.append("<table class='markers'><tr><th>marker</th><th>time (s)</th><th>face</th><th>frames</th>")
        parts += [f"<th>{esc(label)}</th>" for label in session.labels] + ["</tr>"]
        for window in windows:
            marker = window["marker"]
            face = session.face_title(window["face_id"]) if window["face_id"] is not None else "no face"
            cells = (
                "".join(_cell(float(v), label, palette) for v, label in zip(window["mean"], session.labels))
                if window["mean"] is not None
                else f"<td colspan='{len(session.labels)}'></td>"
            )
            parts.append(
                f"<tr><td>{esc(marker.title)}</td><td>{marker.time_s:.2f}</td><td>{esc(face)}</td>"
                f"<td>{window['frames']}</td>{cells}</tr>"
            )
        parts.append("</table>")
    parts.append(
        "<p class='note'>Made by emotiondesk on this computer; nothing in this page loads from a network. "
        "A facial expression is not a felt emotion.</p></body></html>"
    )
    return "\n".join(parts)


def write_report(
    csv_path: Path, out: Path | None = None, window_s: float = 5.0, palette: str = DEFAULT_PALETTE
) -> Path:
    """Write the HTML report (default: beside the CSV, `.html`); never over the CSV itself."""
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise RecordingError(f"{csv_path}: no such file")
    out = Path(out) if out is not None else csv_path.with_suffix(".html")
    if out.resolve() == csv_path.resolve() or out.suffix.lower() in (".csv", ".json"):
        raise RecordingError(f"{out}: refusing to write the report over a session file; give an .html name")
    session = load_recorded(csv_path)
    text = render_report(session, window_s, palette)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as error:
        raise RecordingError(f"{out}: cannot write report ({error.strerror or error})") from None
    return out
