"""Datasets: FER2013 CSV (plain/.gz/.xz), FER+ votes, image folders; cached as uint8 arrays."""

from __future__ import annotations

import csv
import gzip
import hashlib
import lzma
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FER2013_LABELS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
# FER+ vote columns in fer2013new.csv, then the 8 emotion classes we train on (FER+ order).
FERPLUS_VOTE_COLUMNS = [
    "neutral",
    "happiness",
    "surprise",
    "sadness",
    "anger",
    "disgust",
    "fear",
    "contempt",
    "unknown",
    "NF",
]
FERPLUS_LABELS = ["neutral", "happy", "surprise", "sad", "angry", "disgust", "fear", "contempt"]
IMAGE_SIZE = 48
LABEL_MODES = ("fer2013", "fer2013+ferplus", "ferplus-majority", "ferplus-soft")
# fer2013+ferplus: FER2013 labels (hard labels and validation), the training target is this mix of the one-hot
# FER2013 label and the face's FER+ vote distribution mapped to the 7 FER2013 classes (contempt dropped)
FERPLUS_TARGET_WEIGHT = 0.5


@dataclass
class FaceDataset:
    """48×48 uint8 faces with hard labels (`labels`) and a per-class target distribution (`targets`)."""

    images: np.ndarray  # [N,48,48] uint8
    labels: np.ndarray  # [N] int64, index into class_names
    targets: np.ndarray  # [N,C] float32, rows sum to 1 (one-hot for hard labels)
    class_names: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, mask: np.ndarray) -> FaceDataset:
        return FaceDataset(self.images[mask], self.labels[mask], self.targets[mask], self.class_names)


@dataclass
class RawFer2013:
    """Everything the FER2013 CSV (and optional FER+ votes) holds, before a label mode is chosen."""

    images: np.ndarray  # [N,48,48] uint8
    emotion: np.ndarray  # [N] int64 FER2013 label
    usage: np.ndarray  # [N] str ("Training", "PublicTest", ...)
    votes: np.ndarray | None  # [N,10] int16 FER+ votes in FERPLUS_VOTE_COLUMNS order
    flagged: np.ndarray  # [N] bool: rows of uncertain provenance (row_flags.csv)


def _open_text(path: Path):
    if path.suffix == ".xz":
        return lzma.open(path, "rt", newline="")
    if path.suffix == ".gz":
        return gzip.open(path, "rt", newline="")
    return open(path, newline="")


def read_fer2013_csv(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse the Kaggle layout `emotion,pixels,Usage` into (images, emotion, usage)."""
    images, emotion, usage = [], [], []
    with _open_text(path) as handle:
        reader = csv.DictReader(handle)
        missing = {"emotion", "pixels", "Usage"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: not a FER2013 CSV (missing columns {sorted(missing)})")
        for line_no, row in enumerate(reader, start=2):
            pixels = np.array(row["pixels"].split(), dtype=np.uint8)
            if pixels.size != IMAGE_SIZE * IMAGE_SIZE:
                raise ValueError(f"{path}:{line_no}: expected 2304 pixels, got {pixels.size}")
            images.append(pixels.reshape(IMAGE_SIZE, IMAGE_SIZE))
            emotion.append(int(row["emotion"]))
            usage.append(row["Usage"])
    return np.stack(images), np.array(emotion, dtype=np.int64), np.array(usage)


def read_ferplus_votes(path: Path, expected_rows: int) -> np.ndarray:
    """FER+ `fer2013new.csv`: row i = votes for row i of fer2013.csv; rows without an image name get NF=10."""
    votes = []
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            if not row.get("Image name"):
                votes.append([0] * 9 + [10])
                continue
            votes.append([int(row[name] or 0) for name in FERPLUS_VOTE_COLUMNS])
    array = np.array(votes, dtype=np.int16)
    if len(array) < expected_rows:
        raise ValueError(f"{path}: {len(array)} vote rows for {expected_rows} images")
    return array[:expected_rows]


def read_row_flags(path: Path, rows: int) -> np.ndarray:
    """Rows whose pixels or label are uncertain (any flag set) → True."""
    flagged = np.zeros(rows, dtype=bool)
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            index = int(row["row"])
            uncertain = row["pixels_exact"] == "0" or row["row_certain"] == "0" or row["dup_label_ambiguous"] == "1"
            if index < rows and uncertain:
                flagged[index] = True
    return flagged


def write_pack(raw: RawFer2013, path: Path) -> int:
    """Write `raw` as a compact lossless pack (each face WebP-lossless, ~53 MB for FER2013) that travels
    where the 67 MB CSV cannot (the GPU machine's 64 MiB working tree); verified by decoding it back."""
    import cv2

    encoded = []
    for index, image in enumerate(raw.images):
        ok, data = cv2.imencode(".webp", image, [cv2.IMWRITE_WEBP_QUALITY, 101])  # quality > 100: lossless
        if not ok:
            raise ValueError(f"face {index}: WebP encoding failed")
        encoded.append(data.ravel())
    offsets = np.cumsum([0] + [len(e) for e in encoded]).astype(np.int64)
    usages = sorted(set(raw.usage.tolist()))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:  # np.savez appends .npz to a bare path; a handle keeps the name given
        np.savez(
            handle,
            webp=np.concatenate(encoded),
            offsets=offsets,
            emotion=raw.emotion.astype(np.int8),
            usage_names=np.array(usages, dtype="U16"),
            usage=np.array([usages.index(u) for u in raw.usage], dtype=np.int8),
            votes=raw.votes.astype(np.int8) if raw.votes is not None else np.zeros(0, np.int8),
            flagged=raw.flagged,
        )
    if not np.array_equal(read_pack(path).images, raw.images):
        raise ValueError(f"{path}: pack does not decode to the original pixels")
    return path.stat().st_size


def read_pack(path: Path) -> RawFer2013:
    """Load a pack written by `write_pack`."""
    import cv2

    with np.load(path, allow_pickle=False) as pack:
        if "webp" not in pack.files:
            raise ValueError(f"{path}: not an emotiondesk training pack (python -m training pack)")
        blob, offsets = pack["webp"], pack["offsets"]
        images = np.empty((len(offsets) - 1, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
        for index in range(len(images)):
            images[index] = cv2.imdecode(blob[offsets[index] : offsets[index + 1]], cv2.IMREAD_GRAYSCALE)
        votes = pack["votes"].astype(np.int16) if pack["votes"].size else None
        usage = pack["usage_names"][pack["usage"]]
        return RawFer2013(images, pack["emotion"].astype(np.int64), usage, votes, pack["flagged"])


def load_fer2013(csv_path: Path, ferplus_path: Path | None = None, cache_dir: Path | None = None) -> RawFer2013:
    """Load the CSV (and votes), caching the decoded arrays as one .npz keyed by the source files.

    A `.npz` pack from `write_pack` is read directly (it already holds the votes and flags)."""
    csv_path = Path(csv_path)
    if csv_path.suffix == ".npz":
        return read_pack(csv_path)
    key_source = f"{csv_path.resolve()}:{csv_path.stat().st_size}:{ferplus_path}"
    cache_file = None
    if cache_dir is not None:
        digest = hashlib.sha1(key_source.encode()).hexdigest()[:12]
        cache_file = Path(cache_dir) / f"fer2013-{digest}.npz"
        if cache_file.exists():
            cached = np.load(cache_file, allow_pickle=False)
            votes = cached["votes"] if cached["votes"].size else None
            return RawFer2013(cached["images"], cached["emotion"], cached["usage"], votes, cached["flagged"])
    images, emotion, usage = read_fer2013_csv(csv_path)
    votes = read_ferplus_votes(Path(ferplus_path), len(images)) if ferplus_path else None
    flags_path = csv_path.parent / "row_flags.csv"
    flagged = read_row_flags(flags_path, len(images)) if flags_path.exists() else np.zeros(len(images), bool)
    raw = RawFer2013(images, emotion, usage, votes, flagged)
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        np.savez(
            cache_file,
            images=images,
            emotion=emotion,
            usage=usage.astype("U16"),
            votes=votes if votes is not None else np.zeros(0, np.int16),
            flagged=flagged,
        )
    return raw


def ferplus_distribution(votes: np.ndarray) -> np.ndarray:
    """Vote counts for the 8 FER+ emotions (FERPLUS_LABELS order), normalised; unknown/NF dropped."""
    order = [
        FERPLUS_VOTE_COLUMNS.index(name)
        for name in ["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt"]
    ]
    counts = votes[:, order].astype(np.float32)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def ferplus_as_fer2013(votes: np.ndarray) -> np.ndarray:
    """FER+ votes as a distribution over FER2013's 7 classes (contempt, unknown, NF dropped); all-zero rows where
    no emotion vote is left."""
    distribution = ferplus_distribution(votes)  # FERPLUS_LABELS order
    mapped = np.zeros((len(votes), len(FER2013_LABELS)), np.float32)
    for source, name in enumerate(FERPLUS_LABELS):
        if name in FER2013_LABELS:
            mapped[:, FER2013_LABELS.index(name)] = distribution[:, source]
    totals = mapped.sum(axis=1, keepdims=True)
    return np.divide(mapped, totals, out=np.zeros_like(mapped), where=totals > 0)


def make_split(raw: RawFer2013, usage: str, label_mode: str, drop_flagged: bool = True) -> FaceDataset:
    """Select one split (`Training`, `PublicTest`) under a label mode (see LABEL_MODES)."""
    if label_mode not in LABEL_MODES:
        raise ValueError(f"label mode must be one of {LABEL_MODES}, not {label_mode!r}")
    mask = raw.usage == usage
    if drop_flagged and usage == "Training":
        mask &= ~raw.flagged
    if label_mode in ("fer2013", "fer2013+ferplus"):
        labels = raw.emotion[mask]
        targets = np.eye(len(FER2013_LABELS), dtype=np.float32)[labels]
        if label_mode == "fer2013+ferplus":
            if raw.votes is None:
                raise ValueError("label mode fer2013+ferplus needs the FER+ votes file (--ferplus)")
            mapped = ferplus_as_fer2013(raw.votes[mask])
            has_votes = mapped.sum(axis=1, keepdims=True) > 0
            mixed = (1 - FERPLUS_TARGET_WEIGHT) * targets + FERPLUS_TARGET_WEIGHT * mapped
            targets = np.where(has_votes, mixed, targets).astype(np.float32)
        return FaceDataset(raw.images[mask], labels, targets, list(FER2013_LABELS))
    if raw.votes is None:
        raise ValueError("FER+ label modes need the FER+ votes file (--ferplus)")
    distribution = ferplus_distribution(raw.votes[mask])
    votes = raw.votes[mask]
    # FER+ protocol: keep faces whose emotion votes exist and whose winner is not 'unknown'/'NF'.
    keep = (distribution.sum(axis=1) > 0) & (np.argmax(votes, axis=1) < 8)
    distribution = distribution[keep]
    labels = np.argmax(distribution, axis=1).astype(np.int64)
    targets = distribution if label_mode == "ferplus-soft" else np.eye(len(FERPLUS_LABELS), dtype=np.float32)[labels]
    return FaceDataset(raw.images[mask][keep], labels, targets.astype(np.float32), list(FERPLUS_LABELS))


def load_image_folder(root: Path, class_names: list[str] | None = None) -> FaceDataset:
    """`root/<class>/*.png|jpg` (Kaggle image release layout) → 48×48 gray dataset."""
    import cv2

    root = Path(root)
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir())
    if not class_dirs:
        raise ValueError(f"{root}: no class folders (expected {root}/<class>/*.png)")
    names = class_names or [p.name for p in class_dirs]
    images, labels = [], []
    for class_dir in class_dirs:
        if class_dir.name not in names:
            raise ValueError(f"{class_dir}: class {class_dir.name!r} is not one of {names}")
        for file in sorted(class_dir.iterdir()):
            if file.suffix.lower() not in {".png", ".jpg", ".jpeg", ".bmp"}:
                continue
            gray = cv2.imread(str(file), cv2.IMREAD_GRAYSCALE)
            if gray is None:
                raise ValueError(f"{file}: not a readable image")
            if gray.shape != (IMAGE_SIZE, IMAGE_SIZE):
                gray = cv2.resize(gray, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA)
            images.append(gray)
            labels.append(names.index(class_dir.name))
    label_array = np.array(labels, dtype=np.int64)
    targets = np.eye(len(names), dtype=np.float32)[label_array]
    return FaceDataset(np.stack(images), label_array, targets, list(names))


def load_dataset(
    source: Path, split: str, label_mode: str = "fer2013", ferplus: Path | None = None, cache_dir: Path | None = None
) -> FaceDataset:
    """One entry point for every supported layout.

    `source` is a FER2013 CSV (split = Usage value, e.g. Training/PublicTest) or an image-folder root
    (split = subfolder, e.g. train/test).
    """
    source = Path(source)
    if source.is_dir():
        split_dir = source / split if (source / split).is_dir() else source
        names = FER2013_LABELS if all((split_dir / n).is_dir() for n in FER2013_LABELS) else None
        return load_image_folder(split_dir, names)
    raw = load_fer2013(source, ferplus, cache_dir)
    return make_split(raw, split, label_mode)
