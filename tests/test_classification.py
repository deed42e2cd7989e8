import numpy as np
import pytest
from model_factory import FER_LABELS

from emotiondesk.errors import ModelError
from emotiondesk.stages.classification import EmotionClassifier


def test_contract_model_loads_labels_from_metadata(contract_model):
    classifier = EmotionClassifier(contract_model)
    assert classifier.labels == tuple(FER_LABELS)
    probabilities = classifier.classify(np.random.default_rng(0).uniform(0, 255, (5, 1, 48, 48)).astype(np.float32))
    assert probabilities.shape == (5, 7)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert classifier.calls == 1
    assert classifier.classify(np.zeros((0, 1, 48, 48), np.float32)).shape == (0, 7)
    assert classifier.calls == 1  # no call for a frame without faces


def test_labels_come_from_the_model_not_a_list(make_model):
    labels = ["neutral", "happy", "surprise", "sad", "angry", "disgust", "fear", "contempt"]
    assert EmotionClassifier(make_model(labels=labels)).labels == tuple(labels)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"labels": None}, "no 'labels'"),
        ({"input_shape": ("N", 3, 64, 64)}, r"input must be float32 \[N,1,48,48\]"),
        ({"classes": 5}, "does not match 7 labels"),
    ],
)
def test_contract_violations_are_refused(make_model, kwargs, message):
    path = make_model(**kwargs)
    with pytest.raises(ModelError, match=message) as info:
        EmotionClassifier(path)
    assert str(path) in str(info.value)


def test_corrupt_and_missing_model(tmp_path):
    corrupt = tmp_path / "broken.onnx"
    corrupt.write_bytes(b"\x00\x01 not onnx")
    with pytest.raises(ModelError, match="not a loadable ONNX model"):
        EmotionClassifier(corrupt)
    with pytest.raises(ModelError, match="not found"):
        EmotionClassifier(tmp_path / "missing.onnx")


def test_bundled_model_meets_contract():
    classifier = EmotionClassifier()
    assert classifier.labels == tuple(FER_LABELS)
    assert "version" in classifier.metadata


def test_every_bundled_model_meets_the_contract_and_the_accurate_one_is_a_multi_view_graph():
    from emotiondesk.assets import EMOTION_MODELS

    faces = np.random.default_rng(0).uniform(0, 255, (4, 1, 48, 48)).astype(np.float32)
    for name in EMOTION_MODELS:
        classifier = EmotionClassifier(name)
        probabilities = classifier.classify(faces)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-4)
        assert float(classifier.metadata["validation_accuracy"]) > 0.5, name
        assert classifier.name == classifier.path.stem, name  # the name the window, CSV and sidecar show
    default, accurate = EmotionClassifier("fer2013"), EmotionClassifier("fer2013-accurate")
    # the accurate graph averages several views (its metadata names them) and scores above the default on record
    assert len(accurate.metadata["test_time_views"].replace(";", ",").split(",")) >= 2
    assert float(accurate.metadata["validation_accuracy"]) > float(default.metadata["validation_accuracy"])
    assert not np.allclose(accurate.classify(faces), default.classify(faces), atol=1e-3)
