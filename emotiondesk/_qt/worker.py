"""The capture + inference thread: the same core pipeline as the CLI, driven from a QThread."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QThread, Signal

from emotiondesk.errors import EmotionDeskError
from emotiondesk.pipeline import Pipeline, PipelineConfig, RunSummary, config_for_source
from emotiondesk.recording import CsvRecorder
from emotiondesk.sinks import RunStatus
from emotiondesk.sources import FrameSource, open_source


class PipelineWorker(QThread):
    """Opens the source, runs the pipeline, records, and hands the newest frame to the UI.

    Everything that touches MediaPipe, onnxruntime, OpenCV capture or the recording file lives in
    `run()`, i.e. in this thread. The UI talks to it only through the thread-safe methods below and
    listens to its signals (queued into the UI thread). Display is latest-frame-wins: while the UI
    has not taken the previous frame, new frames are processed and recorded but not sent.
    """

    frame_ready = Signal(object, object)  # BGR image (numpy), FrameResult
    source_opened = Signal(str, str)  # source name, kind
    source_failed = Signal(str, bool)  # message, retry makes sense (camera)
    source_finished = Signal()
    recording_started = Signal(str)  # CSV path
    recording_stopped = Signal(str, int)  # CSV path, rows
    recording_failed = Signal(str)
    lsl_failed = Signal(str)  # LSL was asked for but cannot stream (message); the source keeps running

    def __init__(
        self, source_spec: str, config: PipelineConfig, realtime: bool = True, loop: bool = False, lsl: bool = False
    ) -> None:
        super().__init__()
        self.lsl = lsl
        self.live_sinks: list = []  # LSL outlets: every processed frame, recording or not
        self.source_spec = source_spec
        self.config = replace(config)
        self.realtime = realtime
        self.loop = loop
        self._stop = threading.Event()
        self._display_busy = threading.Event()
        self._lock = threading.Lock()
        self._record_request: Path | None = None
        self._stop_recording_request = False
        self.recorder: CsvRecorder | None = None
        self._recorded = RunSummary()  # what the current recording saw, for its sidecar
        self._recording_started = 0.0
        self.frames_processed = 0
        self.frames_displayed = 0
        self.source_kind = ""
        self.model_name = ""
        self.labels: tuple[str, ...] = ()

    # --- called from the UI thread -------------------------------------------------------------
    def request_stop(self) -> None:
        self._stop.set()

    def frame_taken(self) -> None:
        """The UI painted the last frame: the next one may be sent."""
        self._display_busy.clear()

    def start_recording(self, path: Path) -> None:
        with self._lock:
            self._record_request = Path(path)

    def stop_recording(self) -> None:
        with self._lock:
            self._stop_recording_request = True

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
            self.source_kind = source.kind
            self.source_opened.emit(source.name, source.kind)
            self._open_lsl(pipeline, source)
            while not self._stop.is_set():
                self._play(source, pipeline)
                if not self.loop or self._stop.is_set() or source.kind == "camera":
                    break
                source.close()
                source = open_source(self.source_spec)
            if not self._stop.is_set():
                self.source_finished.emit()
                while not self._stop.is_set():  # keep serving record/stop requests until closed
                    self._handle_recording_requests(pipeline, source)
                    time.sleep(0.05)
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

    def _play(self, source, pipeline: Pipeline) -> None:
        started = time.monotonic()
        first_time = None
        for frame in source:
            if self._stop.is_set():
                return
            self._handle_recording_requests(pipeline, source)
            result = pipeline.process(frame)
            self.frames_processed += 1
            if self.recorder is not None:
                try:
                    self.recorder.write(result)
                    self._recorded.add(result)
                except EmotionDeskError as error:
                    self._finish_recording()
                    self.recording_failed.emit(str(error))
            for sink in self.live_sinks:
                sink.write(result, frame.image)
            if not self._display_busy.is_set():
                self._display_busy.set()
                self.frames_displayed += 1
                self.frame_ready.emit(frame.image, result)
            if self.realtime and source.kind != "camera":
                first_time = frame.time_s if first_time is None else first_time
                delay = (frame.time_s - first_time) - (time.monotonic() - started)
                if delay > 0:
                    self._stop.wait(delay)

    def _open_lsl(self, pipeline: Pipeline, source: FrameSource) -> None:
        """The LSL outlets, made in this thread; a failure is reported and the source keeps running."""
        if not self.lsl:
            return
        try:
            from emotiondesk.lsl import lsl_sinks

            self.live_sinks = lsl_sinks(session="live")(pipeline, source)
        except EmotionDeskError as error:
            self.lsl_failed.emit(str(error))

    def _handle_recording_requests(self, pipeline: Pipeline, source: FrameSource) -> None:
        with self._lock:
            request, self._record_request = self._record_request, None
            stop, self._stop_recording_request = self._stop_recording_request, False
        if stop:
            self._finish_recording()
        if request is not None:
            self._finish_recording()
            try:
                metadata = pipeline.session_metadata(source, self.source_spec)
                self.recorder = CsvRecorder(request, pipeline.labels, metadata, face_details=self.config.face_details)
                self._recorded, self._recording_started = RunSummary(), time.monotonic()
                self.recording_started.emit(str(request))
            except EmotionDeskError as error:
                self.recording_failed.emit(str(error))

    def _finish_recording(self) -> None:
        if self.recorder is not None:
            recorder, self.recorder = self.recorder, None
            self._recorded.seconds = time.monotonic() - self._recording_started
            try:
                frames = self._recorded.frames
                recorder.close(RunStatus("finished", frames, None, None, self._recorded.as_dict()))
            except EmotionDeskError as error:
                self.recording_failed.emit(str(error))
            self.recording_stopped.emit(str(recorder.path), recorder.rows_written)
