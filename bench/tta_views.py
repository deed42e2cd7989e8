"""Test-time views and ensembles of our FER2013 models, on the same validation faces, in one run.

    python bench/tta_views.py [--data ../shared/data/fer2013/fer2013.csv.xz] [--split PublicTest]
        [--models assets/models/emotion_fer2013.onnx ...] [--max-passes 3]

Each model (the ONNX contract: raw 0–255 gray `[N,1,48,48]` in, probabilities out) is run once per
elementary view of every face: as it is, mirrored, shifted by two pixels (four ways, each also mirrored),
and the five 44×44 and five 40×40 corner/centre crops resized back to 48 (the "10-crop" test of Khaireddin & Chen,
each also mirrored). The tables then average those probabilities: per model over view sets, and over every
ensemble of the models with one view or with the mirror. `passes` is what the graph would cost per face, in
forward passes of one model (a 48×48 pass; resizing is negligible). Prints markdown tables. PublicTest is
validation here; PrivateTest is never read.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emotiondesk.stages.classification import EmotionClassifier  # noqa: E402
from training.data import FER2013_LABELS, load_dataset  # noqa: E402
from training.train import TTA_SHIFTS, shifted  # noqa: E402


def corner_crops(images: np.ndarray, size: int) -> list[np.ndarray]:
    """The four corner crops and the centre crop of side `size`, each resized back to 48×48."""
    offset = 48 - size
    origins = [(0, 0), (0, offset), (offset, 0), (offset, offset), (offset // 2, offset // 2)]
    return [
        np.stack(
            [cv2.resize(face[y : y + size, x : x + size], (48, 48), interpolation=cv2.INTER_LINEAR) for face in images]
        )
        for y, x in origins
    ]


def elementary_views(images: np.ndarray) -> dict[str, list[np.ndarray]]:
    """View families → their views (mirrors included where the family has them)."""
    mirror = images[:, :, ::-1]
    faces = torch.from_numpy(images).unsqueeze(1)
    shifts = [shifted(faces, dx, dy)[:, 0].numpy() for dx, dy in TTA_SHIFTS[10][1:]]  # the 4 two-pixel shifts
    crops44, crops40 = corner_crops(images, 44), corner_crops(images, 40)
    return {
        "face": [images],
        "mirror": [mirror],
        "shifts": shifts + [view[:, :, ::-1] for view in shifts],
        "crops44": crops44 + [view[:, :, ::-1] for view in crops44],
        "crops40": crops40 + [view[:, :, ::-1] for view in crops40],
    }


VIEW_SETS = {  # name → (families, passes)
    "1 view": (["face"], 1),
    "mirror (2)": (["face", "mirror"], 2),
    "shifts × mirror (10)": (["face", "mirror", "shifts"], 10),
    "44-px 10-crop": (["crops44"], 10),
    "40-px 10-crop": (["crops40"], 10),
    "face + 44-px 10-crop (12)": (["face", "mirror", "crops44"], 12),
}


def probabilities(path: Path, views: dict[str, list[np.ndarray]]) -> dict[str, list[np.ndarray]]:
    classifier = EmotionClassifier(path)  # one onnxruntime thread, as the app runs it
    if list(classifier.labels) != list(FER2013_LABELS):
        raise ValueError(f"{path}: classes {list(classifier.labels)}, not FER2013's")
    return {
        family: [classifier.classify(np.ascontiguousarray(view)[:, None].astype(np.float32)) for view in family_views]
        for family, family_views in views.items()
    }


def averaged(per_model: list[dict[str, list[np.ndarray]]], families: list[str]) -> np.ndarray:
    parts = [p for model in per_model for family in families for p in model[family]]
    return np.mean(parts, axis=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/fer2013/fer2013.csv.xz")
    parser.add_argument("--split", default="PublicTest", choices=["PublicTest"], help="validation only")
    parser.add_argument("--cache", type=Path, default=ROOT / "cache")
    parser.add_argument(
        "--models",
        type=Path,
        nargs="+",
        default=[ROOT / "assets/models/emotion_fer2013.onnx"],
        help="FER2013 models in the ONNX contract (without flip in the graph)",
    )
    parser.add_argument("--max-passes", type=int, default=3, help="largest ensemble cost listed (passes per face)")
    args = parser.parse_args()

    faces = load_dataset(args.data, args.split, "fer2013", None, args.cache)
    views = elementary_views(faces.images)
    print(f"{len(faces)} {args.split} faces (validation)", file=sys.stderr)
    results = []
    for path in args.models:
        print(f"{path.name}: {sum(len(v) for v in views.values())} views", file=sys.stderr)
        results.append(probabilities(path, views))

    def accuracy(p: np.ndarray) -> float:
        return float((p.argmax(1) == faces.labels).mean())

    print("| model | " + " | ".join(VIEW_SETS) + " |")
    print("|---|" + "---|" * len(VIEW_SETS))
    for path, result in zip(args.models, results):
        cells = [f"{accuracy(averaged([result], families)):.2%}" for families, _ in VIEW_SETS.values()]
        print(f"| {path.stem} | " + " | ".join(cells) + " |")

    print("\n| ensemble | views | passes | accuracy |")
    print("|---|---|---|---|")
    rows = []
    for size in range(1, len(args.models) + 1):
        for members in itertools.combinations(range(len(args.models)), size):
            for label, families, views_per_model in (("1", ["face"], 1), ("mirror", ["face", "mirror"], 2)):
                passes = size * views_per_model
                if passes > args.max_passes:
                    continue
                p = averaged([results[m] for m in members], families)
                rows.append((passes, accuracy(p), " + ".join(args.models[m].stem for m in members), label))
    for passes, acc, names, label in sorted(rows, key=lambda row: (row[0], -row[1])):
        print(f"| {names} | {label} | {passes} | {acc:.2%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
