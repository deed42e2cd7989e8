"""SIGTERM and SIGHUP end a run like Ctrl+C: the run stops, every output is closed and says `interrupted`.

`kill`, `timeout`, SLURM and systemd send SIGTERM; a closed terminal sends SIGHUP. Python's default for both is to
die at once (no sidecar update, an annotated .mp4 without its index). Inside `stop_on_signals()` each of them (and
SIGINT) raises `StopSignal` — a KeyboardInterrupt, so every `except KeyboardInterrupt` that closes outputs handles it
— and further signals wait until the outputs are closed. The exit code is 128 + the signal's number.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

STOP_SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)


class StopSignal(KeyboardInterrupt):
    """A stop asked for by a signal; `signum` is its number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def exit_code_of(stop: KeyboardInterrupt | None) -> int:
    """128 + the signal's number (130 for a plain KeyboardInterrupt, i.e. SIGINT)."""
    return stop.exit_code if isinstance(stop, StopSignal) else 128 + signal.SIGINT


@contextlib.contextmanager
def _handled_by(handler, signals: tuple[int, ...]) -> Iterator[None]:
    """While inside, `handler` handles each of `signals`, except ignored ones (`nohup` for SIGHUP, a background
    job for SIGINT: kept so) and ones set outside Python; then the previous handlers are back. Outside the main
    thread, where Python cannot install handlers, this does nothing."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for number in signals:
            if signal.getsignal(number) not in (signal.SIG_IGN, None):
                previous[number] = signal.signal(number, handler)
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


@contextlib.contextmanager
def stop_on_signals(signals: tuple[int, ...] = STOP_SIGNALS) -> Iterator[list[int]]:
    """While inside, the first of `signals` raises StopSignal in the main thread; later ones are only recorded
    (the yielded list holds every number received), so closing the outputs is not cut short. Outside the main
    thread (where Python cannot install handlers) this does nothing."""
    received: list[int] = []

    def handler(signum, _frame) -> None:
        received.append(signum)
        if len(received) == 1:
            raise StopSignal(signum)

    with _handled_by(handler, signals):
        yield received


@contextlib.contextmanager
def signals_held(signals: tuple[int, ...] = STOP_SIGNALS) -> Iterator[None]:
    """While inside, stop signals wait: one received here takes effect (its usual handler runs) on leaving, so
    a frame is either written to every output and counted, or not at all. Main thread only (elsewhere a no-op)."""
    held: list[int] = []
    try:
        with _handled_by(lambda signum, _frame: held.append(signum), signals):
            yield
    finally:
        for number in held:
            signal.raise_signal(number)  # now handled as usual: StopSignal, KeyboardInterrupt or the default
