"""Issue 17, findings 5–8: the model contract probe, image folders traced per image, every analysed frame in the
CSV (OpenFace's `success` as `face_found`), and a sidecar that identifies its source file."""

import csv
import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from emotiondesk.cli.main import main
from emotiondesk.errors import ModelError


def read_rows(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


# --- finding 5: a model with the right shapes but no softmax was accepted -----------------------------------------
@pytest.mark.parametrize("output", ["raw", "sigmoid"])
def test_a_model_whose_outputs_are_not_probabilities_is_refused_at_load(make_model, output, clip_one_face, capsys):
    from emotiondesk.stages.classification import EmotionClassifier

    model = make_model(output=output)
    with pytest.raises(ModelError, match="outputs are not probabilities") as caught:
        EmotionClassifier(model)
    assert str(model) in str(caught.value)
    assert main(["analyze", str(clip_one_face), "--model", str(model), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert f"emotiondesk: error: {model}: outputs are not probabilities" in error


def test_bundled_and_contract_models_pass_the_probe(contract_model):
    from emotiondesk.stages.classification import EmotionClassifier

    for model in (str(contract_model), "fer2013", "ferplus"):
        assert EmotionClassifier(model).calls == 0  # the probe is not counted as a frame's call


# --- findings 6 and 7: image folders and frames without a face ----------------------------------------------------
@pytest.fixture()
def image_folder(tmp_path, face_image) -> Path:
    """Three stills of different sizes: two faces, no face (a blank wall), one face."""
    from emotiondesk.samples import face_frame

    folder = tmp_path / "stills"
    folder.mkdir()
    cv2.imwrite(str(folder / "a_two.png"), face_frame(face_image, 2))
    cv2.imwrite(str(folder / "b_blank.png"), np.full((300, 200, 3), 180, np.uint8))
    cv2.imwrite(str(folder / "c_one.jpg"), cv2.resize(face_image, (250, 300)))
    return folder


def test_image_folder_rows_name_their_image_and_a_face_less_image_has_its_row(tmp_path, image_folder, contract_model):
    out = tmp_path / "stills.csv"
    assert main(["analyze", str(image_folder), "--csv", str(out), "--model", str(contract_model), "--quiet"]) == 0
    rows = read_rows(out)
    by_file = {}
    for row in rows:
        by_file.setdefault(row["source_file"], []).append(row)
    assert set(by_file) == {"a_two.png", "b_blank.png", "c_one.jpg"}
    blank = by_file["b_blank.png"]
    assert len(blank) == 1 and blank[0]["face_found"] == "0" and blank[0]["frame"] == "1"
    assert blank[0]["face_id"] == blank[0]["label"] == blank[0]["p_happy"] == blank[0]["x"] == ""
    assert {r["face_found"] for r in by_file["a_two.png"] + by_file["c_one.jpg"]} == {"1"}
    assert sorted(r["face_id"] for r in by_file["a_two.png"]) == ["1", "2"]
    assert [r["face_id"] for r in by_file["c_one.jpg"]] == ["1"]  # each image starts fresh: no tracking across
    header = next(csv.reader(out.open()))
    assert header.index("face_found") > header.index("face_name") and header[-1] == "source_file"


def test_report_of_an_image_folder_lists_each_image_with_no_time_present(tmp_path, image_folder, contract_model):
    from emotiondesk.analysis.recorded import load_recorded

    out = tmp_path / "stills.csv"
    assert main(["analyze", str(image_folder), "--csv", str(out), "--model", str(contract_model), "--quiet"]) == 0
    session = load_recorded(out)
    titles = sorted(session.face_title(item) for item in session.summary)
    assert titles == ["a_two.png #1", "a_two.png #2", "c_one.jpg #1"]  # no "#1" joined across images
    assert all(shares["seconds"] is None for shares in session.summary.values())
    assert session.images_without_face() == ["b_blank.png"] and session.frames_analysed == 3
    assert main(["report", str(out)]) == 0
    page = out.with_suffix(".html").read_text()
    assert (
        "c_one.jpg #1" in page and "b_blank.png — no face found" in page and "3 images (a face in 2, none in 1)" in page
    )
    assert "<td>8.0</td>" not in page and "no timeline" in page


def test_annotated_stills_keep_their_aspect_ratio(tmp_path, image_folder, contract_model):
    video = tmp_path / "stills.mp4"
    arguments = ["analyze", str(image_folder), "--annotated", str(video), "--model", str(contract_model), "--quiet"]
    assert main(arguments) == 0
    capture = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    assert len(frames) == 3
    first = cv2.imread(str(image_folder / "a_two.png"))
    assert frames[0].shape[:2] == first.shape[:2]
    # the 200×300 blank still, letterboxed into the first image's frame: black bars left and right, not stretched
    blank = frames[1]
    height, width = blank.shape[:2]
    scale = min(width / 200, height / 300)
    bar = (width - round(200 * scale)) // 2
    assert bar > 10
    assert blank[:, : bar - 4].mean() < 10 and blank[:, -(bar - 4) :].mean() < 10
    assert abs(float(blank[height // 2, width // 2].mean()) - 180) < 15


def test_a_video_frame_without_a_face_is_one_row_and_summaries_leave_it_out(tmp_path, face_image, contract_model):
    from emotiondesk.analysis.recorded import load_recorded
    from emotiondesk.samples import face_frame

    clip = tmp_path / "gap.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (640, 480))
    with_face = cv2.resize(face_frame(face_image, 1), (640, 480))
    wall = np.full((480, 640, 3), 120, np.uint8)
    for image in [with_face] * 4 + [wall] * 3 + [with_face] * 3:
        writer.write(image)
    writer.release()
    out = tmp_path / "gap.csv"
    assert main(["analyze", str(clip), "--csv", str(out), "--model", str(contract_model), "--quiet"]) == 0
    rows = read_rows(out)
    assert sorted({int(r["frame"]) for r in rows}) == list(range(10))  # every analysed frame is visible
    empty = [r for r in rows if r["face_found"] == "0"]
    assert [int(r["frame"]) for r in empty] == [4, 5, 6]
    assert all(r["face_id"] == "" and r["smoothed_label"] == "" and r["time_s"] for r in empty)
    session = load_recorded(out)
    assert session.frames_analysed == 10 and session.frames_with_face == 7
    assert all(row["face_id"] is not None for row in session.rows) and len(session.rows) == 7
    (only,) = session.summary.values()
    assert only["frames"] == 7 and abs(sum(only[label] for label in session.labels) - 1) < 1e-9
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["frames_without_face"] == 3 and sidecar["rows"] == 10
    assert main(["report", str(out)]) == 0
    assert "10 frames (a face in 7, none in 3)" in out.with_suffix(".html").read_text()


# --- finding 8: the sidecar identifies the source -------------------------------------------------------------------
def test_the_sidecar_records_the_sources_absolute_path_size_time_and_hash(
    tmp_path, clip_one_face, contract_model, monkeypatch
):
    monkeypatch.chdir(clip_one_face.parent)
    out = tmp_path / "id.csv"
    assert main(["analyze", clip_one_face.name, "--csv", str(out), "--model", str(contract_model), "--quiet"]) == 0
    source = json.loads(out.with_suffix(".json").read_text())["source"]
    assert source["spec"] == clip_one_face.name  # as typed, and beside it what identifies the file
    assert source["path"] == str(clip_one_face.resolve())
    assert source["size_bytes"] == clip_one_face.stat().st_size
    assert source["sha256"] == hashlib.sha256(clip_one_face.read_bytes()).hexdigest()
    assert source["modified"].startswith(str(__import__("datetime").date.fromtimestamp(clip_one_face.stat().st_mtime)))
    assert source["hash"] == "sha256 of the whole file"


def test_an_image_folders_identity_changes_when_an_image_does(tmp_path, image_folder):
    from emotiondesk.sources import file_identity

    first = file_identity(image_folder)
    assert first["images"] == 3 and first["path"] == str(image_folder.resolve())
    (image_folder / "c_one.jpg").write_bytes((image_folder / "a_two.png").read_bytes())
    assert file_identity(image_folder)["sha256"] != first["sha256"]


def test_the_windows_summary_counts_face_less_frames_for_presence_only(
    qtbot, tmp_path, face_image, image_folder, contract_model
):
    pytest.importorskip("PySide6")
    from emotiondesk._qt.summary import SessionSummaryDialog
    from emotiondesk.samples import face_frame

    clip = tmp_path / "gap.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (640, 480))
    for image in [cv2.resize(face_frame(face_image, 1), (640, 480))] * 3 + [np.full((480, 640, 3), 90, np.uint8)] * 2:
        writer.write(image)
    writer.release()
    video_csv, stills_csv = tmp_path / "gap.csv", tmp_path / "stills.csv"
    for source, out in ((clip, video_csv), (image_folder, stills_csv)):
        assert main(["analyze", str(source), "--csv", str(out), "--model", str(contract_model), "--quiet"]) == 0
    dialog = SessionSummaryDialog(video_csv)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 1 and dialog.table.item(0, 1).text() == "0.3"
    assert "5 frames (a face in 3, none in 2)" in dialog.heading.text()
    stills = SessionSummaryDialog(stills_csv)
    qtbot.addWidget(stills)
    table = stills.table
    assert [table.item(row, 0).text() for row in range(table.rowCount())] == [
        "a_two.png #1",
        "a_two.png #2",
        "c_one.jpg #1",
    ]
    assert {table.item(row, 1).text() for row in range(table.rowCount())} == {"—"}
    assert "3 images (a face in 2, none in 1)" in stills.heading.text() and " over " not in stills.heading.text()
    assert len(dialog.figure.axes) == 2 and len(stills.figure.axes) == 1  # stills: no timeline, the distribution
    for shown in (dialog, stills):  # deleted here, not by a garbage collection during a later test
        shown.close()
        shown.deleteLater()
    qtbot.wait(20)
