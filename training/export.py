"""Export a checkpoint to the emotiondesk model contract and verify it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import torch

from training.graph import EnsembleNet, MemberViewsNet, ProbabilityHead
from training.models import count_parameters
from training.train import load_checkpoint


def export_model(
    model: torch.nn.Module, labels: list[str], output: Path, metadata: dict[str, str], flip_tta: bool = False
) -> dict:
    """Write ONNX: float32 [N,1,48,48] raw 0–255 → [N,C] probabilities, `labels` + extra metadata."""
    import onnx

    model = model.cpu().eval()
    model.flip_tta = flip_tta
    head = ProbabilityHead(model).eval()
    example = torch.rand(2, 1, 48, 48) * 255
    output.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        head,
        (example,),
        str(output),
        input_names=["gray_48x48"],
        output_names=["probabilities"],
        dynamic_axes={"gray_48x48": {0: "batch"}, "probabilities": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    proto = onnx.load(str(output))
    entries = {
        "labels": json.dumps(labels),
        "input": "float32 [N,1,48,48] raw 0-255 grayscale",
        "output": "float32 [N,C] probabilities (softmax inside)",
        "flip_tta": str(flip_tta).lower(),
        **metadata,
    }
    del proto.metadata_props[:]
    for key, value in entries.items():
        prop = proto.metadata_props.add()
        prop.key, prop.value = key, str(value)
    onnx.checker.check_model(proto)
    onnx.save(proto, str(output))
    difference = verify_parity(head, output)
    return {
        "path": str(output),
        "bytes": output.stat().st_size,
        "max_abs_difference": difference,
        "labels": labels,
        "params": count_parameters(model),
    }


def verify_parity(head: torch.nn.Module, onnx_path: Path, samples: int = 16) -> float:
    """Max |onnxruntime − PyTorch| on random faces; raises if above 1e-4."""
    import onnxruntime as ort

    generator = torch.Generator().manual_seed(0)
    batch = torch.rand(samples, 1, 48, 48, generator=generator) * 255
    with torch.no_grad():
        expected = head(batch).numpy()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (actual,) = session.run(None, {session.get_inputs()[0].name: batch.numpy()})
    difference = float(np.abs(actual - expected).max())
    if difference > 1e-4:
        raise ValueError(f"{onnx_path}: onnxruntime differs from PyTorch by {difference:.2e} (> 1e-4)")
    return difference


def export_ensemble(
    checkpoints: list[Path],
    output: Path,
    flip_tta: bool = False,
    shifts: tuple[tuple[int, int], ...] = (),
    version: str = "1.0.0",
    training_data: str = "FER2013 Training split",
    validation_accuracy: float | None = None,
    member_views: list[list[str]] | None = None,
) -> dict:
    """Several checkpoints (same classes) averaged in one graph, each over the same test-time views, or with
    `member_views` each over its own (`training.graph.view_of` names)."""
    loaded = [load_checkpoint(path) for path in checkpoints]
    configs = [state["config"] for _, state in loaded]
    labels = configs[0]["class_names"]
    if any(config["class_names"] != labels for config in configs):
        raise ValueError("ensemble members must have the same classes in the same order")
    members = [model.cpu().eval() for model, _ in loaded]
    if member_views:
        ensemble = MemberViewsNet(members, member_views).eval()
    else:
        ensemble = EnsembleNet(members, flip_tta, shifts).eval()
    architectures = sorted({config["architecture"] for config in configs})
    label_mode = configs[0].get("label_mode", "fer2013")
    metadata = {
        "name": output.stem,
        "version": version,
        "architecture": f"ensemble of {len(members)}: {', '.join(c['architecture'] for c in configs)}"
        if len(members) > 1
        else architectures[0],
        "members": json.dumps([str(path) for path in checkpoints]),
        "test_time_views": "; ".join(",".join(names) for names in member_views)
        if member_views
        else str(len(shifts) + 1) + (" × mirror" if flip_tta else ""),
        "training_data": training_data,
        "label_mode": label_mode,
        "validation_accuracy": f"{validation_accuracy:.4f}" if validation_accuracy is not None else "nan",
        "validation_split": "FER2013 PublicTest"
        + (" (FER+ majority labels)" if label_mode.startswith("ferplus") else ""),
        "exported": date.today().isoformat(),
    }
    return export_model(ensemble, labels, output, metadata, flip_tta)


def export_checkpoint(
    checkpoint: Path,
    output: Path,
    flip_tta: bool = False,
    version: str = "1.0.0",
    training_data: str = "FER2013 Training split",
    validation_accuracy: float | None = None,
) -> dict:
    """`validation_accuracy`: the exported graph's own (e.g. with the mirror averaged in); default the
    checkpoint's single-view figure."""
    model, state = load_checkpoint(checkpoint)
    config = state["config"]
    accuracy = validation_accuracy if validation_accuracy is not None else state.get("val_accuracy", float("nan"))
    metadata = {
        "name": output.stem,
        "version": version,
        "architecture": config["architecture"],
        "training_data": training_data,
        "label_mode": config.get("label_mode", "fer2013"),
        "validation_accuracy": f"{accuracy:.4f}",
        "validation_split": "FER2013 PublicTest"
        + (" (FER+ majority labels)" if config.get("label_mode", "").startswith("ferplus") else ""),
        "exported": date.today().isoformat(),
    }
    return export_model(model, config["class_names"], output, metadata, flip_tta)
