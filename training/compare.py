"""One table of training runs: architecture, params, MFLOPs, validation accuracy, macro F1, CPU ms/face."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np


def one_thread_session(onnx_path: Path):
    """An onnxruntime CPU session on one thread: how the app runs its model, and how latency is measured."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])


def ms_per_face(session, sample: np.ndarray, batch: int, repeats: int = 200) -> float:
    """Median milliseconds per face over `repeats` calls of `batch` copies of `sample[0]` (after 20 warm-ups)."""
    name = session.get_inputs()[0].name
    inputs = np.repeat(sample[:1], batch, axis=0)
    for _ in range(20):
        session.run(None, {name: inputs})
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, {name: inputs})
        timings.append((time.perf_counter() - start) * 1e3 / batch)
    return float(np.median(timings))


def cpu_ms_per_face(onnx_path: Path, repeats: int = 200, batch: int = 1) -> float:
    """Median latency per face of a contract model (random 0–255 faces) at `batch` faces per call, one thread."""
    face = np.random.default_rng(0).uniform(0, 255, (1, 1, 48, 48)).astype(np.float32)
    return ms_per_face(one_thread_session(onnx_path), face, batch, repeats)


def compare_runs(run_dirs: list[Path]) -> str:
    import tempfile

    from training.export import export_model
    from training.models import count_mflops, count_parameters
    from training.train import load_checkpoint

    lines = [
        "| run | architecture | params | MMACs | epochs | val accuracy | macro F1 | ms/face batch 1 | batch 8 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in run_dirs:
        checkpoint = run / "best.pt"
        if not checkpoint.exists():
            lines.append(f"| {run.name} | (no best.pt) | | | | | | | |")
            continue
        model, state = load_checkpoint(checkpoint)
        report_path = run / "report.json"
        macro_f1 = json.loads(report_path.read_text())["macro_f1"] if report_path.exists() else float("nan")
        history = json.loads((run / "history.json").read_text()) if (run / "history.json").exists() else []
        onnx_path = Path(tempfile.mkdtemp()) / f"{run.name}.onnx"
        export_model(model, state["config"]["class_names"], onnx_path, {})
        latency = [cpu_ms_per_face(onnx_path, batch=batch) for batch in (1, 8)]
        lines.append(
            f"| {run.name} | {state['config']['architecture']} | {count_parameters(model.net):,} | "
            f"{count_mflops(model.net):.1f} | {len(history)} | {state['val_accuracy']:.4f} | "
            f"{macro_f1:.4f} | {latency[0]:.3f} | {latency[1]:.3f} |"
        )
    return "\n".join(lines)


def compare_architectures(names: list[str]) -> str:
    """Cost of each architecture, untrained: params, MMACs and deployed CPU latency (same ONNX contract)."""
    import tempfile

    from training.export import export_model
    from training.graph import EmotionNet
    from training.models import build_model, count_mflops, count_parameters

    lines = [
        "| architecture | params | MMACs | ms/face batch 1 | ms/face batch 8 |",
        "|---|---|---|---|---|",
    ]
    folder = Path(tempfile.mkdtemp())
    for name in names:
        net = build_model(name, 7)
        onnx_path = folder / f"{name}.onnx"
        export_model(EmotionNet(net), [str(i) for i in range(7)], onnx_path, {})
        latency = [cpu_ms_per_face(onnx_path, batch=batch) for batch in (1, 8)]
        lines.append(
            f"| {name} | {count_parameters(net):,} | {count_mflops(net):.1f} | {latency[0]:.3f} | {latency[1]:.3f} |"
        )
    return "\n".join(lines)
