"""Many recordings at once: one task per input on local worker processes or a Dask cluster, resumable, one index.

`run_batch` plans the batch (`runs.index`: names, resume, settings conflicts), hands every input to a runner
(`runs.local`: a process pool on this machine; `runs.cluster`: Dask workers anywhere) as the same task
(`runs.tasks.analyze_task`), keeps one progress bar over all workers, and rewrites `DIR/index.csv` after
every input. SIGINT, SIGTERM and SIGHUP stop it alike: running inputs are closed as `interrupted`, inputs not
started are cancelled and stay `pending`, the index is up to date, and the report carries the signal.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from emotiondesk.errors import RecordingError, SourceError
from emotiondesk.pipeline import PipelineConfig
from emotiondesk.runs.index import (
    INDEX_COLUMNS,
    INDEX_NAME,
    STATES,
    VIDEO_SUFFIXES,
    BatchInput,
    IndexRow,
    discover_inputs,
    frame_count,
    index_row,
    is_complete,
    path_digest,
    read_index,
    read_sidecar,
    settings_conflicts,
    settings_of,
    write_index,
)
from emotiondesk.runs.stops import StopSignal, stop_on_signals
from emotiondesk.runs.tasks import Outcome, Task
from emotiondesk.sinks.csv_sink import sidecar_path

__all__ = [
    "INDEX_COLUMNS",
    "VIDEO_SUFFIXES",
    "BatchProgress",
    "BatchReport",
    "available_cores",
    "default_jobs",
    "discover_inputs",
    "path_digest",
    "read_index",
    "run_batch",
]

CORES_PER_JOB = 1.5  # BlazeFace thread + the classifying thread (one onnxruntime thread) of one `analyze`
MIN_FRAMES_PER_JOB = 1000  # the default --jobs starts no more workers than there are thousands of frames
STOP_WAIT_S = 120.0  # after a stop, how long running inputs get to close their outputs


@dataclass(frozen=True)
class BatchProgress:
    """What a progress callback gets: frames across all inputs, and inputs ended (done, skipped or failed)."""

    frames_done: int
    frames_total: int
    files_done: int
    files_total: int


@dataclass
class BatchReport:
    """How a batch ended."""

    rows: list[IndexRow]
    index_path: Path
    interrupted: bool
    seconds: float
    jobs: int
    signum: int | None = None  # the stop signal, when one ended the batch
    runner: str = ""  # "2 jobs", "Dask tcp://127.0.0.1:8786, 2 workers"

    def count(self, state: str) -> int:
        return sum(1 for row in self.rows if row.status == state)

    @property
    def frames(self) -> int:
        """Frames analysed by this run: finished, interrupted and failed inputs (skipped ones were not redone)."""
        return sum(int(row.frames or 0) for row in self.rows if row.status in ("done", "interrupted", "failed"))

    def text(self) -> str:
        states = ", ".join(f"{self.count(s)} {s}" for s in STATES if self.count(s))
        fps = self.frames / self.seconds if self.seconds > 0 else 0.0
        runner = self.runner or (f"{self.jobs} job" + ("s" if self.jobs != 1 else ""))
        return (
            f"{len(self.rows)} inputs: {states}; {self.frames} frames analysed in {self.seconds:.1f} s "
            f"({fps:.1f} frames/s, {runner}); index: {self.index_path}"
        )

    def as_dict(self) -> dict:
        return {
            "inputs": len(self.rows),
            **{state: self.count(state) for state in STATES},
            "frames": self.frames,
            "seconds": round(self.seconds, 3),
            "jobs": self.jobs,
            "interrupted": self.interrupted,
            "signal": self.signum,
            "index": str(self.index_path),
        }


class Runner(Protocol):
    """Where the tasks run: `runs.local.LocalRunner` or `runs.cluster.DaskRunner`."""

    workers: int
    description: str

    def submit(self, task: Task, config: PipelineConfig):
        """Start `analyze_task(task, config, channel)`; a future (`done()`, `result()`, `add_done_callback`)."""

    def updates(self) -> list[tuple[int, str, int]]:
        """Progress messages since the last call: (input number, attempt, frames)."""

    def stop(self) -> None:
        """Ask running tasks to stop (they end as interrupted) and tasks not started to do nothing."""

    def cancel(self, futures: list) -> None:
        """Drop futures whose tasks have not started."""

    def close(self) -> None:
        """Release workers (and a cluster this runner started)."""


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def default_jobs(cores: int | None = None) -> int:
    """As many `analyze` processes as the cores keep busy, each using about CORES_PER_JOB cores."""
    return max(1, math.ceil((cores or available_cores()) / CORES_PER_JOB))


def run_batch(
    arguments: Sequence[str | Path],
    out_dir: Path,
    config: PipelineConfig,
    jobs: int | None = None,
    annotated: str | None = None,
    max_frames: int | None = None,
    progress: bool = True,
    on_progress: Callable[[BatchProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    overwrite: bool = False,
    dask: str | None = None,
) -> BatchReport:
    """Analyse every input of `arguments` into `out_dir`: with `jobs` local processes (default: `default_jobs()`,
    but no more than one per MIN_FRAMES_PER_JOB frames), or on the Dask cluster `dask` (a scheduler address,
    `local` or `local:N`).

    `annotated` is `mp4` or `avi` to also write annotated videos. Inputs already complete are skipped; a failing
    input is recorded and the batch goes on. A finished result made with other settings is refused before any
    work unless `overwrite`. A stop signal (or `should_stop()` turning true) stops the workers cleanly: their
    outputs say `interrupted`, and the index is up to date. Setup problems (no inputs, bad model, unwritable
    folder, settings conflicts, an unreachable cluster) raise EmotionDeskError before any work."""
    from emotiondesk import __version__
    from emotiondesk.stages.classification import EmotionClassifier

    started = time.perf_counter()
    if dask is not None:  # a wrong address or no Dask installed: said before any work
        from emotiondesk.runs.cluster import check_dask

        check_dask(dask)
    out_dir = Path(out_dir).expanduser()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RecordingError(f"{out_dir}: cannot create the output folder ({error.strerror or error})") from None
    if not os.access(out_dir, os.W_OK):
        raise RecordingError(f"{out_dir}: cannot write here (permission denied)")
    if annotated not in (None, "mp4", "avi"):
        raise RecordingError(f"{annotated}: annotated videos of a batch are mp4 or avi")
    items = discover_inputs(arguments, out_dir)
    if not items:
        raise SourceError(f"{', '.join(map(str, arguments))}: no videos, images or image folders found")
    settings = settings_of(config, max_frames)
    EmotionClassifier(config.model)  # a broken model fails here, once, not once per input
    plan = [(item, *item.outputs(out_dir, annotated)) for item in items]
    sources = {item.source.resolve() for item in items}
    for _, csv_path, video_path in plan:
        for output in (csv_path, sidecar_path(csv_path), video_path):
            if output is not None and output.resolve() in sources:
                raise RecordingError(f"{output}: is an input of this batch; choose another --out folder")
    if not overwrite:
        _refuse_other_settings(plan, settings, out_dir)

    index_path = out_dir / INDEX_NAME
    previous = [r for r in read_index(index_path) if Path(r.path) not in sources]
    rows: list[IndexRow] = []
    todo: list[Task] = []
    for number, (item, csv_path, video_path) in enumerate(plan):
        if is_complete(item, csv_path, video_path, settings):
            rows.append(index_row(item, csv_path, video_path, "skipped", "already finished"))
        elif not item.source.exists():  # never handed to open_source, which would take `0` for a camera
            rows.append(IndexRow(str(item.source.resolve()), "failed", "no such file or folder"))
        else:
            rows.append(IndexRow(str(item.source.resolve())))
            todo.append(Task(number, item.source.resolve(), csv_path, video_path, max_frames, __version__))
    write_index(index_path, rows + previous)

    expected = {task.number: frame_count(task.source) for task in todo}
    if max_frames is not None:
        expected = {number: min(count, max_frames) for number, count in expected.items()}
    counter = _Progress(sum(expected.values()), len(rows), len(rows) - len(todo), progress, on_progress)
    batch = _Batch(plan, rows, previous, index_path, expected, counter, started)
    signum: int | None = None
    interrupted = False
    workers = 0
    runner_text = ""
    try:
        with stop_on_signals():  # the one stop-signal handling of analyze, batch and the window
            try:
                if todo:
                    runner = _start_runner(dask, jobs, expected, len(todo))
                    workers, runner_text = runner.workers, runner.description
                    try:
                        interrupted = batch.work(runner, todo, config, should_stop)
                    finally:
                        runner.close()
            except StopSignal as stop:  # while the runner started, or while it stopped
                signum, interrupted = stop.signum, True
                batch.stopped()
            signum = batch.signum or signum
    finally:
        counter.close(stopped=interrupted)
    return BatchReport(
        rows, index_path, interrupted, time.perf_counter() - started, workers, signum, runner_text or "nothing to do"
    )


def _refuse_other_settings(plan: list[tuple[BatchInput, Path, Path | None]], settings: dict, out_dir: Path) -> None:
    """Raise before any work when finished results in `out_dir` were made with other settings."""
    conflicts = [(csv_path, settings_conflicts(item, csv_path, settings)) for item, csv_path, _ in plan]
    conflicts = [(csv_path, differ) for csv_path, differ in conflicts if differ]
    if not conflicts:
        return
    differ = sorted({line for _, lines in conflicts for line in lines})
    names = ", ".join(csv_path.name for csv_path, _ in conflicts[:3]) + (", …" if len(conflicts) > 3 else "")
    raise RecordingError(
        f"{out_dir}: {len(conflicts)} finished result(s) ({names}) were made with other settings "
        f"({'; '.join(differ)}); not replaced. Keep both: give this run another --out folder; "
        "replace them: add --overwrite"
    )


def _start_runner(dask: str | None, jobs: int | None, expected: dict[int, int], tasks: int) -> Runner:
    """The local pool (`jobs`), or Dask (`dask`); `--dask local` without N starts as many workers as `--jobs`'s
    default: ⌈cores ÷ 1.5⌉, at most one per MIN_FRAMES_PER_JOB frames and one per input."""
    if jobs is None:  # a worker takes ~1 CPU-second to start: not worth it for a few hundred frames
        jobs = min(default_jobs(), sum(expected.values()) // MIN_FRAMES_PER_JOB)
    jobs = max(1, min(jobs, tasks))
    if dask is not None:
        from emotiondesk.runs.cluster import DaskRunner

        return DaskRunner(dask, default_workers=jobs)
    from emotiondesk.runs.local import LocalRunner

    return LocalRunner(jobs)


class _Batch:
    """The running part of a batch: futures → index rows, progress, and a clean stop."""

    def __init__(self, plan, rows, previous, index_path, expected, counter, started) -> None:
        self.plan, self.rows, self.previous, self.index_path = plan, rows, previous, index_path
        self.expected, self.counter = expected, counter
        self.started_at = time.time() - (time.perf_counter() - started)
        self.running: dict = {}
        self.attempts: dict[int, tuple[str, int]] = {}  # input → (its current attempt, frames it reported)
        self.runner: Runner | None = None
        self.signum: int | None = None
        self.wake = threading.Event()

    def drain(self) -> None:
        """Progress messages into the bar; a new attempt at an input (a worker died) counts afresh."""
        assert self.runner is not None
        for number, attempt, count in self.runner.updates():
            current, counted = self.attempts.get(number, (attempt, 0))
            if current != attempt:
                self.counter.frames(-counted)
                counted = 0
            self.attempts[number] = (attempt, counted + count)
            self.counter.frames(count)

    def settle(self, future, task: Task) -> None:
        try:
            outcome = future.result()
        except Exception as error:  # the worker died (again and again), or a result could not be sent back
            outcome = Outcome(task.number, "failed", _died(error))
        item, csv_path, video_path = self.plan[task.number]
        self.rows[task.number] = index_row(item, csv_path, video_path, outcome.state, outcome.reason)
        self.counter.frames(outcome.frames - self.attempts.get(task.number, ("", 0))[1])
        self.attempts[task.number] = ("", outcome.frames)
        self.counter.file_ended(outcome.state, self.expected[task.number] - outcome.frames)
        self.counter.report()
        write_index(self.index_path, self.rows + self.previous)

    def work(self, runner: Runner, todo: list[Task], config: PipelineConfig, should_stop) -> bool:
        """Submit every task (longest first, so the workers end together) and settle them as they end;
        True when stopped."""
        self.runner = runner
        for task in sorted(todo, key=lambda t: -self.expected[t.number]):
            future = runner.submit(task, config)
            self.running[future] = task
            future.add_done_callback(lambda _: self.wake.set())
        try:
            while self.running:
                self.wake.wait(0.2)
                self.wake.clear()
                self.drain()
                for future in [f for f in self.running if f.done()]:
                    self.settle(future, self.running[future])
                    del self.running[future]  # after settling: a stop meanwhile settles it again
                self.counter.report()
                if should_stop is not None and should_stop():
                    self.stopped()
                    return True
        except StopSignal as stop:
            self.signum = stop.signum
            self.stopped()
            return True
        return False

    def stopped(self) -> None:
        """Stop: tasks not started are cancelled (`pending`), running ones close their outputs as interrupted;
        then every row and the index tell the truth."""
        runner = self.runner
        if runner is not None and self.running:
            runner.stop()
            self.drain()
            started = set(self.attempts)
            runner.cancel([f for f, t in self.running.items() if t.number not in started and not f.done()])
            deadline = time.monotonic() + STOP_WAIT_S
            while time.monotonic() < deadline and not all(self._ended(f, t) for f, t in self.running.items()):
                self.wake.wait(0.1)
                self.wake.clear()
                self.drain()
            self.drain()
            for future, task in list(self.running.items()):
                if future.done() and not future.cancelled():
                    self.settle(future, task)
                else:
                    self.rows[task.number] = self._unsettled_row(task)
            self.running.clear()
        for row in self.rows:
            if row.status == "pending" and row.reason == "":
                row.reason = "not started"
        write_index(self.index_path, self.rows + self.previous)

    def _ended(self, future, task: Task) -> bool:
        """Whether a task is over after a stop. A cancelled task may have begun before its first progress
        message arrived: cancelling does not stop it, so it is over only once its sidecar no longer says
        `running` (the task saw the stop and closed its outputs as interrupted)."""
        if future.cancelled():
            return not self._ours(task, ("running",))
        return future.done()

    def _ours(self, task: Task, states: tuple[str, ...]) -> bool:
        """Whether this batch wrote the task's sidecar and it says one of `states`."""
        _, csv_path, _ = self.plan[task.number]
        sidecar = read_sidecar(csv_path)
        try:
            ours = sidecar is not None and sidecar_path(csv_path).stat().st_mtime >= self.started_at
        except OSError:
            ours = False
        return ours and sidecar.get("status") in states

    def _unsettled_row(self, task: Task) -> IndexRow:
        """A cancelled (or still closing) task's row, from its sidecar when this batch wrote one."""
        item, csv_path, video_path = self.plan[task.number]
        if self._ours(task, ("interrupted", "running")):
            return index_row(item, csv_path, video_path, "interrupted", "stopped before the end")
        return index_row(item, csv_path, video_path, "pending", "not started")


def _died(error: BaseException) -> str:
    name = type(error).__name__
    if name in ("BrokenProcessPool", "KilledWorker"):
        return "the worker process died while analysing it" + (" (on every retry)" if name == "KilledWorker" else "")
    return f"{name}: {error}"


class _Progress:
    """One tqdm bar on stderr (frames across all workers, inputs ended in the postfix) and the progress callback."""

    def __init__(
        self,
        frames_total: int,
        files_total: int,
        files_done: int,
        show: bool,
        callback: Callable[[BatchProgress], None] | None,
    ) -> None:
        from tqdm import tqdm

        self.frames_done, self.frames_total = 0, frames_total
        self.files_done, self.files_total = files_done, files_total
        self.callback = callback
        self.lock = threading.Lock()
        self.bar = tqdm(total=frames_total, unit="frame", desc="batch", disable=not show, file=sys.stderr)
        self.bar.set_postfix_str(f"files {files_done}/{files_total}")
        self.report()

    def frames(self, count: int) -> None:
        if count:
            self.frames_done += count
            self.bar.update(count)

    def file_ended(self, state: str, frames_short: int) -> None:
        """One input's task ended; an input that finished or failed leaves the frames it did not deliver out of the
        total; one interrupted or not started keeps them (the bar shows what is left to do)."""
        if state not in ("done", "failed"):
            return
        self.files_done += 1
        self.frames_total -= frames_short
        self.bar.total = self.frames_total
        self.bar.set_postfix_str(f"files {self.files_done}/{self.files_total}")

    def report(self) -> None:
        if self.callback is not None:
            self.callback(BatchProgress(self.frames_done, self.frames_total, self.files_done, self.files_total))

    def close(self, stopped: bool = False) -> None:
        if stopped:
            self.bar.set_postfix_str(f"files {self.files_done}/{self.files_total}, stopped", refresh=False)
        self.report()
        self.bar.close()
