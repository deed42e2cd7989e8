"""Accuracy and speed of our shipped models versus the published peers, on the same faces, in one run.

    python bench/accuracy.py [--data ../shared/data/fer2013/fer2013.csv.xz] [--split PublicTest]
        [--peers ../shared/peers] [--models assets/models/emotion_fer2013.onnx ...]

Every peer gets exactly its own preprocessing from ../shared/peers/MANIFEST.json; class orders
are mapped to FER2013's by name (our models' names come from their metadata; the FER+ model's
`contempt` output has no FER2013 column and is left out of the arg-max). `--data` takes any layout
the training package reads (FER2013 CSV or image folders).
Prints markdown tables: accuracy, macro F1, per-class recall, params, ms/face at batch 1 and 8 (1 thread).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from training.compare import ms_per_face, one_thread_session  # noqa: E402
from training.data import FER2013_LABELS, load_dataset  # noqa: E402
from training.evaluate import classification_metrics  # noqa: E402


@dataclass
class Contender:
    name: str
    path: Path
    prepare: Callable[[np.ndarray], np.ndarray]  # uint8 [N,48,48] → model input
    class_order: list[str]  # model output order, FER2013 names
    note: str = ""


def resize_batch(images: np.ndarray, size: int, interpolation=cv2.INTER_LINEAR) -> np.ndarray:
    if images.shape[1] == size:
        return images.astype(np.float32)
    return np.stack([cv2.resize(image, (size, size), interpolation=interpolation) for image in images]).astype(
        np.float32
    )


def oarriaga_input(images: np.ndarray) -> np.ndarray:
    """fer / oarriaga: NHWC 64×64 gray, x/255*2-1."""
    return (resize_batch(images, 64) / 255.0 * 2 - 1)[..., None]


def pyemotion_input(images: np.ndarray) -> np.ndarray:
    """PyEmotion: NCHW 48×48 gray (PIL bilinear is the identity at 48), (x/255-0.5)/0.5."""
    return ((resize_batch(images, 48) / 255.0 - 0.5) / 0.5)[:, None]


def faceapi_input(images: np.ndarray) -> np.ndarray:
    """face-api: NHWC 112×112 RGB 0–255 (square already), graph subtracts its own means."""
    return np.repeat(resize_batch(images, 112)[..., None], 3, axis=3)


def emotiondesk_input(images: np.ndarray) -> np.ndarray:
    """Our contract: raw 0–255 gray [N,1,48,48]; normalisation is inside the graph."""
    return images.astype(np.float32)[:, None]


def model_labels(path: Path) -> list[str]:
    """Our models carry their class names; FER+ names map onto FER2013's (contempt has no FER2013 column)."""
    import onnx

    metadata = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    return json.loads(metadata["labels"])


def parameter_count(path: Path) -> int:
    import onnx

    model = onnx.load(str(path))
    return int(sum(np.prod(t.dims) for t in model.graph.initializer))


def contenders(peers_dir: Path, models: list[Path]) -> list[Contender]:
    found = [Contender(f"emotiondesk {m.stem}", m, emotiondesk_input, model_labels(m)) for m in models if m.exists()]
    manifest_path = peers_dir / "MANIFEST.json"
    if not manifest_path.exists():
        print(f"note: {manifest_path} not found — peers skipped")
        return found
    manifest = json.loads(manifest_path.read_text())
    recipes = {
        "fer_emotion_model.onnx": ("fer (mini-Xception)", oarriaga_input),
        "oarriaga_fer2013_big_XCEPTION.54-0.66.onnx": ("oarriaga big-Xception", oarriaga_input),
        "pyemotion_networkv2.onnx": ("PyEmotion", pyemotion_input),
        "faceapi_expression.onnx": ("face-api.js", faceapi_input),
    }
    for file_name, (label, prepare) in recipes.items():
        if file_name in manifest and (peers_dir / file_name).exists():
            order = [c.split("(")[0] for c in manifest[file_name]["classes"]]
            found.append(Contender(label, peers_dir / file_name, prepare, order, manifest[file_name]["input"]))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/fer2013/fer2013.csv.xz")
    parser.add_argument("--split", default="PublicTest", help="Usage value or image subfolder")
    parser.add_argument("--peers", type=Path, default=ROOT.parent / "shared/peers")
    parser.add_argument("--models", type=Path, nargs="*", default=[ROOT / "assets/models/emotion_fer2013.onnx"])
    parser.add_argument("--limit", type=int, help="only the first N faces")
    parser.add_argument("--repeats", type=int, default=300, help="timed calls per latency figure")
    parser.add_argument("--cache", type=Path, default=ROOT / "cache")
    args = parser.parse_args()
    if not args.data.exists():
        print(f"skipped: {args.data} not found")
        return 0
    dataset = load_dataset(args.data, args.split, cache_dir=args.cache)
    if args.limit:
        dataset = dataset.subset(slice(0, args.limit))
    if dataset.class_names != FER2013_LABELS:
        print(f"error: {args.data}: classes {dataset.class_names} are not FER2013's seven", file=sys.stderr)
        return 2
    rows, recalls = [], []
    for contender in contenders(args.peers, args.models):
        runner = one_thread_session(contender.path)
        name = runner.get_inputs()[0].name
        outputs = []
        for start in range(0, len(dataset), 256):
            outputs.append(runner.run(None, {name: contender.prepare(dataset.images[start : start + 256])})[0])
        scores = np.concatenate(outputs)
        to_fer = [contender.class_order.index(label) for label in FER2013_LABELS]
        predicted = scores[:, to_fer].argmax(axis=1)
        metrics = classification_metrics(dataset.labels, predicted, FER2013_LABELS)
        sample = contender.prepare(dataset.images[:1])
        rows.append(
            (
                contender.name,
                metrics["accuracy"],
                metrics["macro_f1"],
                parameter_count(contender.path),
                ms_per_face(runner, sample, 1, args.repeats),
                ms_per_face(runner, sample, 8, args.repeats // 2),
            )
        )
        recalls.append((contender.name, [metrics["per_class"][c]["recall"] for c in FER2013_LABELS]))
    print(f"{len(dataset)} faces of {args.data.name} [{args.split}], FER2013 labels; onnxruntime, 1 thread\n")
    print("| model | accuracy | macro F1 | params | ms/face batch 1 | ms/face batch 8 |")
    print("|---|---|---|---|---|---|")
    for name, accuracy, macro_f1, params, ms1, ms8 in rows:
        print(f"| {name} | {accuracy:.2%} | {macro_f1:.3f} | {params:,} | {ms1:.3f} | {ms8:.3f} |")
    print("\nRecall per class\n")
    print("| model | " + " | ".join(FER2013_LABELS) + " |")
    print("|---|" + "---|" * len(FER2013_LABELS))
    for name, values in recalls:
        print(f"| {name} | " + " | ".join(f"{v:.2f}" for v in values) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
