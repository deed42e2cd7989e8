"""Many recordings at once: one `analyze()` per input in a pool of processes, resumable, with one `index.csv`.

Each input (a video, an image, or a folder of images) gets `DIR/<name>.csv` + `<name>.json` (+ `<name>.annotated.mp4`).
An input is complete when its sidecar says `finished` with the same models and settings; re-running the same
batch skips complete inputs and redoes the rest. `DIR/index.csv` is rewritten atomically after every input.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import math
import multiprocessing
import multiprocessing.context
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, fields
from multiprocessing.managers import SyncManager
from pathlib import Path

from emotiondesk.errors import EmotionDeskError, RecordingError, SourceError
from emotiondesk.pipeline import PipelineConfig
from emotiondesk.sinks.csv_sink import sidecar_path
from emotiondesk.sources import IMAGE_SUFFIXES

VIDEO_SUFFIXES = frozenset(
    {".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ts", ".mts"}
)
ANNOTATED_TAG = ".annotated"
INDEX_NAME = "index.csv"
STATES = ("done", "skipped", "failed", "interrupted", "pending")
CORES_PER_JOB = 1.5  # BlazeFace thread + the classifying thread (one onnxruntime thread) of one `analyze`
MIN_FRAMES_PER_JOB = 1000  # the default --jobs starts no more workers than there are thousands of frames
REPORT_EVERY_S = 0.1  # workers send progress and look for a stop request this often


@dataclass(frozen=True)
class BatchInput:
    """One input of a batch and where its outputs go."""

    source: Path
    name: str  # output base name inside the output folder, unique in the batch

    def outputs(self, out_dir: Path, annotated: str | None) -> tuple[Path, Path | None]:
        """(CSV path, annotated video path or None)."""
        return out_dir / f"{self.name}.csv", out_dir / f"{self.name}{ANNOTATED_TAG}.{annotated}" if annotated else None


@dataclass
class IndexRow:
    """One row of `index.csv`."""

    path: str
    status: str = "pending"  # one of STATES
    reason: str = ""
    frames: int | None = None
    faces: int | None = None
    duration_s: float | None = None
    processing_s: float | None = None
    csv: str = ""
    sidecar: str = ""
    annotated: str = ""

    def cells(self) -> list[str]:
        return ["" if value is None else str(value) for value in (getattr(self, c) for c in INDEX_COLUMNS)]


INDEX_COLUMNS = [column.name for column in fields(IndexRow)]


@dataclass(frozen=True)
class BatchProgress:
    """What a progress callback gets: frames across all inputs, and inputs finished (any state)."""

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

    def count(self, state: str) -> int:
        return sum(1 for row in self.rows if row.status == state)

    @property
    def frames(self) -> int:
        return sum(row.frames or 0 for row in self.rows if row.status == "done")

    def text(self) -> str:
        states = ", ".join(f"{self.count(s)} {s}" for s in STATES if self.count(s))
        fps = self.frames / self.seconds if self.seconds > 0 else 0.0
        return (
            f"{len(self.rows)} inputs: {states}; {self.frames} frames analysed in {self.seconds:.1f} s "
            f"({fps:.1f} frames/s, {self.jobs} jobs); index: {self.index_path}"
        )

    def as_dict(self) -> dict:
        return {
            "inputs": len(self.rows),
            **{state: self.count(state) for state in STATES},
            "frames": self.frames,
            "seconds": round(self.seconds, 3),
            "jobs": self.jobs,
            "interrupted": self.interrupted,
            "index": str(self.index_path),
        }


@dataclass(frozen=True)
class _Task:
    """What a worker process needs to analyse one input."""

    number: int
    source: Path
    csv: Path
    annotated: Path | None
    max_frames: int | None


@dataclass(frozen=True)
class _Outcome:
    """What a worker process hands back: the state, why, and the frames it analysed."""

    number: int
    state: str  # done | failed | interrupted | pending
    reason: str = ""
    frames: int = 0


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def default_jobs(cores: int | None = None) -> int:
    """As many `analyze` processes as the cores keep busy, each using about CORES_PER_JOB cores."""
    return max(1, math.ceil((cores or available_cores()) / CORES_PER_JOB))


def discover_inputs(arguments: Sequence[str | Path], out_dir: Path) -> list[BatchInput]:
    """Every input of the arguments, named uniquely: a file is one input; a folder means every video under it
    and every folder of images under it (the folder itself included), skipping `out_dir` and hidden entries."""
    out_dir = Path(out_dir).resolve()
    found: list[tuple[Path, tuple[str, ...]]] = []
    for argument in arguments:
        path = Path(argument).expanduser()
        if not path.is_dir():
            found.append((path, (path.stem,)))
            continue
        for folder, subfolders, files in os.walk(path):
            here = Path(folder)
            subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and (here / d).resolve() != out_dir)
            files = sorted(f for f in files if not f.startswith("."))
            relative = here.relative_to(path).parts
            if any(Path(f).suffix.lower() in IMAGE_SUFFIXES for f in files):
                found.append((here, relative or (path.resolve().name,)))
            for file in files:
                if Path(file).suffix.lower() not in VIDEO_SUFFIXES:
                    continue
                if here.resolve() == out_dir and ANNOTATED_TAG in file:  # our own annotated videos
                    continue
                found.append((here / file, (*relative, Path(file).stem)))
    unique: dict[Path, tuple[Path, tuple[str, ...]]] = {}
    for source, parts in found:
        unique.setdefault(source.resolve(), (source, parts))
    return _name_inputs(list(unique.values()), out_dir)


def path_digest(path: Path) -> str:
    """8 hex digits that tell apart inputs (or folders) with the same name."""
    return hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()[:8]


def _name_inputs(found: list[tuple[Path, tuple[str, ...]]], out_dir: Path) -> list[BatchInput]:
    """`sub__stem` names; a name that clashes (case-insensitively) with another input's, with the index, or
    with outputs already in `out_dir` from another input gets a hash of the input's path."""
    names = ["__".join(parts) or "input" for _, parts in found]
    counts: dict[str, int] = {Path(INDEX_NAME).stem: 1}
    for name in names:
        counts[name.lower()] = counts.get(name.lower(), 0) + 1
    return [
        BatchInput(source, f"{name}-{path_digest(source)}")
        if counts[name.lower()] > 1 or _made_from_another(out_dir / f"{name}.csv", source)
        else BatchInput(source, name)
        for (source, _), name in zip(found, names)
    ]


def _made_from_another(csv_path: Path, source: Path) -> bool:
    """True when `csv_path` or its sidecar exists and is not known to come from `source` (never overwrite it)."""
    if not csv_path.exists() and not sidecar_path(csv_path).exists():
        return False
    try:
        return Path(_read_sidecar(csv_path)["source"]["spec"]).resolve() != source.resolve()
    except (KeyError, TypeError):
        return True


def _settings(config: PipelineConfig) -> dict:
    """The settings a finished output must have been made with to be reused (as its sidecar records them)."""
    from emotiondesk.assets import detector_model_path, emotion_model_path

    return {
        "model": str(emotion_model_path(config.model)),
        "detector": str(detector_model_path(config.detector)),
        "min_confidence": config.min_detection_confidence,
        "smoothing": config.smoothing_window,
    }


def _read_sidecar(csv_path: Path) -> dict | None:
    try:
        return json.loads(sidecar_path(csv_path).read_text())
    except (OSError, ValueError):
        return None


def is_complete(
    item: BatchInput, csv_path: Path, annotated: Path | None, settings: dict, max_frames: int | None = None
) -> bool:
    """True when this input's outputs exist and its sidecar says it finished, from this input (not changed since),
    with `settings` and the same `--max-frames` cut."""
    sidecar = _read_sidecar(csv_path)
    if not sidecar or sidecar.get("status") != "finished" or not sidecar.get("frames_done") or not csv_path.exists():
        return False
    try:
        if item.source.stat().st_mtime > sidecar_path(csv_path).stat().st_mtime:  # the input changed since
            return False
    except OSError:
        return False
    try:
        made_with = {
            "model": sidecar["model"]["path"],
            "detector": sidecar["detector"]["model"],
            "min_confidence": sidecar["detector"]["min_confidence"],
            "smoothing": sidecar["smoothing"]["window_frames"],
        }
        length = sidecar["source"]["frames"]  # the input's length; `frames_in_source` is less only when cut
        cut = sidecar["frames_in_source"] if sidecar["frames_in_source"] != length else None
    except (KeyError, TypeError):
        return False
    wanted_cut = max_frames if max_frames is not None and (length is None or max_frames < length) else None
    same_source = not _made_from_another(csv_path, item.source)
    return same_source and made_with == settings and cut == wanted_cut and (annotated is None or annotated.exists())


def _row(item: BatchInput, csv_path: Path, annotated: Path | None, state: str, reason: str = "") -> IndexRow:
    """An index row, with counts and times from the sidecar where the input was worked on."""
    row = IndexRow(str(item.source.resolve()), state, reason)
    sidecar = _read_sidecar(csv_path) if state != "pending" else None
    if sidecar is not None:
        summary = sidecar.get("summary", {})
        fps = (sidecar.get("source") or {}).get("fps")
        row.frames = sidecar.get("frames_done", sidecar.get("frames"))
        row.faces = summary.get("faces", sidecar.get("rows"))
        row.duration_s = round(row.frames / fps, 3) if fps and row.frames is not None else None
        row.processing_s = summary.get("seconds")
        row.csv, row.sidecar = csv_path.name, sidecar_path(csv_path).name
    if annotated is not None and annotated.exists():
        row.annotated = annotated.name
    return row


def write_index(path: Path, rows: list[IndexRow]) -> None:
    """Write the index atomically: a temporary file, then a rename."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with open(temporary, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(INDEX_COLUMNS)
            writer.writerows(row.cells() for row in rows)
        os.replace(temporary, path)
    except OSError as error:
        raise RecordingError(f"{path}: cannot write the index ({error.strerror or error})") from None


def read_index(path: Path) -> list[IndexRow]:
    """The rows of an existing index (none if it is missing or unreadable)."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, ValueError):
        return []
    return [IndexRow(**{c: row.get(c) or "" for c in INDEX_COLUMNS}) for row in rows if row.get("path")]


def _frame_count(source: Path) -> int:
    """Frames an input should have, cheaply (container header or file count); 0 when unknown or unreadable."""
    import cv2

    from emotiondesk.stages.detection import native_stderr_captured

    if source.is_dir():
        return sum(1 for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if source.suffix.lower() in IMAGE_SUFFIXES:
        return 1
    if not source.is_file():
        return 0
    with native_stderr_captured():  # FFmpeg's complaints about a broken file belong to its worker's run
        capture = cv2.VideoCapture(str(source))
    try:
        return max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT)))
    finally:
        capture.release()


def _problem(error: BaseException, source: Path) -> str:
    """An error's message without the leading `<input>: ` (the index and error line name the input)."""
    message = str(error)
    for prefix in (f"{source}: ", f"{source.expanduser()}: "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored (and blocked, so a Ctrl+C meanwhile stays pending) in this process for a moment; only the
    main thread handles signals, so elsewhere (the window's batch thread) this does nothing."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


class _SpawnProcess(multiprocessing.context.SpawnProcess):
    """A spawned process that starts with SIGINT ignored: Ctrl+C reaches every process of the terminal's group,
    and one arriving while a worker imports its libraries would kill it half-started. The parent stops the
    workers itself (the stop event), and ignores SIGINT only for the fork and exec (inherited through exec)."""

    @staticmethod
    def _Popen(process_obj):  # noqa: N802 (multiprocessing's name)
        with _sigint_ignored():
            return multiprocessing.context.SpawnProcess._Popen(process_obj)


class _SpawnContext(multiprocessing.context.SpawnContext):
    """'spawn' (mediapipe's and onnxruntime's threads do not survive fork), with `_SpawnProcess`."""

    Process = _SpawnProcess


def _ignore_sigint() -> None:
    """Workers and the manager leave Ctrl+C to the parent, which stops them through the stop event (also where
    they were started from a thread other than the main one, so did not inherit SIGINT ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _Reporter:
    """`on_result` of a worker's `analyze`: sends frame counts to the parent and stops when asked."""

    def __init__(self, number: int, updates, stop) -> None:
        self.number, self.updates, self.stop = number, updates, stop
        self.unsent = 0
        self.last = time.monotonic()

    def __call__(self, result) -> None:
        self.unsent += 1
        if time.monotonic() - self.last >= REPORT_EVERY_S:
            self.flush()
            if self.stop.is_set():
                raise KeyboardInterrupt  # `analyze` ends the run as interrupted and closes its sinks

    def flush(self) -> None:
        if self.unsent:
            self.updates.put((self.number, self.unsent))
            self.unsent = 0
        self.last = time.monotonic()


def _analyze_task(task: _Task, config: PipelineConfig, updates, stop) -> _Outcome:
    """Runs in a worker process: one `analyze()` of one input (its Pipeline is made, used and closed here)."""
    from emotiondesk.runs.analyze import analyze

    if stop.is_set():
        return _Outcome(task.number, "pending", "not started")
    reporter = _Reporter(task.number, updates, stop)
    try:
        outcome = analyze(  # outputs named for this input only (see `_made_from_another`): a partial one is redone
            str(task.source),
            config,
            task.csv,
            task.annotated,
            False,
            task.max_frames,
            on_result=reporter,
            overwrite=True,
        )
    except EmotionDeskError as error:
        return _Outcome(task.number, "failed", _problem(error, task.source))
    except Exception as error:  # one bad file must not stop the batch
        return _Outcome(task.number, "failed", f"{type(error).__name__}: {error}")
    finally:
        reporter.flush()
    frames = outcome.summary.frames
    if outcome.error is not None:
        return _Outcome(task.number, "failed", _problem(outcome.error, task.source), frames)
    if outcome.interrupted:
        return _Outcome(task.number, "interrupted", "stopped before the end", frames)
    if frames == 0:
        return _Outcome(task.number, "failed", "no frames could be read", frames)
    return _Outcome(task.number, "done", "", frames)


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
) -> BatchReport:
    """Analyse every input of `arguments` into `out_dir` with `jobs` processes (default: `default_jobs()`, but
    no more than one per MIN_FRAMES_PER_JOB frames).

    `annotated` is `mp4` or `avi` to also write annotated videos. Inputs already complete are skipped; a failing
    input is recorded and the batch goes on. Ctrl+C (or `should_stop()` turning true) stops the workers
    cleanly: their outputs say `interrupted`, and the index is up to date. Setup problems (no inputs, bad
    model, unwritable folder) raise EmotionDeskError before any work."""
    from emotiondesk.stages.classification import EmotionClassifier

    started = time.perf_counter()
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
    settings = _settings(config)
    EmotionClassifier(config.model)  # a broken model fails here, once, not once per input
    plan = [(item, *item.outputs(out_dir, annotated)) for item in items]
    sources = {item.source.resolve() for item in items}
    for _, csv_path, video_path in plan:
        for output in (csv_path, sidecar_path(csv_path), video_path):
            if output is not None and output.resolve() in sources:
                raise RecordingError(f"{output}: is an input of this batch; choose another --out folder")

    index_path = out_dir / INDEX_NAME
    previous = [r for r in read_index(index_path) if Path(r.path) not in sources]
    rows: list[IndexRow] = []
    todo: list[_Task] = []
    for number, (item, csv_path, video_path) in enumerate(plan):
        if is_complete(item, csv_path, video_path, settings, max_frames):
            rows.append(_row(item, csv_path, video_path, "skipped", "already finished"))
        elif not item.source.exists():  # never handed to open_source, which would take `0` for a camera
            rows.append(IndexRow(str(item.source.resolve()), "failed", "no such file or folder"))
        else:
            rows.append(IndexRow(str(item.source.resolve())))
            todo.append(_Task(number, item.source.resolve(), csv_path, video_path, max_frames))
    write_index(index_path, rows + previous)

    expected = {task.number: _frame_count(task.source) for task in todo}
    if max_frames is not None:
        expected = {number: min(count, max_frames) for number, count in expected.items()}
    if jobs is None:  # a worker takes ~1 CPU-second to start: not worth it for a few hundred frames
        jobs = min(default_jobs(), sum(expected.values()) // MIN_FRAMES_PER_JOB)
    jobs = max(1, min(jobs, len(todo) or 1))
    counter = _Progress(sum(expected.values()), len(rows), len(rows) - len(todo), progress, on_progress)
    interrupted = False
    if todo:
        interrupted = _run_pool(todo, config, jobs, expected, counter, should_stop, plan, rows, previous, index_path)
    counter.close()
    return BatchReport(rows, index_path, interrupted, time.perf_counter() - started, jobs)


class _Progress:
    """One tqdm bar on stderr (frames across files, files in the postfix) and the progress callback."""

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
        self.bar = tqdm(total=frames_total, unit="frame", desc="batch", disable=not show, file=sys.stderr)
        self.bar.set_postfix_str(f"files {files_done}/{files_total}")
        self.report()

    def frames(self, count: int) -> None:
        self.frames_done += count
        self.bar.update(count)

    def file_done(self, frames_short: int) -> None:
        """One input ended; `frames_short` = frames it was expected to have but did not deliver."""
        self.files_done += 1
        self.frames_total -= frames_short
        self.bar.total = self.frames_total
        self.bar.set_postfix_str(f"files {self.files_done}/{self.files_total}")

    def report(self) -> None:
        if self.callback is not None:
            self.callback(BatchProgress(self.frames_done, self.frames_total, self.files_done, self.files_total))

    def close(self) -> None:
        self.report()
        self.bar.close()


def _run_pool(
    todo: list[_Task],
    config: PipelineConfig,
    jobs: int,
    expected: dict[int, int],
    counter: _Progress,
    should_stop: Callable[[], bool] | None,
    plan: list[tuple[BatchInput, Path, Path | None]],
    rows: list[IndexRow],
    previous: list[IndexRow],
    index_path: Path,
) -> bool:
    """Work through `todo` in a process pool, updating `rows` and the index as inputs end; True if stopped."""
    context = _SpawnContext()
    manager = SyncManager(ctx=context)
    pool: ProcessPoolExecutor | None = None
    updates = stop = None
    running: dict[Future, _Task] = {}
    reported: dict[int, int] = dict.fromkeys(expected, 0)

    def drain() -> None:
        while updates is not None:
            try:
                number, count = updates.get_nowait()
            except queue.Empty:
                return
            reported[number] += count
            counter.frames(count)

    def settle(future: Future, task: _Task) -> None:
        try:
            outcome = future.result()
        except BrokenProcessPool:
            outcome = _Outcome(task.number, "failed", "the worker process died while analysing it")
        except Exception as error:  # e.g. a result that could not be sent back
            outcome = _Outcome(task.number, "failed", f"{type(error).__name__}: {error}")
        item, csv_path, video_path = plan[task.number]
        rows[task.number] = _row(item, csv_path, video_path, outcome.state, outcome.reason)
        counter.frames(outcome.frames - reported[task.number])
        counter.file_done(expected[task.number] - outcome.frames)
        counter.report()
        write_index(index_path, rows + previous)

    interrupted = False
    try:
        manager.start(_ignore_sigint)
        updates, stop = manager.Queue(), manager.Event()
        pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_ignore_sigint)
        for task in sorted(todo, key=lambda t: -expected[t.number]):  # longest first: the pool ends together
            running[pool.submit(_analyze_task, task, config, updates, stop)] = task
        while running:
            done, _ = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
            drain()
            for future in done:
                settle(future, running.pop(future))
            counter.report()
            if should_stop is not None and should_stop():
                interrupted = True
                break
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if interrupted and stop is not None:
            stop.set()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        drain()
        for future, task in running.items():
            if future.cancelled():
                item, csv_path, video_path = plan[task.number]
                rows[task.number] = _row(item, csv_path, video_path, "pending", "not started")
            else:
                settle(future, task)
        write_index(index_path, rows + previous)
        if stop is not None:
            manager.shutdown()
    return interrupted
