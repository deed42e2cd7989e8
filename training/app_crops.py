"""The app's own crops of FER2013 faces: each 48×48 face is enlarged, set in a frame, run through BlazeFace and
re-cropped by the app's `face_crops` (detect → crop, as the live pipeline does).

Two frames (`FRAMES`):
- `tight`: the face ×4 (192 px) with 96 px of replicated edges around it (bench/crop_calibration.py's frame);
- `webcam`: the face ×4 at a random place in a 640×480 frame, the rest filled by replicating its edges, so the
  detector sees a face of webcam size with webcam-like margins (its box is less precise than on a tight frame).

Used both to measure the crop gap (bench/crop_calibration.py) and to train on the app's crops
(`python -m training app-crops`, then `train --app-crops`).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

UPSCALE, PAD = 4, 96
FRAMES = ("tight", "webcam")
WEBCAM_SIZE = (640, 480)


def framed(image: np.ndarray, frame: str, rng: np.random.Generator) -> tuple[np.ndarray, tuple[int, int]]:
    """The gray face enlarged ×4 inside a frame, and the (x, y) of its top-left corner there."""
    big = cv2.resize(image, (48 * UPSCALE, 48 * UPSCALE), interpolation=cv2.INTER_CUBIC)
    side = 48 * UPSCALE
    if frame == "tight":
        return cv2.copyMakeBorder(big, PAD, PAD, PAD, PAD, cv2.BORDER_REPLICATE), (PAD, PAD)
    if frame == "webcam":
        width, height = WEBCAM_SIZE
        x = int(rng.integers(16, width - side - 16))
        y = int(rng.integers(16, height - side - 16))
        canvas = cv2.copyMakeBorder(big, y, height - side - y, x, width - side - x, cv2.BORDER_REPLICATE)
        return canvas, (x, y)
    raise ValueError(f"frame must be one of {FRAMES}, not {frame!r}")


def detect_faces(images: np.ndarray, frame: str, seed: int = 0, min_confidence: float = 0.3, progress: bool = False):
    """For each face: (frame image, the detected Face with the highest score) or None where BlazeFace found none."""
    from emotiondesk.stages.detection import FaceDetector

    rng = np.random.default_rng(seed)
    found = []
    detector = FaceDetector("short", min_confidence=min_confidence, video=False)
    try:
        for index, image in enumerate(images):
            canvas, _ = framed(image, frame, rng)
            faces = detector.detect(cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR))
            found.append((canvas, max(faces, key=lambda f: f.det_score)) if faces else None)
            if progress and index % 2000 == 0:
                print(f"{frame}: {index}/{len(images)} faces", flush=True)
    finally:
        detector.close()
    return found


def app_crops(images: np.ndarray, frame: str, seed: int = 0, geometry=None) -> tuple[np.ndarray, np.ndarray]:
    """(crops uint8 [N,48,48], found bool [N]): the app's crop of each face (the original where none was found)."""
    from emotiondesk.stages.crops import DEFAULT_GEOMETRY, face_crops

    geometry = geometry or DEFAULT_GEOMETRY
    crops = images.copy()
    found = np.zeros(len(images), bool)
    for index, item in enumerate(detect_faces(images, frame, seed, progress=len(images) > 5000)):
        if item is None:
            continue
        canvas, face = item
        crops[index] = np.clip(np.rint(face_crops(canvas, [face], geometry)[0, 0]), 0, 255).astype(np.uint8)
        found[index] = True
    return crops, found


def write_app_crops(images: np.ndarray, output: Path, frames: tuple[str, ...] = FRAMES, seed: int = 0) -> dict:
    """Compute the app's crops of `images` in each frame and save them (npz: `<frame>` crops, `<frame>_found`)."""
    arrays, summary = {}, {}
    for number, frame in enumerate(frames):
        crops, found = app_crops(images, frame, seed + number)
        arrays[frame], arrays[f"{frame}_found"] = crops, found
        summary[frame] = float(found.mean())
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "wb") as handle:
        np.savez_compressed(handle, **arrays)
    return {"output": str(output), "faces": len(images), "detected": summary}


def load_app_crops(path: Path, count: int) -> tuple[np.ndarray, np.ndarray]:
    """[F,N,48,48] crops and [F,N] found flags, one row per frame in the file; checked against `count` faces."""
    with np.load(path, allow_pickle=False) as data:
        frames = [name for name in FRAMES if name in data.files]
        crops = np.stack([data[name] for name in frames])
        found = np.stack([data[f"{name}_found"] for name in frames])
    if crops.shape[1] != count:
        raise ValueError(f"{path}: crops for {crops.shape[1]} faces, the training split has {count}")
    return crops, found
