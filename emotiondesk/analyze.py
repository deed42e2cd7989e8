"""Headless analysis of a file, folder or camera: CSV + sidecar + annotated video + summary."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from emotiondesk.drawing import draw_result
from emotiondesk.errors import EmotionDeskError, RecordingError
from emotiondesk.pipeline import Pipeline, PipelineConfig, RunSummary, annotated_writer, config_for_source
from emotiondesk.recording import CsvRecorder
from emotiondesk.sources import FrameSource, open_source
from emotiondesk.types import FrameResult


@dataclass
class AnalyzeOutcome:
    summary: RunSummary
    interrupted: bool = False
    error: EmotionDeskError | None = None


def analyze(
    source_spec: str,
    config: PipelineConfig,
    csv_path: Path | None = None,
    annotated_path: Path | None = None,
    progress: bool = True,
    max_frames: int | None = None,
    on_result: Callable[[FrameResult], None] | None = None,
) -> AnalyzeOutcome:
    """Run the pipeline over a source. Errors while opening raise; errors mid-run end the run cleanly,
    keep everything written so far, and are returned in `AnalyzeOutcome.error`."""
    source = open_source(source_spec)
    config = config_for_source(config, source.kind, source.frame_count)
    recorder = None
    summary = RunSummary()
    outcome = AnalyzeOutcome(summary)
    try:
        with Pipeline(config) as pipeline:
            if csv_path is not None:
                metadata = pipeline.session_metadata(source, str(source_spec))
                recorder = CsvRecorder(csv_path, pipeline.labels, metadata)
            outcome = _run(source, pipeline, recorder, annotated_path, progress, max_frames, on_result, summary)
    finally:
        source.close()
        if recorder is not None:
            try:
                recorder.close(summary.as_dict())
            except RecordingError as error:
                outcome.error = outcome.error or error
    return outcome


def _run(
    source: FrameSource,
    pipeline: Pipeline,
    recorder: CsvRecorder | None,
    annotated_path: Path | None,
    progress: bool,
    max_frames: int | None,
    on_result,
    summary: RunSummary,
) -> AnalyzeOutcome:
    from tqdm import tqdm

    outcome = AnalyzeOutcome(summary)
    writer = None
    total = source.frame_count if max_frames is None else min(source.frame_count or max_frames, max_frames)
    bar = tqdm(
        total=total,
        unit="frame",
        disable=not progress,
        file=sys.stderr,
        dynamic_ncols=True,
        desc=Path(source.name).name if source.kind != "camera" else source.name,
    )
    started = time.perf_counter()
    try:
        for frame, result in pipeline.stream(source):
            summary.add(result)
            draw_started = time.perf_counter()
            if recorder is not None:
                recorder.write(result)
            if annotated_path is not None:
                if writer is None:
                    writer = annotated_writer(annotated_path, source.fps or 10.0, result.width, result.height)
                writer.write(_fit(draw_result(frame.image, result), result.width, result.height))
            result.timings_ms["write"] = (time.perf_counter() - draw_started) * 1e3
            if on_result is not None:
                on_result(result)
            bar.update(1)
            bar.set_postfix(faces=len(result.faces), refresh=False)
            if max_frames is not None and summary.frames >= max_frames:
                break
    except KeyboardInterrupt:
        outcome.interrupted = True
    except EmotionDeskError as error:
        outcome.error = error
    except (OSError, RuntimeError, ValueError) as error:  # a misbehaving source or codec: end cleanly
        outcome.error = EmotionDeskError(f"{source.name}: reading failed ({type(error).__name__}: {error})")
    finally:
        summary.seconds = time.perf_counter() - started
        bar.close()
        if writer is not None:
            writer.release()
    return outcome


def _fit(image, width: int, height: int):
    """Annotated videos keep the first frame's size even if the source changes resolution."""
    import cv2

    if image.shape[1] != width or image.shape[0] != height:
        return cv2.resize(image, (width, height))
    return image


def check_writable(path: Path | None) -> None:
    """Fail before any work if an output cannot be created."""
    import os

    if path is None:
        return
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise RecordingError(f"{path}: is a folder, expected a file name")
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not os.access(probe, os.W_OK):
        raise RecordingError(f"{path}: cannot write here (permission denied on {probe})")
