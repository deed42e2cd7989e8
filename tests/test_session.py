"""Session identity, wall-clock time, face names and event markers: the Qt-free core and the CLI."""

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from emotiondesk.cli.main import main
from emotiondesk.metadata import FaceNames, SessionInfo, default_csv_name, wall_time_text
from emotiondesk.sinks.csv_sink import CsvRecorder, load_session, session_summary
from emotiondesk.sinks.markers import (
    MarkerError,
    MarkersSink,
    load_markers,
    markers_path,
    read_marker_lines,
    read_markers_file,
)
from emotiondesk.types import Box, Face, FrameResult

ROOT = Path(__file__).resolve().parent.parent
LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def result_at(index: int, face_ids=(1, 2)) -> FrameResult:
    faces = []
    for face_id in face_ids:
        p = np.eye(7, dtype=np.float32)[face_id % 7]
        faces.append(Face(Box(face_id * 50, 5, 40, 40), 0.9, probabilities=p, smoothed=p, face_id=face_id))
    wall = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    return FrameResult(index, index / 10, 640, 480, faces, LABELS, wall_time=wall)


def test_default_file_name_is_sanitised_and_dated():
    when = datetime(2026, 3, 4, 5, 6, 7)
    assert default_csv_name(SessionInfo("P 01/..", "pilot-1"), when) == "P-01_pilot-1_20260304-050607.csv"
    assert default_csv_name(SessionInfo(), when) == "session_20260304-050607.csv"


def test_default_path_never_reuses_a_recording(tmp_path):
    from emotiondesk.metadata import unused_path

    (tmp_path / "P01_x.csv").write_text("kept")
    (tmp_path / "P01_x-2.csv").write_text("kept")
    assert unused_path(tmp_path, "P01_x.csv") == tmp_path / "P01_x-3.csv"
    assert unused_path(tmp_path, "new.csv") == tmp_path / "new.csv"


def test_wall_time_is_iso_with_milliseconds_and_offset():
    text = wall_time_text(datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc))
    assert text == "2026-01-02T03:04:05.678+00:00"


def test_face_names_merge_and_rename():
    names = FaceNames()
    names.rename(1, "P01")
    names.merge(3, 1)
    assert names.name(3) == "P01" and names.display(2) == "#2" and names.canonical(3) == 1
    names.merge(2, 4)
    assert names.display(2) == "#4"
    assert FaceNames.from_dict(json.loads(json.dumps(names.as_dict()))) == names


def test_csv_carries_session_wall_time_and_names_and_sidecar_the_final_names(tmp_path):
    path = tmp_path / "s.csv"
    names = FaceNames()
    names.rename(1, "P01")
    recorder = CsvRecorder(path, LABELS, {}, info=SessionInfo("P01", "pilot-1", "first try"), names=names)
    recorder.write(result_at(0))
    names.merge(2, 1)
    recorder.set_face_names(names)
    recorder.write(result_at(1))
    recorder.close()
    rows = list(csv.DictReader(path.open()))
    assert [r["face_name"] for r in rows] == ["P01", "", "P01", "P01"]
    assert {r["participant"] for r in rows} == {"P01"} and {r["session"] for r in rows} == {"pilot-1"}
    assert rows[0]["wall_time"] == "2026-01-02T03:04:05.678+00:00"
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["session"] == {"participant": "P01", "session": "pilot-1", "notes": "first try"}
    assert sidecar["face_names"] == {"1": "P01"} and sidecar["face_merges"] == {"2": 1}
    labels, loaded = load_session(path)
    summary = session_summary(labels, loaded, FaceNames.from_dict(sidecar), interval_s=0.1)
    assert list(summary) == [1] and summary[1]["frames"] == 4 and summary[1]["seconds"] == pytest.approx(0.2)


def test_old_csvs_without_the_new_columns_still_load(tmp_path):
    path = tmp_path / "old.csv"
    header = ["time_s", "frame", "face_id", "x", "y", "w", "h", "det_score", "label", "confidence"]
    header += [f"p_{label}" for label in LABELS] + ["smoothed_label"]
    row = ["0.000", "0", "1", "0", "0", "9", "9", "0.9", "happy", "0.9", *(["0.1"] * 7), "happy"]
    path.write_text(",".join(header) + "\n" + ",".join(row) + "\n")
    labels, rows = load_session(path)
    assert labels == LABELS and rows[0]["wall_time"] == "" and rows[0]["face_name"] == ""


def test_time_present_is_frames_times_interval_not_span():
    rows = [{"time_s": t, "frame": int(t * 10), "face_id": 1, "smoothed_label": "happy"} for t in (0.0, 0.1, 9.0, 9.1)]
    summary = session_summary(LABELS, rows)
    assert summary[1]["seconds"] == pytest.approx(0.4) and summary[1]["span_s"] == pytest.approx(9.1)


def test_markers_sink_stamps_typed_and_scheduled_markers(tmp_path):
    sink = MarkersSink(tmp_path / "s_markers.csv", scheduled=[(0.25, 0, "stimulus"), (99.0, 2, "")])
    sink.write(result_at(0))
    read_marker_lines(io.StringIO("3 look left\n\nnote typed\n"), sink.mark).join(2)
    sink.write(result_at(3))  # t = 0.3 reaches the 0.25 s marker
    sink.close()
    rows = list(csv.DictReader((tmp_path / "s_markers.csv").open()))
    assert [r["marker"] for r in rows] == ["3", "0", "0", "2"]
    assert [r["text"] for r in rows] == ["look left", "note typed", "stimulus", ""]
    assert rows[0]["frame"] == "0" and rows[2]["frame"] == "3" and rows[2]["time_s"] == "0.250"
    assert rows[3]["frame"] == "" and rows[2]["wall_time"].endswith("+00:00")
    assert [m.title for m in load_markers(tmp_path / "s_markers.csv")] == ["3 look left", "note typed", "stimulus", "2"]


def test_markers_file_errors_name_the_line(tmp_path):
    bad = tmp_path / "m.csv"
    bad.write_text("time_s,text\n1.0,ok\nsoon,bad\n")
    with pytest.raises(MarkerError, match="line 3"):
        read_markers_file(bad)


def test_cli_session_flags_and_markers_file(tmp_path, clip_three_faces, contract_model):
    markers = tmp_path / "events.csv"
    markers.write_text("time_s,text\n0.5,1 stimulus on\n1.0,look left\n")
    out = tmp_path / "run.csv"
    args = ["analyze", str(clip_three_faces), "--csv", str(out), "--model", str(contract_model), "--quiet"]
    code = main([*args, "--participant", "P01", "--session", "pilot-1", "--notes", "n", "--markers", str(markers)])
    assert code == 0
    rows = list(csv.DictReader(out.open()))
    assert {r["participant"] for r in rows} == {"P01"} and {r["session"] for r in rows} == {"pilot-1"}
    walls = [datetime.fromisoformat(r["wall_time"]) for r in rows]
    assert all(w.tzinfo is not None for w in walls) and walls == sorted(walls)
    written = list(csv.DictReader(markers_path(out).open()))
    assert [(r["time_s"], r["frame"], r["marker"], r["text"]) for r in written] == [
        ("0.500", "8", "1", "stimulus on"),
        ("1.000", "15", "0", "look left"),
    ]
    assert json.loads(out.with_suffix(".json").read_text())["session"]["notes"] == "n"


def test_cli_rejects_bad_markers_in_one_line(tmp_path, clip_three_faces, capsys):
    bad = tmp_path / "m.csv"
    bad.write_text("x,y\nsoon,bad\n")
    out = tmp_path / "run.csv"
    assert main(["analyze", str(clip_three_faces), "--csv", str(out), "--markers", str(bad), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("emotiondesk: error: ") and "line 2" in err and "Traceback" not in err
    assert not out.exists()
    same = markers_path(out)
    same.write_text("1,a\n")
    assert main(["analyze", str(clip_three_faces), "--csv", str(out), "--markers", str(same), "--quiet"]) == 2
    assert same.read_text() == "1,a\n"  # an input is never overwritten


def test_report_is_self_contained_with_markers_names_and_windows(tmp_path, clip_three_faces, contract_model):
    import re

    markers = tmp_path / "events.csv"
    markers.write_text("\ufeff0.2,1 stimulus\n0.9,look <left> for $5\n", encoding="utf-8")
    out = tmp_path / "run.csv"
    args = ["analyze", str(clip_three_faces), "--csv", str(out), "--model", str(contract_model), "--quiet"]
    assert main([*args, "--participant", "P01", "--session", "pilot-1", "--markers", str(markers)]) == 0
    sidecar = json.loads(out.with_suffix(".json").read_text())
    sidecar.update(FaceNames({1: "Alice"}, {3: 1}).as_dict())  # names given afterwards in the window
    out.with_suffix(".json").write_text(json.dumps(sidecar))
    assert main(["report", str(out), "--window", "0.5"]) == 0
    page = out.with_suffix(".html").read_text()
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:)?//", page) and "url(" not in page and "@import" not in page
    assert page.count("data:image/png;base64,") == 2
    assert "Alice (#1)" in page and "#3" not in page and "P01" in page and "pilot-1" in page
    table = page[page.index("class='markers'") :]
    assert "1 stimulus" in table and "look &lt;left&gt; for $5" in table
    assert main(["report", str(out), "--out", str(out)]) == 2  # never over the session CSV


def test_video_source_seeks_before_and_during_iteration(clip_three_faces):
    from emotiondesk.sources import open_source

    with open_source(clip_three_faces) as source:
        source.seek(5)  # before the first read (a file reopened after its end, then sought)
        frames = iter(source)
        assert next(frames).index == 5 and next(frames).index == 6
        source.seek(2)
        assert [next(frames).index for _ in range(2)] == [2, 3]
        source.seek(99)
        assert next(frames, None) is None


def test_report_of_a_missing_csv_is_one_line(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope.csv")]) == 2
    assert capsys.readouterr().err.strip() == f"emotiondesk: error: {tmp_path / 'nope.csv'}: no such file"
