"""Headless analysis of a file, folder or camera: CSV + sidecar + annotated video + summary."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from emotiondesk.errors import EmotionDeskError, RecordingError
from emotiondesk.metadata import SessionInfo
from emotiondesk.palette import DEFAULT_PALETTE
from emotiondesk.pipeline import Pipeline, PipelineConfig, RunSummary, config_for_source
from emotiondesk.runs.stops import exit_code_of, signals_held
from emotiondesk.sinks.base import RunStatus, Sink
from emotiondesk.sinks.csv_sink import CsvRecorder
from emotiondesk.sinks.safety import check_outputs, run_outputs
from emotiondesk.sinks.video import AnnotatedVideoSink
from emotiondesk.sources import FrameSource, open_source
from emotiondesk.types import FrameResult


@dataclass
class AnalyzeOutcome:
    summary: RunSummary
    interrupted: bool = False
    error: EmotionDeskError | None = None
    frames_in_source: int | None = None  # the source's length (None: a camera or unknown), never the --max-frames cut
    max_frames: int | None = None  # the --max-frames asked for (None: the whole source)
    stop: KeyboardInterrupt | None = None  # what interrupted the run (a StopSignal names the signal)

    def status(self) -> RunStatus:
        """How the run ended, for the sinks' records."""
        state = "error" if self.error else "interrupted" if self.interrupted else "finished"
        error = str(self.error) if self.error else None
        summary = self.summary.as_dict()
        return RunStatus(state, self.summary.frames, self.frames_in_source, error, summary, self.max_frames)

    @property
    def exit_code(self) -> int:
        """128 + the number of the signal that stopped the run (130 for Ctrl+C); 0 when not interrupted."""
        return exit_code_of(self.stop) if self.interrupted else 0


def analyze(
    source_spec: str,
    config: PipelineConfig,
    csv_path: Path | None = None,
    annotated_path: Path | None = None,
    progress: bool = True,
    max_frames: int | None = None,
    on_result: Callable[[FrameResult], None] | None = None,
    extra_sinks: Callable[[Pipeline, FrameSource], list[Sink]] | None = None,
    overwrite: bool = False,
    info: SessionInfo | None = None,
    palette: str = DEFAULT_PALETTE,
) -> AnalyzeOutcome:
    """Run the pipeline over a source into its sinks (CSV + sidecar, annotated video, any `extra_sinks`);
    `info` (participant, session, notes) goes into the CSV's columns and sidecar.

    Errors while opening raise; errors mid-run end the run cleanly, keep everything written so far, and are
    returned in `AnalyzeOutcome.error`; every sink is closed with the run's true status. Every output is checked
    (`check_outputs`) before the source is opened. A Ctrl+C, or SIGTERM/SIGHUP inside `runs.stops.stop_on_signals`,
    ends the run as interrupted."""
    check_outputs([source_spec], run_outputs(csv_path, annotated_path), overwrite=overwrite)
    source = open_source(source_spec)
    config = config_for_source(config, source.kind, source.frame_count)
    sinks: list[Sink] = []
    summary = RunSummary()
    outcome = AnalyzeOutcome(summary, frames_in_source=source.frame_count, max_frames=max_frames)
    try:
        with Pipeline(config) as pipeline:
            if csv_path is not None:
                metadata = pipeline.session_metadata(source, str(source_spec))
                sinks.append(
                    CsvRecorder(
                        csv_path,
                        pipeline.labels,
                        metadata,
                        info=info,
                        overwrite=overwrite,
                        face_details=config.face_details,
                    )
                )
            if annotated_path is not None:
                sinks.append(AnnotatedVideoSink(annotated_path, source.fps or 10.0, palette))
            if extra_sinks is not None:
                sinks.extend(extra_sinks(pipeline, source))
            _run(source, pipeline, sinks, progress, max_frames, on_result, outcome)
    except KeyboardInterrupt as stop:
        outcome.interrupted, outcome.stop = True, stop
    finally:
        source.close()
        status = outcome.status()
        for sink in sinks:
            try:
                sink.close(status)
            except RecordingError as error:
                outcome.error = outcome.error or error
    return outcome


def _run(
    source: FrameSource,
    pipeline: Pipeline,
    sinks: list[Sink],
    progress: bool,
    max_frames: int | None,
    on_result,
    outcome: AnalyzeOutcome,
) -> None:
    from tqdm import tqdm

    summary = outcome.summary
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
            with signals_held():  # a stop lands between frames: every output has this frame, and it is counted
                write_started = time.perf_counter()
                for sink in sinks:
                    sink.write(result, frame.image)
                result.timings_ms["write"] = (time.perf_counter() - write_started) * 1e3
                summary.add(result)
            if on_result is not None:
                on_result(result)
            bar.update(1)
            bar.set_postfix(faces=len(result.faces), refresh=False)
            if max_frames is not None and summary.frames >= max_frames:
                break
    except KeyboardInterrupt as stop:
        outcome.interrupted, outcome.stop = True, stop
    except EmotionDeskError as error:
        outcome.error = error
    except (OSError, RuntimeError, ValueError) as error:  # a misbehaving source or codec: end cleanly
        outcome.error = EmotionDeskError(f"{source.name}: reading failed ({type(error).__name__}: {error})")
    finally:
        summary.seconds = time.perf_counter() - started
        bar.close()
