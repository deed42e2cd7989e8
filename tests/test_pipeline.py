"""`Pipeline.stream` (detection one frame ahead, in the detector's own thread) against `Pipeline.process`."""

import threading

import numpy as np
import pytest

from emotiondesk.errors import ModelError, SourceError
from emotiondesk.pipeline import Pipeline, PipelineConfig
from emotiondesk.samples import face_frame
from emotiondesk.stages.detection import DetectorThread
from emotiondesk.types import Frame


@pytest.fixture(scope="module")
def frames(face_image):
    images = [face_frame(face_image, 3, step=step) for step in range(8)]
    images[3] = np.zeros((0, 0, 3), np.uint8)  # an empty frame (source hiccup) in the middle
    return [Frame(index, index / 15, image) for index, image in enumerate(images)]


def summary(result):
    return [(face.face_id, face.box, np.round(face.probabilities, 5).tolist()) for face in result.faces]


def test_stream_gives_the_same_results_in_order(frames, contract_model):
    config = PipelineConfig(model=str(contract_model))
    with Pipeline(config) as one_by_one, Pipeline(config) as streamed:
        expected = [summary(one_by_one.process(frame)) for frame in frames]
        pairs = list(streamed.stream(frames))
    assert [frame.index for frame, _ in pairs] == [result.index for _, result in pairs] == list(range(len(frames)))
    assert [summary(result) for _, result in pairs] == expected
    assert expected[0] and not expected[3]


def test_stopping_a_stream_early_leaves_the_pipeline_in_step(frames, contract_model):
    with Pipeline(PipelineConfig(model=str(contract_model), video=False)) as pipeline:
        for frame, _result in pipeline.stream(frames):
            if frame.index == 1:
                break  # frame 2 is already being detected: it must be dropped, not handed to the next call
        lone = Frame(0, 0.0, np.full((480, 640, 3), 90, np.uint8))  # no face
        assert pipeline.process(lone).faces == []
        assert len(pipeline.process(frames[0]).faces) == 3


def test_a_failing_source_still_delivers_the_frame_already_read(frames, contract_model):
    def failing():
        yield from frames[:3]
        raise SourceError("camera 0: stopped delivering frames")

    delivered = []
    with Pipeline(PipelineConfig(model=str(contract_model))) as pipeline, pytest.raises(SourceError):
        for frame, _ in pipeline.stream(failing()):
            delivered.append(frame.index)
    assert delivered == [0, 1, 2]


def test_detector_lives_in_its_own_thread_and_reports_load_errors(tmp_path, face_image):
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="broken.tflite"):
        DetectorThread(broken)
    before = {thread.name for thread in threading.enumerate()}
    detector = DetectorThread("short", video=False)
    assert "emotiondesk-detector" in {thread.name for thread in threading.enumerate()} - before
    assert len(detector.detect(face_frame(face_image, 1))) == 1
    detector.close()
    assert "emotiondesk-detector" not in {thread.name for thread in threading.enumerate()}
