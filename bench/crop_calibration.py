"""Measure how FER2013 frames its faces relative to a BlazeFace box, to set `CropGeometry`.

    python bench/crop_calibration.py [--data ../shared/data/fer2013/fer2013.csv.xz] [--faces 1500]
        [--model assets/models/emotion_fer2013.onnx] [--landmarks] [--gap-only]

Each validation face is upscaled ×4, padded with replicated edges (context for the detector) and run
through BlazeFace. The detected box, expressed in units of the original 48-pixel frame, tells the
crop scale (frame side / box side) and the vertical offset. With `--model`, the faces are then re-cropped
by the app's own `face_crops` under several geometries and classified, so the chosen geometry is the
one the model agrees with best (accuracy against the FER2013 labels), and the crop gap is measured: the model's
accuracy through the app's own path (BlazeFace → `face_crops` with the app's default geometry → classify) against
its accuracy on FER2013's own crops of the same faces, with each face in the tight frame above and inside a
640×480 frame with webcam-like margins (training/app_crops.py; `--gap-only` prints just that). With
`--landmarks` (and `--model`), the
Face Landmarker also runs on each face, and eye alignment from the BlazeFace keypoints is compared with eye
alignment from the face mesh's eye corners (what `--face-details` could use). Prints markdown tables.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UPSCALE, PAD = 4, 96


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/fer2013/fer2013.csv.xz")
    parser.add_argument("--faces", type=int, default=1500)
    parser.add_argument("--model", type=Path, help="also score re-cropped faces with this model")
    parser.add_argument("--cache", type=Path, default=ROOT / "cache")
    parser.add_argument("--landmarks", action="store_true", help="compare mesh eye alignment (needs --model)")
    parser.add_argument("--gap-only", action="store_true", help="only the crop-gap table (needs --model)")
    args = parser.parse_args()
    if not args.data.exists():
        print(f"skipped: {args.data} not found (FER2013 CSV needed)")
        return 0
    from emotiondesk.stages.crops import CropGeometry, face_crops
    from emotiondesk.stages.detection import FaceDetector
    from training.data import load_dataset

    val = load_dataset(args.data, "PublicTest", cache_dir=args.cache)
    rng = np.random.default_rng(0)
    pick = rng.choice(len(val), size=min(args.faces, len(val)), replace=False)
    if args.model:
        print_crop_gap(val, pick, args.model)
        if args.gap_only:
            return 0
    detector = FaceDetector("short", min_confidence=0.3, video=False)
    sides, centers, found_faces, found_index = [], [], [], []
    for index in pick:
        big = cv2.resize(val.images[index], (48 * UPSCALE, 48 * UPSCALE), interpolation=cv2.INTER_CUBIC)
        canvas = cv2.copyMakeBorder(big, PAD, PAD, PAD, PAD, cv2.BORDER_REPLICATE)
        faces = detector.detect(cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR))
        if not faces:
            continue
        face = max(faces, key=lambda f: f.det_score)
        unit = 48 * UPSCALE
        side = max(face.box.w, face.box.h) / unit
        cx, cy = ((c - PAD) / unit for c in face.box.center)
        sides.append(side)
        centers.append((cx, cy))
        found_faces.append((canvas, face))
        found_index.append(index)
    detector.close()
    sides_array, centers_array = np.array(sides), np.array(centers)
    scale = 1 / np.median(sides_array)
    shift_y = np.median((centers_array[:, 1] - 0.5) / sides_array)
    shift_x = np.median((centers_array[:, 0] - 0.5) / sides_array)
    print(f"BlazeFace found a face in {len(sides)} of {len(pick)} FER2013 validation faces\n")
    print("| quantity | median | IQR |\n|---|---|---|")
    print(
        f"| box side / frame side | {np.median(sides_array):.3f} | "
        f"{np.percentile(sides_array, 25):.3f}–{np.percentile(sides_array, 75):.3f} |"
    )
    print(f"| crop scale (frame / box) | {scale:.3f} | |")
    print(f"| box centre below frame centre (× box side) | {shift_y:.3f} | |")
    print(f"| box centre right of frame centre (× box side) | {shift_x:.3f} | |")
    if args.model:
        from emotiondesk.stages.classification import EmotionClassifier

        classifier = EmotionClassifier(args.model)
        labels = val.labels[np.array(found_index)]
        original = classifier.classify(val.images[np.array(found_index)][:, None].astype(np.float32))
        print(
            f"\nModel {args.model.name} on the same faces: original FER2013 crops "
            f"{(original.argmax(1) == labels).mean():.2%}\n"
        )
        print("| geometry | accuracy of re-cropped faces | agreement with original-crop prediction |")
        print("|---|---|---|")
        for candidate_scale in (1.3, round(scale, 2), 1.6, 1.75):
            for align in (False, True):
                geometry = CropGeometry(scale=candidate_scale, shift_y=round(float(shift_y), 3), align_eyes=align)
                crops = np.concatenate([face_crops(canvas, [face], geometry) for canvas, face in found_faces])
                predicted = classifier.classify(crops).argmax(1)
                print(
                    f"| scale {candidate_scale}, shift {shift_y:.3f}, align {align} | "
                    f"{(predicted == labels).mean():.2%} | {(predicted == original.argmax(1)).mean():.2%} |"
                )
        if args.landmarks:
            compare_mesh_alignment(found_faces, classifier, labels, original.argmax(1), float(shift_y))
    return 0


def print_crop_gap(val, pick: np.ndarray, model: Path) -> None:
    """The app path's accuracy vs the model's on FER2013's own crops, per frame (training/app_crops.py)."""
    from emotiondesk.stages.classification import EmotionClassifier
    from training.app_crops import FRAMES, app_crops

    classifier = EmotionClassifier(model)
    images, labels = val.images[pick], val.labels[pick]
    original = classifier.classify(images[:, None].astype(np.float32)).argmax(1)
    print(f"Crop gap of {model.name} on {len(pick)} validation faces (FER2013 labels; app default geometry)\n")
    print("| frame | BlazeFace found | FER2013 crops | app path | gap (points) | app path, all faces* |")
    print("|---|---|---|---|---|---|")
    for number, frame in enumerate(FRAMES):
        crops, found = app_crops(images, frame, seed=number)
        predicted = classifier.classify(crops[:, None].astype(np.float32)).argmax(1)
        on_crops = (original[found] == labels[found]).mean()
        on_app = (predicted[found] == labels[found]).mean()
        everything = np.where(found, predicted, original) == labels
        print(
            f"| {frame} | {found.mean():.1%} | {on_crops:.2%} | {on_app:.2%} | {100 * (on_app - on_crops):+.2f} | "
            f"{everything.mean():.2%} |"
        )
    print("\n*faces BlazeFace missed counted with their FER2013 crop\n")


# Face-mesh indices of the eye corners: the subject's right eye (image left), then the left eye.
RIGHT_EYE_CORNERS, LEFT_EYE_CORNERS = (33, 133), (362, 263)


def mesh_eye_keypoints(face) -> np.ndarray | None:
    """The face's keypoints with both eyes (rows 0, 1) moved to the mesh's eye-corner midpoints; None without a
    mesh. `preprocessing.crop_transform` levels the eye line from these rows."""
    if face.landmarks is None:
        return None
    keypoints = np.zeros((6, 2), np.float32) if face.keypoints is None else face.keypoints.copy()
    keypoints[0] = face.landmarks[list(RIGHT_EYE_CORNERS), :2].mean(axis=0)
    keypoints[1] = face.landmarks[list(LEFT_EYE_CORNERS), :2].mean(axis=0)
    return keypoints


def compare_mesh_alignment(found_faces, classifier, labels, original, shift_y: float) -> None:
    """Accuracy with the eye line from BlazeFace keypoints vs from the face mesh, on faces both models found."""
    from dataclasses import replace

    from emotiondesk.stages.crops import DEFAULT_GEOMETRY, CropGeometry, face_crops
    from emotiondesk.stages.face_details import FaceLandmarker, attach_details

    meshed, keep = [], []
    with FaceLandmarker(video=False, max_faces=1) as landmarker:
        for number, (canvas, face) in enumerate(found_faces):
            face = replace(face)
            attach_details([face], landmarker.detect(canvas))
            if face.landmarks is not None:
                meshed.append((canvas, face, replace(face, keypoints=mesh_eye_keypoints(face))))
                keep.append(number)
    keep = np.array(keep)
    angles = []
    for _canvas, blaze, mesh in meshed:
        (rx, ry), (lx, ly) = blaze.keypoints[0], blaze.keypoints[1]
        (mrx, mry), (mlx, mly) = mesh.keypoints[0], mesh.keypoints[1]
        angles.append(np.degrees(np.arctan2(ly - ry, lx - rx) - np.arctan2(mly - mry, mlx - mrx)))
    print(
        f"\nEye alignment source, on the {len(meshed)} of {len(found_faces)} faces the Face Landmarker also found "
        f"(eye-line angle, BlazeFace minus mesh: median |difference| {np.median(np.abs(angles)):.2f}°, "
        f"95th percentile {np.percentile(np.abs(angles), 95):.2f}°)\n"
    )
    print("| geometry | eye line from | accuracy | agreement with original-crop prediction |")
    print("|---|---|---|---|")
    measured = CropGeometry(scale=1.17, shift_y=round(shift_y, 3))
    for name, geometry in (("app default (scale 1.2, shift 0.08)", DEFAULT_GEOMETRY), ("scale 1.17", measured)):
        for source, index in (("BlazeFace keypoints", 1), ("face mesh eye corners", 2)):
            crops = np.concatenate([face_crops(item[0], [item[index]], geometry) for item in meshed])
            predicted = classifier.classify(crops).argmax(1)
            print(
                f"| {name} | {source} | {(predicted == labels[keep]).mean():.2%} | "
                f"{(predicted == original[keep]).mean():.2%} |"
            )


if __name__ == "__main__":
    sys.exit(main())
