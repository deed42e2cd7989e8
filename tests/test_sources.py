import cv2
import numpy as np
import pytest

from emotiondesk.errors import SourceError
from emotiondesk.sources import CameraSource, ImageSource, VideoSource, open_source, to_bgr


def test_video_source_yields_all_frames_with_timestamps(clip_three_faces):
    with open_source(clip_three_faces) as source:
        frames = list(source)
    assert isinstance(source, VideoSource)
    assert len(frames) == 20
    assert frames[0].image.shape == (480, 640, 3)
    times = [f.time_s for f in frames]
    assert times == sorted(times) and times[1] == pytest.approx(1 / 15, abs=1e-3)


def test_image_and_folder_sources(tmp_path, still_three_faces):
    single = open_source(still_three_faces)
    assert isinstance(single, ImageSource) and len(list(single)) == 1
    for name in ("b.png", "a.jpg"):
        cv2.imwrite(str(tmp_path / name), np.zeros((20, 30), np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    folder = list(open_source(tmp_path))
    assert [f.index for f in folder] == [0, 1]
    assert folder[0].image.shape == (20, 30, 3)  # gray files come out BGR


def test_missing_camera_gives_clear_error():
    with pytest.raises(SourceError, match=r"camera 0: cannot be opened"):
        open_source("0")
    with pytest.raises(SourceError, match=r"camera 7"):
        CameraSource(7)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "file is empty"),
        (b"this is not a video at all" * 10, "not a readable video"),
    ],
)
def test_bad_video_files(tmp_path, content, message):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=message) as info:
        open_source(path)
    assert str(path) in str(info.value)


def test_truncated_video_is_refused_or_ends_cleanly(tmp_path, clip_one_face):
    data = clip_one_face.read_bytes()
    path = tmp_path / "cut.avi"
    path.write_bytes(data[: len(data) // 2])
    try:
        frames = list(open_source(path))
    except SourceError as error:
        assert str(path) in str(error)
    else:
        assert 0 < len(frames) < 12


def test_corrupt_image_and_missing_path(tmp_path):
    bad = tmp_path / "photo.png"
    bad.write_bytes(b"\x89PNG garbage")
    with pytest.raises(SourceError, match="not a readable image"):
        open_source(bad)
    with pytest.raises(SourceError, match="no such file"):
        open_source(tmp_path / "nope.mp4")
    empty = tmp_path / "empty_dir"
    empty.mkdir()
    with pytest.raises(SourceError, match="folder has no images"):
        open_source(empty)


@pytest.mark.parametrize("shape", [(10, 12), (10, 12, 1), (10, 12, 3), (10, 12, 4)])
def test_to_bgr_accepts_gray_bgr_bgra(shape):
    out = to_bgr(np.full(shape, 7, np.uint8))
    assert out.shape == (10, 12, 3) and out.flags["C_CONTIGUOUS"]
