"""Model card (markdown) for a shipped model, written from its run folder's report and history."""

from __future__ import annotations

import json
import platform
import shutil
from pathlib import Path

from training.evaluate import metrics_table


def hardware() -> str:
    import os

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores visible"


def reproduce_lines(command: str) -> list[str]:
    """The card's "Reproduce" section: the exact command in a bash block."""
    return ["", "## Reproduce", "", "```bash", command, "```", ""]


def cpu_text(history: list[dict], cpu_minutes: float | None = None) -> str:
    """The run's CPU time (all threads), from its history (newer runs) or as measured outside it."""
    if "cpu_seconds" in history[-1]:
        return f"{history[-1]['cpu_seconds'] / 60:.0f} CPU-min"
    if cpu_minutes:
        return f"{cpu_minutes:.0f} CPU-min (process CPU time, measured with ps)"
    return "CPU time not recorded"


def write_card(
    run_dir: Path,
    model_path: Path,
    command: str,
    training_hardware: str,
    cpu_minutes: float | None = None,
    note: str = "",
    extra: str = "",
) -> Path:
    """Write `<model>.md` beside the model and copy the confusion matrix and curves next to it."""
    import onnx

    from training.models import count_mflops, count_parameters
    from training.train import load_checkpoint

    report = json.loads((run_dir / "report.json").read_text())
    tta_path = run_dir / "report_tta.json"
    history = json.loads((run_dir / "history.json").read_text())
    model, state = load_checkpoint(run_dir / "best.pt")
    config = state["config"]
    teacher = ""  # online teachers, or their probabilities computed once (soft-labels)
    if config.get("teacher"):
        teacher = f"`{config['teacher']}`"
    elif config.get("teacher_labels"):
        teacher = f"the teacher probabilities in `{config['teacher_labels']}`"
    metadata = {p.key: p.value for p in onnx.load(str(model_path)).metadata_props}
    stem = model_path.with_suffix("")
    for name in ("confusion.png", "curves.png"):
        if (run_dir / name).exists():
            shutil.copyfile(run_dir / name, f"{stem}_{name}")
    lines = [
        f"# {model_path.name}",
        "",
        f"- **Classes** (output order): {', '.join(json.loads(metadata['labels']))}",
        f"- **Contract**: float32 `[N,1,48,48]` raw 0–255 gray in, `[N,C]` probabilities out; "
        f"normalisation (per-face standardisation) and softmax inside the graph; flip TTA in graph: "
        f"{metadata.get('flip_tta', 'false')}",
        f"- **Architecture**: `{config['architecture']}`, {count_parameters(model.net):,} parameters, "
        f"{count_mflops(model.net):.1f} M multiply-adds per face, {model_path.stat().st_size / 1e6:.2f} MB",
        f"- **Training data**: {metadata.get('training_data', '')}; labels `{config['label_mode']}`; rows flagged "
        f"uncertain in `row_flags.csv` dropped. Validation: {metadata.get('validation_split', '')} "
        f"(model selection and early stopping on it; PrivateTest never used).",
        f"- **Recipe**: {config.get('optimizer', 'adamw')} lr {config['learning_rate']}, weight decay "
        f"{config['weight_decay']}, one-cycle schedule "
        + (
            f"fitted to {config['minutes']:g} min of training ({len(history)} epochs run"
            if config.get("minutes")
            else f"of {config['epochs']} epochs planned ({len(history)} run"
        )
        + f", best epoch {state['epoch'] + 1}), precision {config.get('precision', 'fp32')}, "
        f"batch {config['batch_size']}, label smoothing {config['label_smoothing']}, class weights ∝ "
        f"frequency^-{config['balance_power']}, augmentation: "
        + (
            f"random {config['random_crop'][0]}–{config['random_crop'][1]} px crops resized back, rotation ±12°"
            if config.get("random_crop")
            else "shift/scale/rotation ±12°"
        )
        + f", flip, gamma, contrast, random erasing p={config['erasing_probability']}"
        + (f", initialised from `{config['init']}`" if config.get("init") else "")
        + (
            f", distilled from {teacher} (weight {config['distill_weight']}, "
            f"temperature {config['distill_temperature']})"
            if teacher
            else ""
        )
        + (
            f", the app's own crops (`{config['app_crops']}`) for a share {config['app_crop_probability']} of the faces"
            if config.get("app_crops")
            else ""
        )
        + f", seed {config['seed']}.",
        f"- **Hardware and time**: {training_hardware}; {history[-1]['seconds'] / 60:.0f} min of training "
        f"(wall clock), {cpu_text(history, cpu_minutes)}" + (f"; {note}" if note else "") + ".",
        *reproduce_lines(command),
        f"## Validation ({report['validation_faces']} faces)",
        "",
        metrics_table(report),
    ]
    if tta_path.exists():
        tta = json.loads(tta_path.read_text())
        lines += [
            "",
            f"With flip test-time augmentation: accuracy {tta['accuracy']:.4f}, macro F1 {tta['macro_f1']:.4f}.",
        ]
    if extra:
        lines += ["", extra.strip()]
    lines += [
        "",
        f"![confusion matrix]({stem.name}_confusion.png)",
        "",
        f"![training curves]({stem.name}_curves.png)",
        "",
    ]
    card = model_path.with_suffix(".md")
    card.write_text("\n".join(lines))
    return card


def write_graph_card(model_path: Path, val_set, command: str, passes: int, note: str = "", extra: str = "") -> Path:
    """Write `<model>.md` for an exported graph without one run folder of its own (an ensemble): its validation
    metrics and confusion matrix come from the ONNX file itself, run by onnxruntime as the app runs it."""
    import numpy as np
    import onnx

    from emotiondesk.stages.classification import EmotionClassifier
    from training.evaluate import classification_metrics, plot_confusion

    proto = onnx.load(str(model_path))
    metadata = {p.key: p.value for p in proto.metadata_props}
    labels = json.loads(metadata["labels"])
    if labels != list(val_set.class_names):
        raise ValueError(f"{model_path}: classes {labels}, the validation set has {val_set.class_names}")
    parameters = sum(int(np.prod(t.dims)) for t in proto.graph.initializer)
    probabilities = EmotionClassifier(model_path).classify(val_set.images[:, None].astype(np.float32))
    metrics = classification_metrics(val_set.labels, probabilities.argmax(1), list(val_set.class_names))
    stem = model_path.with_suffix("")
    plot_confusion(metrics, labels, Path(f"{stem}_confusion.png"), f"{stem.name} — accuracy {metrics['accuracy']:.1%}")
    members = json.loads(metadata.get("members", "[]"))
    lines = [
        f"# {model_path.name}",
        "",
        f"- **Classes** (output order): {', '.join(labels)}",
        "- **Contract**: float32 `[N,1,48,48]` raw 0–255 gray in, `[N,C]` probabilities out; normalisation "
        "(per-face standardisation) and softmax inside the graph; test-time views in graph: "
        f"{metadata.get('test_time_views', '1')}",
        f"- **Architecture**: {metadata.get('architecture', '')}, averaged probabilities; {parameters:,} parameters "
        f"in all, {passes} forward passes of a 48×48 network per face, {model_path.stat().st_size / 1e6:.2f} MB",
        f"- **Members**: {', '.join(f'`{m}`' for m in members) or 'one'}",
        f"- **Training data**: {metadata.get('training_data', '')}; labels `{metadata.get('label_mode', '')}`. "
        f"Validation: {metadata.get('validation_split', '')} (members and views chosen on it; PrivateTest never "
        "used).",
    ]
    if note:
        lines.append(f"- **Hardware and time**: {note}")
    lines += [
        *reproduce_lines(command),
        f"## Validation ({len(val_set)} faces, this ONNX file through onnxruntime)",
        "",
        metrics_table(metrics),
    ]
    if extra:
        lines += ["", extra.strip()]
    lines += ["", f"![confusion matrix]({stem.name}_confusion.png)", ""]
    card = model_path.with_suffix(".md")
    card.write_text("\n".join(lines))
    return card
