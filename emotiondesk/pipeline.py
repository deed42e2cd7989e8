"""The pipeline every front end drives: frame → faces → crops → one batched classification → tracks."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace

import cv2
import numpy as np

from emotiondesk import __version__
from emotiondesk.sources import FrameSource, to_bgr
from emotiondesk.stages.classification import EmotionClassifier
from emotiondesk.stages.crops import DEFAULT_GEOMETRY, CropGeometry, face_crops
from emotiondesk.stages.detection import DetectorThread
from emotiondesk.stages.face_details import DETAIL_COLUMNS, DetailSchedule, FaceDetailsThread, attach_details
from emotiondesk.stages.tracking import FaceTracker
from emotiondesk.types import Frame, FrameResult


@dataclass
class PipelineConfig:
    """Every setting that changes results; recorded in the CSV sidecar."""

    model: str | None = None  # ONNX path; None = bundled FER2013 model
    detector: str = "short"  # short | full | path to .tflite
    min_detection_confidence: float = 0.5
    smoothing_window: int = 5  # frames of EMA over probabilities (1 = off)
    max_missing_s: float = 1.0  # a face keeps its ID this long after it was last seen
    geometry: CropGeometry = field(default_factory=lambda: DEFAULT_GEOMETRY)
    video: bool = True  # False for unrelated stills (image folders): no tracking across images
    face_details: bool = False  # blendshapes, head pose and landmarks per face (emotiondesk/stages/face_details.py)
    face_details_every: int = 1  # run the landmarker on every Nth frame, carrying each face's values between


def config_for_source(config: PipelineConfig, kind: str, frame_count: int | None) -> PipelineConfig:
    """A folder of several stills is unrelated images: no tracking or smoothing across them."""
    if kind == "images" and (frame_count or 0) > 1:
        return replace(config, video=False)
    return config


@dataclass
class _InFlight:
    """A frame handed to the detector thread, waiting for its faces."""

    frame: Frame
    image: np.ndarray | None  # BGR; None for an empty frame (nothing was submitted)
    details: bool = False  # also handed to the face landmarker


class Pipeline:
    """Owns the detector (in its own thread), classifier and tracker; use it from one thread, then `close()`."""

    def __init__(self, config: PipelineConfig | None = None) -> None:
        self.config = config or PipelineConfig()
        self.classifier = EmotionClassifier(self.config.model)
        self.detector = DetectorThread(self.config.detector, self.config.min_detection_confidence, self.config.video)
        self.restart_tracking()
        self.details = None  # FaceDetailsThread when config.face_details
        self.detail_schedule = None
        if self.config.face_details:
            try:
                self.details = FaceDetailsThread(video=self.config.video)
            except BaseException:
                self.detector.close()
                raise
            self.detail_schedule = DetailSchedule(self.config.face_details_every)

    @property
    def labels(self) -> tuple[str, ...]:
        return self.classifier.labels

    def process(self, frame: Frame) -> FrameResult:
        """Run every stage on one frame; `timings_ms` holds each stage's time."""
        return self._finish(self._start(frame))

    def stream(self, frames: Iterable[Frame]) -> Iterator[tuple[Frame, FrameResult]]:
        """`process` over a stream, in order, yielding (frame, result): frame N+1 is read and detected
        (on a second core) while frame N is classified, tracked and handed to the caller.

        If reading a frame fails, the frame already read is delivered before the error is raised.
        """
        frames = iter(frames)
        in_flight: _InFlight | None = None
        try:
            while True:
                try:
                    frame = next(frames)
                except StopIteration:
                    break
                except BaseException:
                    if in_flight is not None:
                        last, in_flight = in_flight, None
                        yield last.frame, self._finish(last)
                    raise
                previous, in_flight = in_flight, self._start(frame)
                if previous is not None:
                    yield previous.frame, self._finish(previous)
            if in_flight is not None:
                last, in_flight = in_flight, None
                yield last.frame, self._finish(last)
        finally:
            if in_flight is not None and in_flight.image is not None:  # stopped early: drop its detection
                with contextlib.suppress(Exception):
                    self.detector.collect()
                if in_flight.details:
                    with contextlib.suppress(Exception):
                        self.details.collect()

    def _start(self, frame: Frame) -> _InFlight:
        """Hand the frame to the detector thread."""
        if frame.image is None or frame.image.size == 0:  # a source hiccup: nothing to see, nothing to record
            return _InFlight(frame, None)
        image = to_bgr(frame.image)
        self.detector.submit(image, frame.time_s)
        details = self.details is not None and self.detail_schedule.due()
        if details:
            self.details.submit(image, frame.time_s)
        return _InFlight(frame, image, details)

    def _finish(self, in_flight: _InFlight) -> FrameResult:
        """Collect the frame's faces, then crop, classify (one call for all faces) and track."""
        frame, image = in_flight.frame, in_flight.image
        if image is None:
            return FrameResult(
                frame.index, frame.time_s, 0, 0, [], self.labels, {"total": 0.0}, frame.wall_time, frame.captured
            )
        faces, detect_ms = self.detector.collect()
        details_ms = None
        if in_flight.details:
            detail_faces, details_ms = self.details.collect()
            attach_details(faces, detail_faces)
        start = time.perf_counter()
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        crops = face_crops(gray, faces, self.config.geometry)
        after_crop = time.perf_counter()
        probabilities = self.classifier.classify(crops)
        for face, row in zip(faces, probabilities):
            face.probabilities = row
        after_classify = time.perf_counter()
        if self.config.video:
            self.tracker.update(faces, frame.time_s)
        else:
            for number, face in enumerate(faces, start=1):
                face.face_id, face.smoothed = number, face.probabilities
        if self.detail_schedule is not None:
            self.detail_schedule.carry(faces, fresh=in_flight.details)
        end = time.perf_counter()
        timings = {
            "detect": detect_ms,
            "crop": (after_crop - start) * 1e3,
            "classify": (after_classify - after_crop) * 1e3,
            "track": (end - after_classify) * 1e3,
        }
        if details_ms is not None:  # in its own thread, beside detection: counted in total like detect
            timings["details"] = details_ms
        timings["total"] = sum(timings.values())
        height, width = image.shape[:2]
        return FrameResult(
            frame.index, frame.time_s, width, height, faces, self.labels, timings, frame.wall_time, frame.captured
        )

    def describe(self) -> dict:
        """Model, detector and thresholds, for sidecars and About boxes."""
        config = asdict(self.config)
        return {
            "emotiondesk_version": __version__,
            "model": {
                "path": str(self.classifier.path),
                "name": self.classifier.name,
                "version": self.classifier.metadata.get("version", ""),
                "labels": list(self.labels),
            },
            "detector": {
                "model": str(self.detector.model_path),
                "min_confidence": self.config.min_detection_confidence,
            },
            "smoothing": {"method": "EMA of probabilities", "window_frames": self.config.smoothing_window},
            "tracking": {"max_missing_s": self.config.max_missing_s},
            "crop": config["geometry"],
            **self._describe_details(),
        }

    def _describe_details(self) -> dict:
        if self.details is None:
            return {}
        return {
            "face_details": {
                "model": str(self.details.model_path),
                "columns": DETAIL_COLUMNS,
                "head_pose": "degrees; yaw > 0 turned to its own left, pitch > 0 looking up, roll > 0 tilted to its "
                "own left shoulder (emotiondesk/stages/face_details.py)",
                "matching": "landmark-mesh box to BlazeFace box, greedy IoU >= 0.3; unmatched faces: empty cells",
                "schedule": self.detail_schedule.describe(),
            }
        }

    def session_metadata(self, source: FrameSource, spec: str) -> dict:
        """What a CSV sidecar records: where the frames came from and how they were analysed."""
        origin = {"spec": str(spec), "kind": source.kind, "name": source.name, "fps": source.fps}
        return {"source": {**origin, "frames": source.frame_count}, **self.describe()}

    def restart_tracking(self) -> None:
        """Forget every track and number faces from 1 again (a file played again from its start)."""
        self.tracker = FaceTracker(
            max_missing_s=self.config.max_missing_s, smoothing_window=self.config.smoothing_window
        )

    def close(self) -> None:
        self.detector.close()
        if self.details is not None:
            self.details.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class RunSummary:
    """What a run saw: counts, label distribution and speed."""

    frames: int = 0
    faces: int = 0
    face_ids: set[int] = field(default_factory=set)
    labels: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    stage_ms: dict[str, list[float]] = field(default_factory=dict)

    def add(self, result: FrameResult) -> None:
        self.frames += 1
        self.faces += len(result.faces)
        for face in result.faces:
            self.face_ids.add(face.face_id)
            self.labels[result.label_of(face.probabilities)] += 1
        for stage, value in result.timings_ms.items():
            self.stage_ms.setdefault(stage, []).append(value)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict:
        return {
            "frames": self.frames,
            "faces": self.faces,
            "distinct_face_ids": len(self.face_ids),
            "label_counts": dict(self.labels.most_common()),
            "seconds": round(self.seconds, 3),
            "fps": round(self.fps, 2),
            "median_stage_ms": {k: round(float(np.median(v)), 3) for k, v in self.stage_ms.items()},
        }

    def text(self) -> str:
        lines = [
            f"{self.frames} frames, {self.faces} face detections, {len(self.face_ids)} distinct faces, "
            f"{self.fps:.1f} fps"
        ]
        total = sum(self.labels.values())
        for label, count in self.labels.most_common():
            bar = "█" * round(30 * count / total) if total else ""
            lines.append(f"  {label:>9} {count:6d} {count / total:6.1%} {bar}")
        return "\n".join(lines)
