"""The Dask runner (`--dask ADDRESS|local|local:N`): `analyze_task` on the workers of a Dask distributed cluster.

- `ADDRESS` is a running scheduler (`tcp://host:8786`: `dask scheduler` + `dask worker`, `dask ssh`, a
  dask-jobqueue `SLURMCluster`); `local` / `local:N` starts a LocalCluster of N one-thread worker processes on
  127.0.0.1 (its HTTP server and dashboard, if any, on loopback too).
- Every worker must run the client's emotiondesk version (checked at the start, and again by each task for
  workers that join later) and see the inputs and the output folder at the same paths (checked by each task:
  an input it cannot read or a folder it cannot write becomes `failed`, and the batch goes on).
- Progress travels as Dask events (`Worker.log_event` → `Client.subscribe_topic`); the stop request is a Dask
  `Variable` the tasks look at every 0.1 s. A worker that dies mid-input loses its task to the scheduler, which runs
  it again on another worker (`distributed.scheduler.allowed-failures`); the killed attempt's sidecar still says
  `running` and the new attempt replaces its outputs.
"""

from __future__ import annotations

import logging
import queue
import uuid
from dataclasses import dataclass, field

from emotiondesk.errors import EmotionDeskError
from emotiondesk.pipeline import PipelineConfig
from emotiondesk.runs.tasks import Task, analyze_task

CONNECT_TIMEOUT_S = 30


def _distributed():
    try:
        import distributed
    except ImportError:
        raise EmotionDeskError("--dask needs Dask: pip install 'emotiondesk[dask]'") from None
    return distributed


@dataclass
class DaskChannel:
    """A task's channel on a Dask worker: progress as events on `topic`, the stop request in the Dask Variable
    `stop` (bench/dask_channels.py: an event costs a task 0.12 ms and reaches the client in ~60 ms; a Queue put
    1.9 ms, ~360 ms; `Variable.get` 0.5 ms, `Event.is_set` 2.3 ms)."""

    topic: str
    stop: str
    _variable: object = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict:
        return {"topic": self.topic, "stop": self.stop}

    def __setstate__(self, state: dict) -> None:
        self.topic, self.stop, self._variable = state["topic"], state["stop"], None

    def send(self, number: int, attempt: str, frames: int) -> None:
        from distributed import get_worker

        get_worker().log_event(self.topic, (number, attempt, frames))

    def stopped(self) -> bool:
        if self._variable is None:
            from distributed import Variable

            self._variable = Variable(self.stop)
        try:
            return bool(self._variable.get(timeout=10))
        except Exception:  # the scheduler is slow or gone: go on; a lost scheduler ends the batch anyway
            return False


def _stop_signals_ignored_plugin():
    """A worker plugin for the workers of `--dask local`: the stop signals that reach the whole terminal's
    group are left to the client, which stops the tasks itself (as the local runner's workers do)."""
    from distributed import WorkerPlugin

    class StopSignalsIgnored(WorkerPlugin):
        name = "emotiondesk-stop-signals-ignored"

        def setup(self, worker) -> None:
            import threading

            from emotiondesk.runs.local import ignore_stop_signals

            if threading.current_thread() is threading.main_thread():
                ignore_stop_signals()

    return StopSignalsIgnored()


def parse_address(address: str) -> tuple[str | None, int | None]:
    """(scheduler address, None) or (None, local workers or 0 for the default) for `--dask`."""
    if address == "local":
        return None, 0
    if address.startswith("local:"):
        count = address.partition(":")[2]
        if not count.isdigit() or int(count) < 1:
            raise EmotionDeskError(f"--dask {address}: local:N needs N ≥ 1 workers")
        return None, int(count)
    if "://" not in address and ":" not in address:
        raise EmotionDeskError(f"--dask {address}: give a scheduler address (tcp://host:8786), local or local:N")
    return address, None


def check_dask(address: str) -> None:
    """Raise EmotionDeskError when `--dask address` cannot work: Dask missing, or not an address."""
    _distributed()
    parse_address(address)


def worker_versions(client) -> dict[str, str | None]:
    """Each worker's emotiondesk version (None: not installed there)."""

    def probe() -> str | None:  # defined here so that it travels by value, also to a worker without emotiondesk
        try:
            import emotiondesk
        except ImportError:
            return None
        return emotiondesk.__version__

    return client.run(probe)


class DaskRunner:
    """Tasks on a Dask cluster: a scheduler at an address, or a LocalCluster this runner starts and stops."""

    def __init__(self, address: str, default_workers: int = 1) -> None:
        from emotiondesk import __version__

        distributed = _distributed()
        scheduler, local_workers = parse_address(address)
        self.cluster = None
        self.key = f"emotiondesk-batch-{uuid.uuid4().hex[:12]}"
        try:
            if scheduler is None:
                import dask

                # Dask's statistical profiler samples every worker thread every 10 ms, for a dashboard nobody
                # looks at: measured here, 1 of 16.7 CPU-seconds of a 4 × 300-frame `--dask local:1` batch
                with dask.config.set({"distributed.worker.profile.enabled": False}):
                    self.cluster = self._local_cluster(distributed, local_workers or default_workers)
                self.client = distributed.Client(self.cluster)
                self.client.register_plugin(_stop_signals_ignored_plugin())
            else:
                self.client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as error:
            self._shutdown()
            raise EmotionDeskError(f"--dask {address}: cannot reach the scheduler ({error})") from None
        try:
            versions = worker_versions(self.client)
            if not versions:
                raise EmotionDeskError(f"--dask {address}: the scheduler has no workers")
            other = {worker: version for worker, version in versions.items() if version != __version__}
            if other:
                worker, version = next(iter(other.items()))
                raise EmotionDeskError(
                    f"--dask {address}: worker {worker} has "
                    f"{'no emotiondesk' if version is None else f'emotiondesk {version}'}, this client {__version__} "
                    f"({len(other)} of {len(versions)} workers differ); install the same version on every worker"
                )
        except BaseException:
            self._shutdown()
            raise
        self.workers = len(versions)
        where = "LocalCluster" if self.cluster is not None else scheduler
        self.description = f"Dask {where}, {self.workers} workers"
        self.channel = DaskChannel(f"{self.key}-progress", f"{self.key}-stop")
        self.messages: queue.SimpleQueue = queue.SimpleQueue()
        self.stop_variable = distributed.Variable(self.channel.stop, client=self.client)
        self.stop_variable.set(False)
        self.client.subscribe_topic(self.channel.topic, lambda event: self.messages.put(event[1]))

    @staticmethod
    def _local_cluster(distributed, workers: int):
        return distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,  # one `analyze` per worker process (it keeps ~1.5 cores busy)
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # HTTP server (a dashboard only with bokeh): loopback, free port
            silence_logs=logging.ERROR,
        )

    def submit(self, task: Task, config: PipelineConfig):
        return self.client.submit(
            analyze_task, task, config, self.channel, key=f"{self.key}-{task.number}", pure=False, retries=0
        )

    def updates(self) -> list[tuple[int, str, int]]:
        messages = []
        while True:
            try:
                number, attempt, frames = self.messages.get_nowait()
            except queue.Empty:
                return messages
            messages.append((int(number), str(attempt), int(frames)))

    def stop(self) -> None:
        self.stop_variable.set(True)

    def cancel(self, futures: list) -> None:
        """Cancel the futures the scheduler has not handed to a worker. A task a worker holds may already be
        running, and cancelling would not stop it (Dask cannot interrupt a thread) but would hide how it
        ends: such tasks see the stop request instead, and end `interrupted` or, not begun, `pending`."""
        if not futures:
            return
        try:
            held = {key for keys in self.client.processing().values() for key in keys}
        except Exception:  # the scheduler is slow or gone: cancel nothing; every task sees the stop request
            return
        waiting = [future for future in futures if future.key not in held]
        if waiting:
            self.client.cancel(waiting)

    def close(self) -> None:
        try:
            self.client.unsubscribe_topic(self.channel.topic)
            self.stop_variable.delete()
        except Exception:  # the scheduler may be gone; closing must not fail the batch
            pass
        self._shutdown()

    def _shutdown(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
        if self.cluster is not None:
            self.cluster.close()
