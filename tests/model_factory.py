"""Tiny random-weight ONNX models that meet (or deliberately break) the model contract — no torch needed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FER_LABELS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


def write_contract_model(
    path: Path,
    labels: list[str] | None = FER_LABELS,
    input_shape=("N", 1, 48, 48),
    classes: int | None = None,
    seed: int = 0,
) -> Path:
    """Mean-pool 48×48 → 6×6, linear layer, softmax; `labels=None` omits the metadata."""
    rng = np.random.default_rng(seed)
    classes = classes or len(labels or FER_LABELS)
    weight = numpy_helper.from_array(rng.normal(0, 0.05, (36, classes)).astype(np.float32), "W")
    scale = numpy_helper.from_array(np.array([1 / 255.0], np.float32), "scale")
    shape = numpy_helper.from_array(np.array([-1, 36], np.int64), "shape")
    nodes = [
        helper.make_node("Mul", ["gray_48x48", "scale"], ["scaled"]),
        helper.make_node("AveragePool", ["scaled"], ["pooled"], kernel_shape=[8, 8], strides=[8, 8]),
        helper.make_node("Reshape", ["pooled", "shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "W"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "contract_test_model",
        [helper.make_tensor_value_info("gray_48x48", TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", classes])],
        [weight, scale, shape],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if labels is not None:
        helper.set_model_props(model, {"labels": json.dumps(labels), "name": "contract-test", "version": "0"})
    onnx.save(model, str(path))
    return Path(path)
