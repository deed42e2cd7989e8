"""Metrics, confusion matrix and training-curve plots, and a JSON report for a checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from training.data import FaceDataset


def classification_metrics(labels: np.ndarray, predicted: np.ndarray, class_names: list[str]) -> dict:
    """Accuracy, per-class precision/recall/F1/support, macro F1 and the confusion matrix."""
    classes = len(class_names)
    confusion = np.zeros((classes, classes), np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    per_class = {}
    for index, name in enumerate(class_names):
        true_positive = confusion[index, index]
        precision = true_positive / max(confusion[:, index].sum(), 1)
        recall = true_positive / max(confusion[index].sum(), 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-12)
        per_class[name] = {
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
            "support": int(confusion[index].sum()),
        }
    return {
        "accuracy": float((labels == predicted).mean()) if len(labels) else 0.0,
        "macro_f1": float(np.mean([c["f1"] for c in per_class.values()])),
        "per_class": per_class,
        "confusion": confusion.tolist(),
    }


def metrics_table(metrics: dict) -> str:
    lines = [
        f"accuracy {metrics['accuracy']:.4f}   macro F1 {metrics['macro_f1']:.4f}",
        "",
        "| class | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
    ]
    for name, row in metrics["per_class"].items():
        lines.append(f"| {name} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | {row['support']} |")
    return "\n".join(lines)


def plot_confusion(metrics: dict, class_names: list[str], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    confusion = np.array(metrics["confusion"], dtype=float)
    normalised = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    figure, axis = plt.subplots(figsize=(6.4, 5.6))
    image = axis.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    axis.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right")
    axis.set_yticks(range(len(class_names)), class_names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    for (row, column), value in np.ndenumerate(normalised):
        axis.text(
            column,
            row,
            f"{value:.2f}\n({int(confusion[row, column])})",
            ha="center",
            va="center",
            fontsize=7,
            color="white" if value > 0.5 else "black",
        )
    axis.set_title(title)
    figure.colorbar(image, ax=axis, fraction=0.046)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_history(history: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    figure, loss_axis = plt.subplots(figsize=(6.4, 3.6))
    loss_axis.plot(epochs, [h["train_loss"] for h in history], "o-", color="tab:red", label="train loss")
    loss_axis.set_xlabel("epoch")
    loss_axis.set_ylabel("train loss", color="tab:red")
    accuracy_axis = loss_axis.twinx()
    accuracy_axis.plot(epochs, [h["val_accuracy"] for h in history], "s-", color="tab:blue", label="val accuracy")
    accuracy_axis.set_ylabel("validation accuracy", color="tab:blue")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def evaluate_checkpoint(checkpoint: Path, val_set: FaceDataset, out_dir: Path, flip_tta: bool = False) -> dict:
    """Evaluate on `val_set`; writes report.json, confusion.png and curves.png into `out_dir`."""
    from training.train import load_checkpoint, predict_probabilities

    model, state = load_checkpoint(checkpoint)
    probabilities = predict_probabilities(model, val_set.images, next(model.parameters()).device, flip_tta=flip_tta)
    metrics = classification_metrics(val_set.labels, probabilities.argmax(1), val_set.class_names)
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = "_tta" if flip_tta else ""
    plot_confusion(
        metrics,
        val_set.class_names,
        out_dir / f"confusion{suffix}.png",
        f"{state['config']['architecture']} — validation accuracy {metrics['accuracy']:.1%}",
    )
    history_path = checkpoint.parent / "history.json"
    if history_path.exists():
        plot_history(json.loads(history_path.read_text()), out_dir / "curves.png")
    report = {
        "checkpoint": str(checkpoint),
        "architecture": state["config"]["architecture"],
        "flip_tta": flip_tta,
        "validation_faces": len(val_set),
        **metrics,
    }
    (out_dir / f"report{suffix}.json").write_text(json.dumps(report, indent=1))
    report["table"] = metrics_table(metrics)
    return report
