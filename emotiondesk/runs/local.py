"""The local runner: `analyze_task` in a pool of spawned processes on this machine (`--jobs N`).

It stays a stdlib process pool rather than a Dask LocalCluster because it starts faster (docs/batch-and-cluster.md,
`bench/batch.py --dask`). Workers start with the stop signals ignored: a Ctrl+C reaches every process of the
terminal's group, SIGTERM every process of a SLURM job, and a worker killed half-way would leave its outputs
`running`; the parent stops them through the stop event instead, and they close their outputs as `interrupted`.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.context
import queue
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing.managers import SyncManager

from emotiondesk.pipeline import PipelineConfig
from emotiondesk.runs.stops import STOP_SIGNALS, signals_held
from emotiondesk.runs.tasks import Task, analyze_task


@contextlib.contextmanager
def stop_signals_ignored() -> Iterator[None]:
    """The stop signals ignored (and blocked, so one arriving meanwhile stays pending) in this process for a
    moment; only the main thread handles signals, so elsewhere (the window's batch thread) this does nothing."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, set(STOP_SIGNALS))
    handlers = {signum: signal.signal(signum, signal.SIG_IGN) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def ignore_stop_signals() -> None:
    """In a worker: leave the stop signals to the batch, which stops the tasks itself (also where the worker was
    started from a thread other than the main one, so did not inherit them ignored)."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


class _SpawnProcess(multiprocessing.context.SpawnProcess):
    """A spawned process that starts with the stop signals ignored (inherited through exec), so that one
    arriving while it imports its libraries cannot kill it half-started."""

    @staticmethod
    def _Popen(process_obj):  # noqa: N802 (multiprocessing's name)
        with stop_signals_ignored():
            return multiprocessing.context.SpawnProcess._Popen(process_obj)


class _SpawnContext(multiprocessing.context.SpawnContext):
    """'spawn' (mediapipe's and onnxruntime's threads do not survive fork), with `_SpawnProcess`."""

    Process = _SpawnProcess


@dataclass(frozen=True)
class QueueChannel:
    """A task's channel in a local worker: a manager's queue for progress, its event for stop."""

    updates: object  # SyncManager Queue proxy
    stop: object  # SyncManager Event proxy

    def send(self, number: int, attempt: str, frames: int) -> None:
        self.updates.put((number, attempt, frames))

    def stopped(self) -> bool:
        return self.stop.is_set()


class LocalRunner:
    """`jobs` worker processes and a manager process that carries progress and the stop request."""

    def __init__(self, jobs: int) -> None:
        self.workers = jobs
        self._received: list[tuple[int, str, int]] = []
        self.description = f"{jobs} job{'s' if jobs != 1 else ''}"
        context = _SpawnContext()
        self.manager = SyncManager(ctx=context)
        self.manager.start(ignore_stop_signals)
        try:
            self.channel = QueueChannel(self.manager.Queue(), self.manager.Event())
            self.pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=ignore_stop_signals)
        except BaseException:
            self.manager.shutdown()
            raise

    def submit(self, task: Task, config: PipelineConfig):
        return self.pool.submit(analyze_task, task, config, self.channel)

    def updates(self) -> list[tuple[int, str, int]]:
        """The progress messages that arrived. Each call to the manager is one request and its answer on one
        connection: a stop signal between the two would leave the answer unread (the next call would read it as
        its own), so signals wait until the reading is done; a signal then raises here, and the messages read
        are kept for the next call."""
        with signals_held():
            while True:
                try:
                    self._received.append(self.channel.updates.get_nowait())
                except (queue.Empty, OSError, EOFError):
                    break
        messages, self._received = self._received, []
        return messages

    def stop(self) -> None:
        with signals_held():  # one whole request and answer (see updates)
            self.channel.stop.set()

    def cancel(self, futures: list) -> None:
        for future in futures:
            future.cancel()

    def close(self) -> None:
        try:
            self.pool.shutdown(wait=True, cancel_futures=True)
        finally:
            self.manager.shutdown()
