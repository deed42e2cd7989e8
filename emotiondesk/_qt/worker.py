"""The capture + inference thread: the same core pipeline as the CLI, driven from a QThread."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from PySide6.QtCore import QThread, Signal

from emotiondesk.errors import EmotionDeskError
from emotiondesk.metadata import FaceNames, SessionInfo
from emotiondesk.pipeline import Pipeline, PipelineConfig, RunSummary, config_for_source
from emotiondesk.sinks.base import RunStatus
from emotiondesk.sinks.csv_sink import CsvRecorder
from emotiondesk.sinks.markers import Marker, MarkersSink, markers_path
from emotiondesk.sources import FrameSource, open_source

SPEEDS = {"0.5×": 0.5, "1×": 1.0, "2×": 2.0, "As fast as possible": 0.0}


@dataclass
class _Requests:
    """What the UI asked for since the worker last looked (guarded by the worker's lock)."""

    recording: list[tuple[Path, SessionInfo, FaceNames] | None] = field(default_factory=list)  # None = stop
    paused: bool | None = None
    seek: int | None = None
    speed: float | None = None
    restart: bool = False
    whole_file: bool = False
    names: FaceNames | None = None
    markers: list[Marker] = field(default_factory=list)


class PipelineWorker(QThread):
    """Opens the source, runs the pipeline, records, and hands the newest frame to the UI.

    Everything that touches MediaPipe, onnxruntime, OpenCV capture or the recording files lives in
    `run()`, i.e. in this thread. The UI talks to it only through the thread-safe request methods below
    and listens to its signals (queued into the UI thread). Display is latest-frame-wins: while the UI
    has not taken the previous frame, new frames are processed and recorded but not sent.

    Files can be paused, sought, sped up or slowed down, looped and restarted; recording a file that has
    ended plays it again from its first frame; `analyse_whole_file` records it from frame 0 at full speed.
    """

    frame_ready = Signal(object, object)  # BGR image (numpy), FrameResult
    source_opened = Signal(str, str)  # source name, kind
    source_failed = Signal(str, bool)  # message, retry makes sense (camera)
    source_finished = Signal()
    recording_started = Signal(str)  # CSV path
    recording_stopped = Signal(str, int)  # CSV path, rows
    recording_failed = Signal(str)
    analysis_finished = Signal(str)  # CSV path of a whole-file analysis that reached the end
    lsl_failed = Signal(str)  # LSL was asked for but cannot stream (message); the source keeps running

    def __init__(
        self, source_spec: str, config: PipelineConfig, realtime: bool = True, loop: bool = False, lsl: bool = False
    ) -> None:
        super().__init__()
        self.lsl = lsl
        self.live_sinks: list = []  # LSL outlets: every processed frame, recording or not
        self.source_spec = source_spec
        self.config = replace(config)
        self.loop = loop
        self.speed = 1.0 if realtime else 0.0  # 0 = as fast as possible
        self._stop = threading.Event()
        self._display_busy = threading.Event()
        self._lock = threading.Lock()
        self._requests = _Requests()
        self.recorder: CsvRecorder | None = None
        self.markers_sink: MarkersSink | None = None
        self._recorded = RunSummary()  # what the current recording saw, for its sidecar
        self._recording_started = 0.0
        self._whole_file_speed: float | None = None  # the speed to return to after a whole-file analysis
        self.paused = False
        self.ended = False
        self.frames_processed = 0
        self.frames_displayed = 0
        self.source_kind = ""
        self.frame_count: int | None = None
        self.fps: float | None = None
        self.model_name = ""
        self.labels: tuple[str, ...] = ()

    # --- called from the UI thread -------------------------------------------------------------
    def request_stop(self) -> None:
        self._stop.set()

    def frame_taken(self) -> None:
        """The UI painted the last frame: the next one may be sent."""
        self._display_busy.clear()

    def start_recording(self, path: Path, info: SessionInfo | None = None, names: FaceNames | None = None) -> None:
        """Record to `path` (+ sidecar, + `_markers.csv`); on a file that has ended, from its first frame."""
        with self._lock:
            self._requests.recording.append((Path(path), info or SessionInfo(), (names or FaceNames()).copy()))

    def stop_recording(self) -> None:
        with self._lock:
            self._requests.recording.append(None)

    def analyse_whole_file(self, path: Path, info: SessionInfo | None = None, names: FaceNames | None = None) -> None:
        """Record the file from its first frame at full speed; the recording stops at its end."""
        with self._lock:
            self._requests.recording.append((Path(path), info or SessionInfo(), (names or FaceNames()).copy()))
            self._requests.whole_file = True
            self._requests.restart = True

    def set_paused(self, paused: bool) -> None:
        with self._lock:
            self._requests.paused = paused

    def seek(self, index: int) -> None:
        """Go to frame `index` (shown even while paused)."""
        with self._lock:
            self._requests.seek = max(0, int(index))

    def set_speed(self, speed: float) -> None:
        """Playback speed of files: 0.5, 1, 2 … × real time, 0 = as fast as possible."""
        with self._lock:
            self._requests.speed = max(0.0, float(speed))

    def set_loop(self, on: bool) -> None:
        self.loop = bool(on)

    def restart(self) -> None:
        """Play the file again from its first frame."""
        with self._lock:
            self._requests.restart = True

    def set_face_names(self, names: FaceNames) -> None:
        """Names and merges for the rows recorded from now on and for the sidecar."""
        with self._lock:
            self._requests.names = names.copy()

    def add_marker(self, marker: Marker) -> None:
        """Write a marker (already stamped by the UI) to the recording's markers CSV."""
        with self._lock:
            self._requests.markers.append(marker)

    # --- worker thread ---------------------------------------------------------------------------
    def run(self) -> None:
        pipeline = None
        source = None
        try:
            source = open_source(self.source_spec)
            self.config = config_for_source(self.config, source.kind, source.frame_count)
            pipeline = Pipeline(self.config)
            self.model_name = pipeline.classifier.name
            self.labels = pipeline.labels
            self.source_kind, self.frame_count, self.fps = source.kind, source.frame_count, source.fps
            self.source_opened.emit(source.name, source.kind)
            self._open_lsl(pipeline, source)
            while not self._stop.is_set():
                again = self._play(source, pipeline)
                if self._stop.is_set() or source.kind == "camera":
                    break
                if not again:
                    self._reached_end()
                    again = self._wait_after_end(pipeline, source)
                if not again:
                    break
                source.close()
                source = open_source(self.source_spec)
                pipeline.restart_tracking()
        except EmotionDeskError as error:
            self.source_failed.emit(str(error), source is None or source.kind == "camera" or self.source_spec.isdigit())
        finally:
            self._finish_recording()
            for sink in self.live_sinks:
                sink.close(RunStatus("finished", self.frames_processed))
            self.live_sinks = []
            if source is not None:
                source.close()
            if pipeline is not None:
                pipeline.close()

    def _reached_end(self) -> None:
        self.ended = True
        if self._whole_file_speed is not None:
            path = self.recorder.path if self.recorder is not None else None
            self.speed, self._whole_file_speed = self._whole_file_speed, None
            self._finish_recording(whole_file=True)
            if path is not None:
                self.analysis_finished.emit(str(path))
        self.source_finished.emit()

    def _wait_after_end(self, pipeline: Pipeline, source: FrameSource) -> bool:
        """Serve requests until closed; True when the file should play again (restart, seek, record)."""
        while not self._stop.is_set():
            action = self._handle_requests(pipeline, source)
            if action in ("restart", "seek"):
                return True
            self._stop.wait(0.05)
        return False

    def _play(self, source: FrameSource, pipeline: Pipeline) -> bool:
        """Play until the end (False) or until a restart is asked for (True)."""
        self.ended = False
        frames = iter(source)
        anchor: tuple[float, float] | None = None  # (monotonic, time_s) pacing starts from
        show_one = False
        while not self._stop.is_set():
            action = self._handle_requests(pipeline, source)
            if action == "restart":
                return True
            if action in ("seek", "speed", "resume"):
                anchor = None
                show_one = action == "seek"
            if self.paused and not show_one:
                self._stop.wait(0.03)
                continue
            show_one = False
            frame = next(frames, None)
            if frame is None:
                return self.loop and self._whole_file_speed is None
            result = pipeline.process(frame)
            self.frames_processed += 1
            self._record(result, frame.image)
            for sink in self.live_sinks:
                sink.write(result, frame.image)
            if not self._display_busy.is_set():
                self._display_busy.set()
                self.frames_displayed += 1
                self.frame_ready.emit(frame.image, result)
            if self.speed > 0 and source.kind != "camera":
                anchor = anchor or (time.monotonic(), frame.time_s)
                delay = (frame.time_s - anchor[1]) / self.speed - (time.monotonic() - anchor[0])
                if delay > 0:
                    self._stop.wait(delay)
        return False

    def _record(self, result, image) -> None:
        if self.recorder is None:
            return
        try:
            self.recorder.write(result)
            if self.markers_sink is not None:
                self.markers_sink.write(result, image)
            self._recorded.add(result)
        except EmotionDeskError as error:
            self._finish_recording()
            self.recording_failed.emit(str(error))

    def _handle_requests(self, pipeline: Pipeline, source: FrameSource) -> str | None:
        """Apply what the UI asked for; returns restart, seek, speed or resume when playback must react."""
        with self._lock:
            requests, self._requests = self._requests, _Requests()
        action = None
        if requests.names is not None and self.recorder is not None:
            self.recorder.set_face_names(requests.names)
        for marker in requests.markers:
            if self.markers_sink is not None:
                try:
                    self.markers_sink.add(marker)
                except EmotionDeskError as error:
                    self.recording_failed.emit(str(error))
        for request in requests.recording:  # in the order asked: start, stop, start…
            self._finish_recording()
            if request is None:
                if self._whole_file_speed is not None:
                    self.speed, self._whole_file_speed = self._whole_file_speed, None
                continue
            self._open_recording(pipeline, source, *request)
            if self.ended and source.kind != "camera":
                action, self.paused = "restart", False  # recording a file that has ended plays it from the start
        if requests.whole_file and self.recorder is not None:
            self._whole_file_speed = self.speed if self._whole_file_speed is None else self._whole_file_speed
            self.speed, self.paused = 0.0, False
        if requests.speed is not None:
            if self._whole_file_speed is not None:
                self._whole_file_speed = requests.speed
            else:
                self.speed = requests.speed
                action = action or "speed"
        if requests.paused is not None and requests.paused != self.paused:
            self.paused = requests.paused
            action = action or ("resume" if not self.paused else None)
        if requests.seek is not None and source.kind == "video":
            if self.ended:
                with self._lock:
                    self._requests.seek = requests.seek  # applied once the file is open again
                action = "seek"
            else:
                source.seek(requests.seek)
                pipeline.tracker.reset()
                action = action or "seek"
        if requests.restart:
            action = "restart"
        return action

    def _open_lsl(self, pipeline: Pipeline, source: FrameSource) -> None:
        """The LSL outlets, made in this thread; a failure is reported and the source keeps running."""
        if not self.lsl:
            return
        try:
            from emotiondesk.sinks.lsl import lsl_sinks

            self.live_sinks = lsl_sinks(session="live")(pipeline, source)
        except EmotionDeskError as error:
            self.lsl_failed.emit(str(error))

    def _marker_to_lsl(self, marker) -> None:
        for sink in self.live_sinks:
            if hasattr(sink, "push_marker"):
                sink.push_marker(marker.marker, marker.text)

    def _open_recording(self, pipeline: Pipeline, source: FrameSource, path: Path, info, names) -> None:
        try:
            metadata = pipeline.session_metadata(source, self.source_spec)
            metadata["markers_csv"] = markers_path(path).name
            self.recorder = CsvRecorder(
                path, pipeline.labels, metadata, info=info, names=names, face_details=self.config.face_details
            )
            self.markers_sink = MarkersSink(markers_path(path), on_marker=self._marker_to_lsl)
            self._recorded, self._recording_started = RunSummary(), time.monotonic()
            self.recording_started.emit(str(path))
        except EmotionDeskError as error:
            if self.recorder is not None:
                self.recorder.close(RunStatus("error", 0, None, str(error)))
                self.recorder = None
            self.recording_failed.emit(str(error))

    def _finish_recording(self, whole_file: bool = False) -> None:
        """Close the recording; a whole-file analysis says `finished` only when it reached the end."""
        if self.markers_sink is not None:
            self.markers_sink.close()
            self.markers_sink = None
        if self.recorder is not None:
            recorder, self.recorder = self.recorder, None
            self._recorded.seconds = time.monotonic() - self._recording_started
            try:
                frames, summary = self._recorded.frames, self._recorded.as_dict()
                if whole_file or self._whole_file_speed is not None:
                    state = "finished" if whole_file else "interrupted"
                    recorder.close(RunStatus(state, frames, self.frame_count, None, summary))
                else:
                    recorder.close(RunStatus("finished", frames, None, None, summary))
            except EmotionDeskError as error:
                self.recording_failed.emit(str(error))
            self.recording_stopped.emit(str(recorder.path), recorder.rows_written)
