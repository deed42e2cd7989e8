"""Rebuild a trainable checkpoint from a shipped ONNX model (no checkpoints are kept in the repository).

The exporter folds every BatchNorm into the convolution before it, so the ONNX holds fused weights W and
biases b. The rebuilt net takes W as its convolution and gives the BatchNorm after it the running statistics
(mean m, variance v) of the convolution's output on training faces, with γ = √(v + ε) and β = b + m: in eval
mode that is exactly the shipped function, and in training mode (batch statistics ≈ m, v) nearly so, so
fine-tuning starts from the shipped model rather than from its folded, un-normalised form.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from training.graph import EmotionNet
from training.models import build_model


def _fused_parameters(
    onnx_path: Path,
) -> tuple[list[tuple[np.ndarray, np.ndarray]], tuple[np.ndarray, np.ndarray], dict]:
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(str(onnx_path))
    tensors = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    convs, head = [], None
    for node in proto.graph.node:
        if node.op_type == "Conv":
            weight = tensors[node.input[1]]
            bias = tensors[node.input[2]] if len(node.input) > 2 else np.zeros(weight.shape[0], np.float32)
            convs.append((weight, bias))
        elif node.op_type == "Gemm":
            head = (tensors[node.input[1]], tensors[node.input[2]])
    metadata = {p.key: p.value for p in proto.metadata_props}
    if head is None:
        raise ValueError(f"{onnx_path}: no Gemm (classifier) node")
    return convs, head, metadata


def conv_bn_pairs(net: nn.Module) -> list[tuple[nn.Conv2d, nn.BatchNorm2d]]:
    modules = list(net.modules())
    pairs = []
    for index, module in enumerate(modules):
        if isinstance(module, nn.Conv2d):
            following = next(m for m in modules[index + 1 :] if isinstance(m, nn.BatchNorm2d | nn.Conv2d))
            if not isinstance(following, nn.BatchNorm2d):
                raise ValueError("every convolution must be followed by a BatchNorm to rebuild it")
            pairs.append((module, following))
    return pairs


@torch.no_grad()
def rebuild_from_onnx(onnx_path: Path, calibration: np.ndarray, batch_size: int = 256) -> tuple[EmotionNet, dict]:
    """An EmotionNet equal to the ONNX model (single view), BatchNorm statistics from `calibration` faces."""
    convs, (head_weight, head_bias), metadata = _fused_parameters(onnx_path)
    labels = json.loads(metadata["labels"])
    model = EmotionNet(build_model(metadata["architecture"], len(labels))).eval()
    pairs = conv_bn_pairs(model.net)
    if len(pairs) != len(convs):
        raise ValueError(f"{onnx_path}: {len(convs)} convolutions in the graph, {len(pairs)} in the architecture")
    for (conv, bn), (weight, bias) in zip(pairs, convs):
        if tuple(conv.weight.shape) != weight.shape:
            raise ValueError(f"shape mismatch {tuple(conv.weight.shape)} vs {weight.shape}")
        conv.weight.copy_(torch.from_numpy(weight.copy()))
        bn.running_mean.zero_()
        bn.running_var.fill_(1 - bn.eps)
        bn.weight.fill_(1.0)
        bn.bias.copy_(torch.from_numpy(bias.copy()))
    linear = [m for m in model.net.modules() if isinstance(m, nn.Linear)][-1]
    linear.weight.copy_(torch.from_numpy(head_weight.copy()))
    linear.bias.copy_(torch.from_numpy(head_bias.copy()))
    # statistics of each convolution's own output (bias-free), in the (unchanged) eval-mode function
    sums = {id(conv): [0.0, 0.0, 0] for conv, _ in pairs}

    def hook(module, _inputs, output):
        channels = output.transpose(0, 1).reshape(output.shape[1], -1).double()
        entry = sums[id(module)]
        entry[0] = entry[0] + channels.sum(1)
        entry[1] = entry[1] + (channels**2).sum(1)
        entry[2] += channels.shape[1]

    handles = [conv.register_forward_hook(hook) for conv, _ in pairs]
    for start in range(0, len(calibration), batch_size):
        model(torch.from_numpy(calibration[start : start + batch_size]).float().unsqueeze(1))
    for handle in handles:
        handle.remove()
    for conv, bn in pairs:
        total, squares, count = sums[id(conv)]
        mean = total / count
        variance = (squares / count - mean**2).clamp_min(1e-8)
        bn.running_mean.copy_(mean.float())
        bn.running_var.copy_(variance.float())
        bn.weight.copy_(torch.sqrt(variance + bn.eps).float())
        bn.bias.add_(mean.float())
    return model, metadata


def write_checkpoint(onnx_path: Path, output: Path, calibration: np.ndarray) -> dict:
    """Write OUTPUT in `train`'s best.pt layout (usable as --init or --teacher); returns a summary."""
    from training.train import TrainConfig

    model, metadata = rebuild_from_onnx(onnx_path, calibration)
    config = TrainConfig(architecture=metadata["architecture"], label_mode=metadata.get("label_mode", "fer2013"))
    config.class_names = json.loads(metadata["labels"])
    accuracy = float(metadata.get("validation_accuracy", "nan"))
    output.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "model": model.state_dict(),
            "config": asdict(config),
            "epoch": -1,
            "val_accuracy": accuracy,
            "rebuilt_from": str(onnx_path),
            "onnx_metadata": metadata,
        },
        output,
    )
    return {"checkpoint": str(output), "architecture": metadata["architecture"], "from": str(onnx_path)}
