"""Emotion classification with onnxruntime: all faces of a frame in one call."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from emotiondesk.assets import emotion_model_path
from emotiondesk.errors import ModelError

CROP_SIZE = 48


class EmotionClassifier:
    """Loads an ONNX model that meets the contract and classifies [N,1,48,48] raw 0–255 gray crops.

    Contract: one float32 input [N,1,48,48] (N dynamic), one output [N,C] of probabilities, and
    metadata `labels` = JSON list of the C class names in output order.
    """

    def __init__(self, model: str | Path | None = None, threads: int = 1) -> None:
        import onnxruntime as ort

        self.path = emotion_model_path(model)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own exception types for corrupt files
            first_line = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
            raise ModelError(f"{self.path}: not a loadable ONNX model ({first_line})") from None
        self.metadata = dict(self.session.get_modelmeta().custom_metadata_map)
        self.labels = self._check_contract()
        self.input_name = self.session.get_inputs()[0].name
        self.calls = 0

    def _check_contract(self) -> tuple[str, ...]:
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ModelError(f"{self.path}: expected one input and one output, found {len(inputs)} and {len(outputs)}")
        shape = list(inputs[0].shape)
        if len(shape) != 4 or shape[1:] != [1, CROP_SIZE, CROP_SIZE] or inputs[0].type != "tensor(float)":
            raise ModelError(f"{self.path}: input must be float32 [N,1,48,48], found {inputs[0].type} {shape}")
        if "labels" not in self.metadata:
            raise ModelError(f"{self.path}: metadata has no 'labels' (JSON list of class names)")
        try:
            labels = json.loads(self.metadata["labels"])
        except json.JSONDecodeError:
            raise ModelError(f"{self.path}: metadata 'labels' is not valid JSON") from None
        if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels):
            raise ModelError(f"{self.path}: metadata 'labels' must be a non-empty JSON list of names")
        out_shape = list(outputs[0].shape)
        if len(out_shape) != 2 or (isinstance(out_shape[1], int) and out_shape[1] != len(labels)):
            raise ModelError(f"{self.path}: output {out_shape} does not match {len(labels)} labels")
        return tuple(labels)

    @property
    def name(self) -> str:
        return self.metadata.get("name", self.path.stem)

    def classify(self, crops: np.ndarray) -> np.ndarray:
        """[N,1,48,48] float32 → [N,C] probabilities, in a single onnxruntime call."""
        if len(crops) == 0:
            return np.zeros((0, len(self.labels)), np.float32)
        self.calls += 1
        try:
            (probabilities,) = self.session.run(None, {self.input_name: crops.astype(np.float32, copy=False)})
        except Exception as error:
            raise ModelError(f"{self.path}: inference failed ({str(error).strip()[:200]})") from None
        if probabilities.shape != (len(crops), len(self.labels)):
            raise ModelError(f"{self.path}: returned shape {probabilities.shape} for {len(crops)} faces")
        return probabilities
