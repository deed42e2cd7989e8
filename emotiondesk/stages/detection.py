"""Face detection with MediaPipe's BlazeFace (Tasks API), offline and quiet."""

from __future__ import annotations

import contextlib
import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from emotiondesk.assets import detector_model_path
from emotiondesk.errors import ModelError
from emotiondesk.types import Box, Face

# MediaPipe ≥ 1.2 sends usage statistics with a libcurl client built into its native library; no
# option turns it off. libcurl honours the proxy variables, so pointing them at a closed loopback
# port makes that client fail locally: no DNS look-up and no packet leaves the machine
# (tests/test_privacy.py proves it under strace). emotiondesk itself makes no network requests.
OFFLINE_PROXY = "http://127.0.0.1:9"
PROXY_VARIABLES = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")


def keep_mediapipe_offline() -> None:
    """Route MediaPipe's built-in usage logging to a dead loopback port (see OFFLINE_PROXY)."""
    for name in PROXY_VARIABLES:
        os.environ[name] = OFFLINE_PROXY
    for name in ("no_proxy", "NO_PROXY"):
        os.environ.pop(name, None)


# fd 2 is one per process: the detector's and the landmarker's threads take turns redirecting it, or one
# thread's restore could leave fd 2 on the other's closed temporary file.
FD2_REDIRECT_LOCK = threading.RLock()


@contextlib.contextmanager
def native_stderr_captured() -> Iterator[list[str]]:
    """Send fd 2 to a temporary file while native code prints its banners; yields the captured lines."""
    captured: list[str] = []
    with FD2_REDIRECT_LOCK:
        try:
            saved = os.dup(2)
        except OSError:  # no fd 2 (e.g. a windowed app): nothing to hide
            yield captured
            return
        with tempfile.TemporaryFile(mode="w+b") as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield captured
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                sink.seek(0)
                captured.extend(sink.read().decode(errors="replace").splitlines())


class MediaPipeTask:
    """What FaceDetector and FaceLandmarker share: a MediaPipe Tasks object, offline, with its native banners
    captured, in VIDEO mode (timestamps made strictly increasing) or IMAGE mode for unrelated stills.

    Create, use and close it in one thread (or use `with`).
    """

    model_path: Path
    _task = None

    def _load(self, what: str, make_task: Callable[[Any, Any], Any], video: bool) -> list[str]:
        """Build the task with `make_task(vision, running_mode)` and run it once; returns the banner lines."""
        keep_mediapipe_offline()
        self.video = video
        self._last_timestamp_ms = -1
        self._seen_shapes: set[tuple[int, ...]] = set()
        with native_stderr_captured() as banner:
            try:
                import mediapipe as mp
                from mediapipe.tasks.python import vision

                running_mode = vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE
                self._task = make_task(vision, running_mode)
                self._mp = mp
                # The first inference prints the XNNPACK banner: run it here, while fd 2 is captured.
                self._run(np.zeros((64, 64, 3), np.uint8), 0)
            except (RuntimeError, ValueError, OSError) as error:
                detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                raise ModelError(f"{self.model_path}: {what} failed to load ({detail})") from None
        return banner

    def _run(self, rgb: np.ndarray, timestamp_ms: int):
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        if not self.video:
            return self._task.detect(image)
        timestamp_ms = max(int(timestamp_ms), self._last_timestamp_ms + 1)
        self._last_timestamp_ms = timestamp_ms
        return self._task.detect_for_video(image, timestamp_ms)

    def _run_bgr(self, bgr: np.ndarray, time_s: float):
        """The task's raw result for a BGR frame."""
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)  # 40× faster than a numpy channel flip (2.4 → 0.06 ms)
        if rgb.shape in self._seen_shapes:
            return self._run(rgb, int(time_s * 1000))
        with native_stderr_captured():  # LiteRT logs a buffer warning the first time it sees a frame size
            result = self._run(rgb, int(time_s * 1000))
        self._seen_shapes.add(rgb.shape)
        return result

    def close(self) -> None:
        if self._task is not None:
            with native_stderr_captured():
                self._task.close()
            self._task = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class FaceDetector(MediaPipeTask):
    """BlazeFace (see MediaPipeTask)."""

    def __init__(self, model: str | Path = "short", min_confidence: float = 0.5, video: bool = True) -> None:
        self.model_path = detector_model_path(model)
        self.min_confidence = min_confidence

        def make(vision, running_mode):
            from mediapipe.tasks.python import BaseOptions

            options = vision.FaceDetectorOptions(
                base_options=BaseOptions(model_asset_path=str(self.model_path)),
                running_mode=running_mode,
                min_detection_confidence=min_confidence,
            )
            return vision.FaceDetector.create_from_options(options)

        self.startup_log = self._load("face detector", make, video)

    def detect(self, bgr: np.ndarray, time_s: float = 0.0) -> list[Face]:
        """Faces in a BGR frame, boxes clipped to the frame, keypoints in pixels."""
        height, width = bgr.shape[:2]
        result = self._run_bgr(bgr, time_s)
        faces = []
        for detection in result.detections:
            bb = detection.bounding_box
            x0, y0 = max(0, bb.origin_x), max(0, bb.origin_y)
            x1, y1 = min(width, bb.origin_x + bb.width), min(height, bb.origin_y + bb.height)
            if x1 - x0 < 2 or y1 - y0 < 2:
                continue
            keypoints = np.array([[k.x * width, k.y * height] for k in detection.keypoints], np.float32)
            score = detection.categories[0].score if detection.categories else 0.0
            faces.append(
                Face(
                    Box(int(x0), int(y0), int(x1 - x0), int(y1 - y0)),
                    float(score),
                    keypoints if len(keypoints) else None,
                )
            )
        return faces


class ModelThread:
    """A model (FaceDetector, FaceLandmarker…) that lives in its own thread: created, used and closed there, as
    MediaPipe wants. `make()` builds it in that thread; it needs `detect(bgr, time_s)`, `close()` and `model_path`.

    `submit()` hands over a frame and returns at once; `collect()` waits for the oldest submitted frame's
    result. With one frame in flight, the next frame is processed on a second core while the caller
    classifies the current one (`Pipeline.stream`).
    """

    def __init__(self, make: Callable[[], Any], name: str) -> None:
        self.name = name
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        self._results: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, args=(make,), name=f"emotiondesk-{name}", daemon=True)
        self._thread.start()
        ready = self._results.get()  # the model's path, or the error that stopped it loading
        if isinstance(ready, BaseException):
            self._thread.join()
            raise ready
        self.model_path: Path = ready

    def _serve(self, make: Callable[[], Any]) -> None:
        try:
            model = make()
        except BaseException as error:  # handed to the constructor, which raises it in the caller's thread
            self._results.put(error)
            return
        self._results.put(model.model_path)
        try:
            while (request := self._requests.get()) is not None:
                image, time_s = request
                started = time.perf_counter()
                try:
                    result = model.detect(image, time_s)
                except Exception as error:  # raised again by collect()
                    self._results.put(error)
                    continue
                self._results.put((result, (time.perf_counter() - started) * 1e3))
        finally:
            model.close()

    def submit(self, bgr: np.ndarray, time_s: float) -> None:
        if not self._thread.is_alive():
            raise RuntimeError(f"{self.name} thread is closed")
        self._requests.put((bgr, time_s))

    def collect(self) -> tuple[list[Face], float]:
        """Faces of the oldest submitted frame and the ms the model took."""
        result = self._results.get()
        if isinstance(result, BaseException):
            raise result
        return result

    def detect(self, bgr: np.ndarray, time_s: float = 0.0) -> list[Face]:
        """Synchronous: submit and collect one frame."""
        self.submit(bgr, time_s)
        return self.collect()[0]

    def close(self) -> None:
        """Stop the thread after the frames already submitted; the model is closed in it."""
        if self._thread.is_alive():
            self._requests.put(None)
            self._thread.join()


class DetectorThread(ModelThread):
    """A FaceDetector in its own thread (see ModelThread)."""

    def __init__(self, model: str | Path = "short", min_confidence: float = 0.5, video: bool = True) -> None:
        super().__init__(lambda: FaceDetector(model, min_confidence, video), "detector")
