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
    output: str = "softmax",
) -> Path:
    """Mean-pool 48×48 → 6×6, linear layer, softmax; `labels=None` omits the metadata.

    `output="raw"` breaks the probability contract with the right shapes: no softmax, scores scaled to 0–255
    (a model exported without its last layer); `output="sigmoid"` gives values in [0, 1] that do not sum to 1."""
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
    ]
    if output == "softmax":
        nodes.append(helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1))
    elif output == "sigmoid":
        nodes.append(helper.make_node("Sigmoid", ["logits"], ["probabilities"]))
    elif output == "raw":  # min-max to 0–255 per row: like raw pixel-range scores
        nodes += [
            helper.make_node("ReduceMin", ["logits"], ["low"], axes=[1], keepdims=1),
            helper.make_node("ReduceMax", ["logits"], ["high"], axes=[1], keepdims=1),
            helper.make_node("Sub", ["logits", "low"], ["shifted"]),
            helper.make_node("Sub", ["high", "low"], ["range"]),
            helper.make_node("Add", ["range", "tiny"], ["safe_range"]),
            helper.make_node("Div", ["shifted", "safe_range"], ["unit"]),
            helper.make_node("Mul", ["unit", "full"], ["probabilities"]),
        ]
    else:
        raise ValueError(output)
    graph = helper.make_graph(
        nodes,
        "contract_test_model",
        [helper.make_tensor_value_info("gray_48x48", TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", classes])],
        [
            weight,
            scale,
            shape,
            numpy_helper.from_array(np.array([1e-6], np.float32), "tiny"),
            numpy_helper.from_array(np.array([255.0], np.float32), "full"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if labels is not None:
        helper.set_model_props(model, {"labels": json.dumps(labels), "name": "contract-test", "version": "0"})
    onnx.save(model, str(path))
    return Path(path)
