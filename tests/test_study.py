"""`emotiondesk study`: real `analyze` sessions of generated clips with markers, checked against a recomputation
from the session CSVs made here with the csv module (not the pandas code under test)."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from emotiondesk.cli.main import main
from emotiondesk.samples import face_frame

FPS = 15.0
MARKERS = "0.4,1\n1.0,2 video A\n1.6,3\n"
CONDITIONS = "1=baseline,3=video B"
NAMES = {"1": "baseline", "2 video A": "video A", "3": "video B"}


def write_clip(path: Path, face, faces_per_frame: list[int]) -> Path:
    """A small MJPG clip: frame i shows `faces_per_frame[i]` copies of the face (0 = no face)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (320, 240))
    for step, faces in enumerate(faces_per_frame):
        writer.write(face_frame(face, faces, 320, 240, step))
    writer.release()
    return path


def analyze(clip: Path, csv_path: Path, model: Path, participant: str, markers: Path, session: str = "S1") -> Path:
    args = ["analyze", str(clip), "--csv", str(csv_path), "--model", str(model), "--markers", str(markers)]
    assert main([*args, "--participant", participant, "--session", session, "--quiet"]) == 0
    return csv_path


@pytest.fixture(scope="module")
def study_sessions(tmp_path_factory, face_image, contract_model) -> Path:
    """Three participants analysed for real: P1 two faces throughout, P2 one face that leaves for 1.2 s (a new
    tracker ID on return, merged into the first in the sidecar as the window does), P3 one face; all with the
    same three markers (numbers 1 and 3, and `2 video A`)."""
    root = tmp_path_factory.mktemp("study")
    sessions = root / "sessions"
    sessions.mkdir()
    markers = root / "markers.csv"
    markers.write_text(MARKERS)
    clips = {"P1": [2] * 36, "P2": [1] * 12 + [0] * 18 + [1] * 18, "P3": [1] * 36}
    for participant, faces in clips.items():
        clip = write_clip(root / f"{participant}.avi", face_image, faces)
        analyze(clip, sessions / f"{participant}.csv", contract_model, participant, markers)
    sidecar = sessions / "P2.json"
    data = json.loads(sidecar.read_text())
    ids = sorted({row["face_id"] for row in read_rows(sessions / "P2.csv")})
    assert len(ids) == 2, f"the tracker should give the returning face a new ID: {ids}"
    data["face_merges"] = {str(ids[1]): ids[0]}
    data["face_names"] = {str(ids[0]): "Bea"}
    sidecar.write_text(json.dumps(data))
    return sessions


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def study_rows(path: Path) -> list[dict]:
    return read_rows(path)


def recompute(session_csv: Path, conditions: dict[str, str], window_s: float | None = None) -> dict[tuple, dict]:
    """(participant, face, condition, emotion) → mean_probability, share_labelled, frames, start_s, end_s —
    from the CSV, sidecar and markers CSV alone."""
    rows = read_rows(session_csv)
    side = json.loads(session_csv.with_suffix(".json").read_text())
    marks = read_rows(session_csv.with_name(session_csv.stem + "_markers.csv"))
    labels = [c[2:] for c in rows[0] if c.startswith("p_")]
    merges = {int(k): int(v) for k, v in side.get("face_merges", {}).items()}
    names = {int(k): v for k, v in side.get("face_names", {}).items()}
    end = side["frames"] / side["source"]["fps"]
    starts = [float(m["time_s"]) for m in marks]
    segments = [("(before first marker)", 0.0, starts[0])]
    for i, mark in enumerate(marks):
        key = f"{mark['marker']} {mark['text']}".strip() if mark["text"] else mark["marker"]
        stop = min(starts[i] + window_s, end) if window_s else (starts[i + 1] if i + 1 < len(marks) else end)
        segments.append((conditions.get(key, key), starts[i], stop))
    result: dict[tuple, dict] = {}
    for condition, start, stop in segments:
        inside = [r for r in rows if start - 1e-6 <= float(r["time_s"]) < stop - 1e-6]
        faces: dict[str, list[dict]] = {}
        for row in inside:
            face_id = merges.get(int(row["face_id"]), int(row["face_id"]))
            faces.setdefault(names.get(face_id, str(face_id)), []).append(row)
        for face, face_rows in faces.items():
            for label in labels:
                result[(side["session"]["participant"], face, condition, label)] = {
                    "mean_probability": sum(float(r[f"p_{label}"]) for r in face_rows) / len(face_rows),
                    "share_labelled": sum(r["smoothed_label"] == label for r in face_rows) / len(face_rows),
                    "frames": len({r["frame"] for r in face_rows}),
                    "start_s": start,
                    "end_s": stop,
                }
    return result


def check_against_recomputation(study_csv: Path, expected: dict[tuple, dict]) -> None:
    rows = study_rows(study_csv)
    got = {(r["participant"], r["face"], r["condition"], r["emotion"]): r for r in rows}
    assert len(got) == len(rows), "one row per participant × session × face × condition × emotion"
    assert set(got) == set(expected)
    for key, want in expected.items():
        row = got[key]
        assert float(row["mean_probability"]) == pytest.approx(want["mean_probability"], abs=1e-6), key
        assert float(row["share_labelled"]) == pytest.approx(want["share_labelled"], abs=1e-6), key
        assert int(row["frames"]) == want["frames"], key
        assert float(row["seconds"]) == pytest.approx(want["frames"] / FPS, abs=1e-6), key
        assert float(row["start_s"]) == pytest.approx(want["start_s"], abs=1e-6), key
        assert float(row["end_s"]) == pytest.approx(want["end_s"], abs=1e-6), key


def test_study_csv_matches_a_recomputation_from_the_session_csvs(study_sessions, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["study", str(study_sessions), "--out", str(out), "--conditions", CONDITIONS]) == 0
    header = study_rows(out / "study.csv")[0]
    assert list(header) == [
        "participant", "session", "face", "condition", "emotion", "mean_probability", "share_labelled",
        "seconds", "frames", "start_s", "end_s", "model", "model_version",
    ]  # fmt: skip
    expected: dict[tuple, dict] = {}
    for participant in ("P1", "P2", "P3"):
        expected.update(recompute(study_sessions / f"{participant}.csv", NAMES))
    check_against_recomputation(out / "study.csv", expected)
    rows = study_rows(out / "study.csv")
    assert {r["condition"] for r in rows} == {"(before first marker)", "baseline", "video A", "video B"}
    assert {(r["model"], r["model_version"]) for r in rows} == {("contract-test", "0")}
    # merged IDs count as one face, under the name the sidecar gives it
    assert {r["face"] for r in rows if r["participant"] == "P2"} == {"Bea"}
    assert len({r["face"] for r in rows if r["participant"] == "P1"}) == 2
    record = json.loads((out / "study.json").read_text())
    assert [Path(s["csv"]).name for s in record["sessions"]] == ["P1.csv", "P2.csv", "P3.csv"]
    printed = capsys.readouterr()
    assert "3 sessions, 3 participants, 4 conditions" in printed.out
    assert "P2.csv: face found" in printed.err  # 30 of 48 frames: flagged


def test_window_takes_seconds_after_each_marker(study_sessions, tmp_path):
    out = tmp_path / "out"
    assert main(["study", str(study_sessions / "P1.csv"), "--out", str(out), "--window", "0.3", "--quiet"]) == 0
    names = {"1": "1", "2 video A": "video A", "3": "3"}
    check_against_recomputation(out / "study.csv", recompute(study_sessions / "P1.csv", names, window_s=0.3))


def test_baseline_subtracts_each_participants_own_baseline(study_sessions, tmp_path):
    out = tmp_path / "out"
    args = ["study", str(study_sessions), "--out", str(out), "--conditions", CONDITIONS, "--baseline", "baseline"]
    assert main([*args, "--quiet"]) == 0
    rows = study_rows(out / "study.csv")
    for participant in ("P1", "P2", "P3"):
        mine = [r for r in rows if r["participant"] == participant]
        source = read_rows(study_sessions / f"{participant}.csv")
        base = [r for r in source if 0.4 - 1e-6 <= float(r["time_s"]) < 1.0 - 1e-6]  # all faces pooled
        for row in mine:
            own = sum(float(r[f"p_{row['emotion']}"]) for r in base) / len(base)
            diff = float(row["mean_probability"]) - own
            assert float(row["mean_probability_minus_baseline"]) == pytest.approx(diff, abs=2e-6)
            labelled = sum(r["smoothed_label"] == row["emotion"] for r in base) / len(base)
            want = float(row["share_labelled"]) - labelled
            assert float(row["share_labelled_minus_baseline"]) == pytest.approx(want, abs=2e-6)
    assert main(["study", str(study_sessions), "--out", str(tmp_path / "x"), "--baseline", "rest", "--quiet"]) == 2


def test_mixed_models_are_refused_or_kept_apart(study_sessions, tmp_path, face_image, make_model, capsys):
    other = tmp_path / "other"
    other.mkdir()
    markers = tmp_path / "markers.csv"
    markers.write_text(MARKERS)
    model = make_model(labels=["angry", "happy", "sad", "neutral"])
    analyze(write_clip(tmp_path / "p4.avi", face_image, [1] * 30), other / "P4.csv", model, "P4", markers)
    out = tmp_path / "out"
    assert main(["study", str(study_sessions), str(other), "--out", str(out), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert "different models or label sets" in error and "--by-model" in error and len(error.splitlines()) == 1
    assert not out.exists()
    assert main(["study", str(study_sessions), str(other), "--out", str(out), "--by-model", "--quiet"]) == 0
    rows = study_rows(out / "study.csv")
    assert {r["emotion"] for r in rows if r["participant"] == "P4"} == {"angry", "happy", "sad", "neutral"}
    page = (out / "study.html").read_text()
    assert "never averaged together" in page and page.count("Per-condition means —") == 2


def test_outputs_are_checked_before_any_work(study_sessions, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "study.html").write_text("mine")
    assert main(["study", str(study_sessions), "--out", str(out), "--quiet"]) == 2
    assert "exists already" in capsys.readouterr().err
    assert (out / "study.html").read_text() == "mine" and not (out / "study.csv").exists()
    assert main(["study", str(study_sessions), "--out", str(out), "--quiet", "--overwrite"]) == 0
    assert (out / "study.html").read_text().startswith("<!DOCTYPE html>")
    # a session CSV called study.csv is never written over, --overwrite or not
    folder = tmp_path / "named"
    folder.mkdir()
    for suffix in (".csv", ".json"):
        shutil.copy(study_sessions / f"P1{suffix}", folder / f"study{suffix}")
    shutil.copy(study_sessions / "P1_markers.csv", folder / "study_markers.csv")
    before = (folder / "study.csv").read_bytes()
    assert main(["study", str(folder / "study.csv"), "--out", str(folder), "--overwrite", "--quiet"]) == 2
    assert "is the input" in capsys.readouterr().err and (folder / "study.csv").read_bytes() == before
    assert main(["study", str(tmp_path / "missing"), "--out", str(tmp_path / "o"), "--quiet"]) == 2


def test_batch_folders_and_the_quality_flags(study_sessions, tmp_path):
    """A batch output folder is read through its index; interrupted/error runs and face found < 80 % flagged."""
    from emotiondesk.analysis.study import build_study

    batch = tmp_path / "batch"
    batch.mkdir()
    for name in ("P1", "P3"):
        for suffix in (".csv", ".json", "_markers.csv"):
            shutil.copy(study_sessions / f"{name}{suffix}", batch / f"{name}{suffix}")
    (batch / "stray.csv").write_text("a,b\n1,2\n")  # not listed in the index, not read
    (batch / "index.csv").write_text("path,status,reason,csv\n/x/P1.avi,done,,P1.csv\n/x/P3.avi,done,,P3.csv\n")
    side = json.loads((batch / "P3.json").read_text())
    side.update(status="interrupted", finished=False, interrupted=True)
    (batch / "P3.json").write_text(json.dumps(side))
    study = build_study([batch, study_sessions / "P2.csv"])
    quality = study.quality.set_index("participant")
    assert list(quality.index) == ["P1", "P3", "P2"]
    assert quality.loc["P1", "flags"] == "" and quality.loc["P1", "face_found"] == 1.0
    assert quality.loc["P3", "flags"] == "run interrupted"
    assert (
        quality.loc["P2", "face_found"] == pytest.approx(30 / 48)
        and "face found 62% < 80%" in quality.loc["P2", "flags"]
    )
    assert quality.loc["P2", "ids_merged"] == 1 and quality.loc["P2", "faces"] == 1


def test_rows_for_frames_without_a_face_count_for_presence_only(study_sessions, tmp_path):
    """The coming CSV keeps frames without a face (empty face columns, `face_found` 0): same means, same face
    found %, as today's CSV that leaves those frames out."""
    import emotiondesk
    from emotiondesk.analysis.study import build_study

    rows = read_rows(study_sessions / "P2.csv")
    columns = list(rows[0])
    seen = {int(r["frame"]) for r in rows}
    folder = tmp_path / "new"
    folder.mkdir()
    with open(folder / "P2.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, [*columns[:3], "face_found", *columns[3:]])
        writer.writeheader()
        for frame in range(48):
            if frame not in seen:
                writer.writerow({"time_s": f"{frame / FPS:.3f}", "frame": frame, "face_found": 0, "participant": "P2"})
            writer.writerows({**r, "face_found": 1} for r in rows if int(r["frame"]) == frame)
    for suffix in (".json", "_markers.csv"):
        shutil.copy(study_sessions / f"P2{suffix}", folder / f"P2{suffix}")
    table = emotiondesk.read_session(folder / "P2.csv")
    assert table["face_id"].isna().sum() == 18 and table.attrs["keeps_empty_frames"]
    old, new = build_study([study_sessions / "P2.csv"]), build_study([folder / "P2.csv"])
    assert new.quality.loc[0, "face_found"] == pytest.approx(old.quality.loc[0, "face_found"])
    assert new.table.drop(columns="session").equals(old.table.drop(columns="session"))


def test_python_api(study_sessions):
    import emotiondesk

    table = emotiondesk.read_session(study_sessions / "P2.csv")
    assert table.attrs["sidecar"]["session"]["participant"] == "P2"
    assert table.attrs["labels"] == ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    assert [m["text"] for m in table.attrs["markers"]] == ["", "video A", ""]
    assert set(table["face"]) == {"Bea"} and table["face_key"].nunique() == 1 and table["face_id"].nunique() == 2
    tidy = emotiondesk.read_study(study_sessions, conditions=CONDITIONS)
    assert tidy.equals(emotiondesk.read_study([study_sessions / f"P{i}.csv" for i in (1, 2, 3)], CONDITIONS))
    assert set(tidy["participant"]) == {"P1", "P2", "P3"}
    code = "import sys, emotiondesk; assert 'pandas' not in sys.modules; print(emotiondesk.read_study.__name__)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "read_study", result.stderr


def test_page_has_means_with_cis_timelines_and_quality(study_sessions, tmp_path):
    from emotiondesk.analysis.study import build_study

    out = tmp_path / "out"
    args = ["study", str(study_sessions), "--out", str(out), "--conditions", CONDITIONS, "--baseline", "baseline"]
    assert main([*args, "--quiet"]) == 0
    page = (out / "study.html").read_text()
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "95 % percentile bootstrap" in page and page.count("<h3>") == 3  # one timeline per participant
    assert "⚠ face found 62% &lt; 80%" in page and "minus baseline" in page
    means = build_study([study_sessions], CONDITIONS).condition_means()
    fear = means[(means["condition"] == "baseline") & (means["emotion"] == "fear")].iloc[0]
    assert fear["n"] == 3 and fear["ci_low"] <= fear["mean"] <= fear["ci_high"]
    assert f"{fear['mean']:.3f}" in page
    # P2's face was away during `video A` (frames 12-29): two participants count there, not three
    assert set(means.loc[means["condition"] == "video A", "n"]) == {2}


def test_sessions_without_markers_or_faces(tmp_path, face_image, contract_model, capsys):
    """No markers: the whole session is `(before first marker)`; no face at all: no rows, a 0 % flag."""
    folder = tmp_path / "sessions"
    for name, faces in (("nobody", [0] * 8), ("nomarks", [1] * 8)):
        clip = write_clip(tmp_path / f"{name}.avi", face_image, faces)
        args = ["analyze", str(clip), "--csv", str(folder / f"{name}.csv"), "--model", str(contract_model)]
        assert main([*args, "--participant", name, "--quiet"]) == 0
    out = tmp_path / "out"
    assert main(["study", str(folder), "--out", str(out), "--quiet"]) == 0
    rows = study_rows(out / "study.csv")
    assert {(r["participant"], r["condition"]) for r in rows} == {("nomarks", "(before first marker)")}
    assert {int(r["frames"]) for r in rows} == {8} and all(float(r["end_s"]) == pytest.approx(8 / FPS) for r in rows)
    err = capsys.readouterr().err
    assert "nobody.csv: face found 0% < 80%; no markers" in err and "nomarks.csv: no markers" in err
    assert main(["study", str(folder / "nobody.csv"), "--out", str(tmp_path / "o2"), "--quiet"]) == 0
    assert "No face was found" in (tmp_path / "o2" / "study.html").read_text()


def test_bootstrap_interval():
    """The percentile bootstrap of the mean: exact where it can be worked out by hand, none for one value."""
    import numpy as np

    from emotiondesk.analysis.study import bootstrap_ci

    assert bootstrap_ci([0.0, 1.0]) == (0.0, 1.0)  # resampled means are 0, 0.5 or 1 (1/4, 1/2, 1/4)
    assert bootstrap_ci([0.3] * 6) == pytest.approx((0.3, 0.3))
    assert all(np.isnan(bootstrap_ci([0.4])))
    values = np.random.default_rng(1).normal(0.5, 0.1, 40)
    low, high = bootstrap_ci(values)
    half = 1.96 * values.std(ddof=1) / np.sqrt(len(values))  # large n: close to the normal interval
    assert low == pytest.approx(values.mean() - half, abs=0.01) and high == pytest.approx(
        values.mean() + half, abs=0.01
    )


def test_a_bad_session_csv_is_named_in_one_line(study_sessions, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text((study_sessions / "P1.csv").read_text().replace(",0.", ",zero.", 1))
    assert main(["study", str(bad), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"emotiondesk: error: {bad}: cannot read session (column ") and len(error.splitlines()) == 1
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")
    assert main(["study", str(tmp_path / "notes.csv"), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert "not an emotiondesk session CSV" in capsys.readouterr().err
