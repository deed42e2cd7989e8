"""Face details: 52 blendshape scores, head pose and the 478-point mesh per face (MediaPipe Face Landmarker).

An optional pipeline stage (`PipelineConfig.face_details`). The landmarker runs on the whole frame in its own
thread, next to the BlazeFace thread; its faces are matched to the detected faces by the IoU of the mesh's
bounding box with the BlazeFace box, so the details land on the same `Face` (and the same face ID) as the
emotion. With `face_details_every = N > 1` it runs on every Nth frame and each face's last values are carried
forward in between.

Head pose, in degrees, from the landmarker's 4×4 facial transformation matrix (canonical face → camera;
camera space: x to the image right, y up, z towards the viewer), decomposed as R = Ry(yaw)·Rx(−pitch)·Rz(−roll):

- yaw > 0: the face is turned to its own left (the nose points towards the image right of an unmirrored camera);
- pitch > 0: the face looks up (chin up);
- roll > 0: the head is tilted towards its own left shoulder (the face turns clockwise in the image).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from emotiondesk.assets import models_dir
from emotiondesk.errors import ModelError
from emotiondesk.stages.detection import MediaPipeTask, ModelThread
from emotiondesk.types import Box, Face

LANDMARKER_MODEL = "face_landmarker.task"
# MediaPipe's blendshape categories in its output order (ARKit names; MediaPipe calls the first "_neutral").
BLENDSHAPE_NAMES: tuple[str, ...] = (
    "neutral",
    "browDownLeft",
    "browDownRight",
    "browInnerUp",
    "browOuterUpLeft",
    "browOuterUpRight",
    "cheekPuff",
    "cheekSquintLeft",
    "cheekSquintRight",
    "eyeBlinkLeft",
    "eyeBlinkRight",
    "eyeLookDownLeft",
    "eyeLookDownRight",
    "eyeLookInLeft",
    "eyeLookInRight",
    "eyeLookOutLeft",
    "eyeLookOutRight",
    "eyeLookUpLeft",
    "eyeLookUpRight",
    "eyeSquintLeft",
    "eyeSquintRight",
    "eyeWideLeft",
    "eyeWideRight",
    "jawForward",
    "jawLeft",
    "jawOpen",
    "jawRight",
    "mouthClose",
    "mouthDimpleLeft",
    "mouthDimpleRight",
    "mouthFrownLeft",
    "mouthFrownRight",
    "mouthFunnel",
    "mouthLeft",
    "mouthLowerDownLeft",
    "mouthLowerDownRight",
    "mouthPressLeft",
    "mouthPressRight",
    "mouthPucker",
    "mouthRight",
    "mouthRollLower",
    "mouthRollUpper",
    "mouthShrugLower",
    "mouthShrugUpper",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthStretchLeft",
    "mouthStretchRight",
    "mouthUpperUpLeft",
    "mouthUpperUpRight",
    "noseSneerLeft",
    "noseSneerRight",
)
POSE_NAMES = ("yaw", "pitch", "roll")
DETAIL_COLUMNS: list[str] = [f"bs_{name}" for name in BLENDSHAPE_NAMES] + list(POSE_NAMES)
MIN_MATCH_IOU = 0.3  # a mesh box and a BlazeFace box of one face overlap far more (typically 0.6–0.8)


def landmarker_model_path(path: str | Path | None = None) -> Path:
    """The bundled Face Landmarker bundle, or a `.task` file."""
    model = Path(path).expanduser() if path else models_dir() / LANDMARKER_MODEL
    if not model.is_file():
        raise ModelError(f"{model}: face landmarker model not found")
    return model


def head_pose_from_matrix(matrix: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from a 4×4 facial transformation matrix; signs as in the module docstring."""
    r = np.asarray(matrix, dtype=np.float64)[:3, :3]
    yaw = math.degrees(math.atan2(r[0, 2], r[2, 2]))
    pitch = math.degrees(math.asin(float(np.clip(r[1, 2], -1.0, 1.0))))
    roll = -math.degrees(math.atan2(r[1, 0], r[1, 1]))
    return yaw, pitch, roll


def mesh_box(landmarks: np.ndarray) -> Box:
    """Bounding box of the mesh's x, y (pixels)."""
    x0, y0 = np.floor(landmarks[:, :2].min(axis=0))
    x1, y1 = np.ceil(landmarks[:, :2].max(axis=0))
    return Box(int(x0), int(y0), int(x1 - x0), int(y1 - y0))


def match_faces(faces: list[Face], details: list[Face], min_iou: float = MIN_MATCH_IOU) -> list[tuple[int, int]]:
    """Greedy one-to-one matching by box IoU, best pairs first: (index in `faces`, index in `details`)."""
    pairs = sorted(
        ((faces[i].box.iou(details[j].box), i, j) for i in range(len(faces)) for j in range(len(details))),
        reverse=True,
    )
    used_faces: set[int] = set()
    used_details: set[int] = set()
    matches = []
    for iou, i, j in pairs:
        if iou < min_iou:
            break
        if i in used_faces or j in used_details:
            continue
        used_faces.add(i)
        used_details.add(j)
        matches.append((i, j))
    return sorted(matches)


def attach_details(faces: list[Face], details: list[Face]) -> int:
    """Copy blendshapes, head pose and landmarks of matched landmarker faces onto `faces`; returns matches."""
    matches = match_faces(faces, details)
    for i, j in matches:
        faces[i].blendshapes = details[j].blendshapes
        faces[i].head_pose = details[j].head_pose
        faces[i].landmarks = details[j].landmarks
    return len(matches)


def detail_cells(face: Face) -> list[str]:
    """The face's DETAIL_COLUMNS values, formatted; empty cells where the landmarker gave nothing."""
    shapes = [f"{float(v):.4f}" for v in face.blendshapes] if face.blendshapes is not None else [""] * 52
    pose = [f"{v:.2f}" for v in face.head_pose] if face.head_pose is not None else ["", "", ""]
    return shapes + pose


def detail_vector(face: Face) -> np.ndarray:
    """The face's 55 detail values as float32 (blendshapes, yaw, pitch, roll); NaN where missing."""
    values = np.full(len(DETAIL_COLUMNS), np.nan, np.float32)
    if face.blendshapes is not None:
        values[: len(BLENDSHAPE_NAMES)] = face.blendshapes
    if face.head_pose is not None:
        values[len(BLENDSHAPE_NAMES) :] = face.head_pose
    return values


def top_blendshapes(face: Face, count: int = 5) -> list[tuple[str, float]]:
    """The face's `count` strongest blendshapes (the neutral score left out), strongest first."""
    if face.blendshapes is None:
        return []
    order = np.argsort(face.blendshapes[1:])[::-1][:count] + 1
    return [(BLENDSHAPE_NAMES[i], float(face.blendshapes[i])) for i in order]


class FaceLandmarker(MediaPipeTask):
    """MediaPipe Face Landmarker (see detection.MediaPipeTask).

    `detect()` returns one `Face` per face it found, with `box` = the mesh's bounding box and blendshapes,
    head pose and landmarks filled in.
    """

    def __init__(self, model: str | Path | None = None, max_faces: int = 6, video: bool = True) -> None:
        self.model_path = landmarker_model_path(model)
        self._names_checked = False

        def make(vision, running_mode):
            from mediapipe.tasks.python import BaseOptions

            options = vision.FaceLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(self.model_path)),
                running_mode=running_mode,
                num_faces=max_faces,
                output_face_blendshapes=True,
                output_facial_transformation_matrixes=True,
            )
            return vision.FaceLandmarker.create_from_options(options)

        self._load("face landmarker", make, video)

    def detect(self, bgr: np.ndarray, time_s: float = 0.0) -> list[Face]:
        """The faces of a BGR frame with their details (boxes: the mesh's bounding box, in pixels)."""
        height, width = bgr.shape[:2]
        result = self._run_bgr(bgr, time_s)
        if result.face_blendshapes and not self._names_checked:
            names = tuple(c.category_name.lstrip("_") for c in result.face_blendshapes[0])
            if names != BLENDSHAPE_NAMES:
                raise ModelError(f"{self.model_path}: unexpected blendshape categories {names[:3]}…")
            self._names_checked = True
        faces = []
        for index, points in enumerate(result.face_landmarks):
            landmarks = np.array([[p.x * width, p.y * height, p.z * width] for p in points], np.float32)
            face = Face(mesh_box(landmarks), 1.0, landmarks=landmarks)
            if index < len(result.face_blendshapes):
                face.blendshapes = np.array([c.score for c in result.face_blendshapes[index]], np.float32)
            if index < len(result.facial_transformation_matrixes):
                face.head_pose = head_pose_from_matrix(result.facial_transformation_matrixes[index])
            faces.append(face)
        return faces


class FaceDetailsThread(ModelThread):
    """A FaceLandmarker in its own thread (see detection.ModelThread), run beside the BlazeFace thread."""

    def __init__(self, model: str | Path | None = None, max_faces: int = 6, video: bool = True) -> None:
        super().__init__(lambda: FaceLandmarker(model, max_faces, video), "landmarker")


class DetailSchedule:
    """Runs the landmarker on every `every`-th frame; in between, each tracked face keeps its last values."""

    def __init__(self, every: int = 1) -> None:
        self.every = max(1, int(every))
        self._count = 0
        self._last: dict[int, tuple[np.ndarray | None, tuple[float, float, float] | None]] = {}

    def due(self) -> bool:
        """Whether the next frame gets a landmarker run (call once per frame, in order)."""
        due = self._count % self.every == 0
        self._count += 1
        return due

    def carry(self, faces: list[Face], fresh: bool) -> None:
        """After tracking: remember fresh values per face ID, or fill faces of a skipped frame from them."""
        if self.every == 1:
            return
        if fresh:
            self._last = {f.face_id: (f.blendshapes, f.head_pose) for f in faces if f.head_pose is not None}
            return
        for face in faces:
            if face.face_id in self._last and face.blendshapes is None:
                face.blendshapes, face.head_pose = self._last[face.face_id]

    def describe(self) -> dict:
        return {
            "every_n_frames": self.every,
            "between_runs": "each face's last values carried forward (landmarks not carried)"
            if self.every > 1
            else "runs on every frame",
        }
