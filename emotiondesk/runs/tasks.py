"""The one task of a batch, the same in a local worker process and on a Dask worker: one `analyze()` of one input.

The task checks first what a worker elsewhere may lack (the client's emotiondesk version, the input readable, the
output folder writable: a shared filesystem), reports frames through a `Channel` and ends as `interrupted` when
the channel says stop. Its outputs tell the truth at every stop: the sidecar says `running` until `analyze`
closes it with `finished`, `interrupted` or `error`; a worker killed mid-input leaves `running`, never `finished`.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from emotiondesk.errors import EmotionDeskError
from emotiondesk.pipeline import PipelineConfig

REPORT_EVERY_S = 0.1  # workers send progress and look for a stop request this often


@dataclass(frozen=True)
class Task:
    """What a worker needs to analyse one input."""

    number: int
    source: Path
    csv: Path
    annotated: Path | None
    max_frames: int | None
    version: str  # the client's emotiondesk version: a worker with another one refuses the task


@dataclass(frozen=True)
class Outcome:
    """What a worker hands back: the state, why, and the frames it analysed."""

    number: int
    state: str  # done | failed | interrupted | pending
    reason: str = ""
    frames: int = 0


class Channel(Protocol):
    """How a task talks to the batch while it runs (picklable: it travels with the task)."""

    def send(self, number: int, attempt: str, frames: int) -> None:
        """`frames` more frames of input `number` analysed by `attempt` (0 when the attempt starts)."""

    def stopped(self) -> bool:
        """True once the batch asks its tasks to stop."""


def problem(error: BaseException, source: Path) -> str:
    """An error's message without the leading `<input>: ` (the index and error line name the input)."""
    message = str(error)
    for prefix in (f"{source}: ", f"{source.expanduser()}: "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


class _Reporter:
    """`on_result` of a task's `analyze`: sends frame counts through the channel and stops when asked."""

    def __init__(self, number: int, channel: Channel) -> None:
        self.number, self.channel = number, channel
        self.attempt = uuid.uuid4().hex  # a task run again on another worker counts its frames afresh
        self.unsent = 0
        self.last = time.monotonic()
        channel.send(number, self.attempt, 0)

    def __call__(self, result) -> None:
        self.unsent += 1
        if time.monotonic() - self.last >= REPORT_EVERY_S:
            self.flush()
            if self.channel.stopped():
                raise KeyboardInterrupt  # `analyze` ends the run as interrupted and closes its sinks

    def flush(self) -> None:
        if self.unsent:
            self.channel.send(self.number, self.attempt, self.unsent)
            self.unsent = 0
        self.last = time.monotonic()


def unreachable(task: Task) -> str | None:
    """Why this worker cannot do the task (another version, input unreadable, output folder not writable:
    no shared filesystem with the client?), or None."""
    import emotiondesk

    here = socket.gethostname()
    if emotiondesk.__version__ != task.version:
        return f"worker {here} has emotiondesk {emotiondesk.__version__}, the client {task.version}"
    source = task.source
    readable = os.access(source, os.R_OK | (os.X_OK if source.is_dir() else 0))
    if not source.exists() or not readable:
        why = "does not exist" if not source.exists() else "is not readable"
        return f"{source} {why} on worker {here} (do workers share the client's filesystem?)"
    folder = task.csv.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        why = "does not exist" if not folder.is_dir() else "is not writable"
        return f"output folder {folder} {why} on worker {here} (do workers share the client's filesystem?)"
    return None


def analyze_task(task: Task, config: PipelineConfig, channel: Channel) -> Outcome:
    """Runs on a worker: one `analyze()` of one input (its Pipeline is made, used and closed here)."""
    from emotiondesk.runs.analyze import analyze

    if channel.stopped():
        return Outcome(task.number, "pending", "not started")
    refused = unreachable(task)
    if refused is not None:
        return Outcome(task.number, "failed", refused)
    reporter = _Reporter(task.number, channel)
    try:
        outcome = analyze(  # outputs named for this input only (see index._made_from_another): a partial one is redone
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
        return Outcome(task.number, "failed", problem(error, task.source))
    except Exception as error:  # one bad file must not stop the batch
        return Outcome(task.number, "failed", f"{type(error).__name__}: {error}")
    finally:
        reporter.flush()
    frames = outcome.summary.frames
    if outcome.error is not None:
        return Outcome(task.number, "failed", problem(outcome.error, task.source), frames)
    if outcome.interrupted:
        return Outcome(task.number, "interrupted", "stopped before the end", frames)
    if frames == 0:
        return Outcome(task.number, "failed", "no frames could be read", frames)
    return Outcome(task.number, "done", "", frames)
