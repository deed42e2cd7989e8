"""Native libraries' stderr (MediaPipe, TFLite, FFmpeg) kept in a log file for the whole run, off the terminal."""

from __future__ import annotations

import io
import os
import sys
import threading
from datetime import datetime
from pathlib import Path

LOG_NAME = "native.log"
ROTATE_BYTES = 2_000_000


def log_folder() -> Path:
    """`$EMOTIONDESK_LOG_DIR`, else the user's log folder (Linux: ~/.local/state/emotiondesk/log)."""
    override = os.environ.get("EMOTIONDESK_LOG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_log_dir("emotiondesk", appauthor=False))


def writes_to_fd_2(stream) -> bool:
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError):
        return False


class NativeOutputLog:
    """While active, file descriptor 2 (where native code writes) feeds a log file, and with `echo` the
    terminal too; Python's own `sys.stderr` (errors, progress bars) keeps writing to the terminal.

    Use as a context manager around a whole run. If the log cannot be opened, nothing is redirected.
    """

    def __init__(self, echo: bool = False, folder: Path | None = None, title: str = "") -> None:
        self.echo = echo
        self.path = (folder or log_folder()) / LOG_NAME
        self.title = title or " ".join(sys.argv)
        self._saved_fd: int | None = None
        self._thread: threading.Thread | None = None
        self._previous_stderr = None

    def __enter__(self) -> NativeOutputLog:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists() and self.path.stat().st_size > ROTATE_BYTES:
                os.replace(self.path, self.path.with_suffix(".log.1"))
            self._log = open(self.path, "ab", buffering=0)
            sys.stderr.flush()
            self._saved_fd = os.dup(2)
        except OSError:  # no log folder or no fd 2 (a windowed app): leave everything as it is
            self._saved_fd = None
            return self
        try:
            self._log.write(f"--- {datetime.now().astimezone().isoformat(timespec='seconds')} {self.title}\n".encode())
        except OSError:  # a full disk or a file-size limit: the output is still kept off the terminal
            pass
        read_end, write_end = os.pipe()
        os.dup2(write_end, 2)
        os.close(write_end)
        if writes_to_fd_2(sys.stderr):  # Python's stderr keeps the terminal (not when something captures it)
            self._previous_stderr = sys.stderr
            terminal = os.fdopen(os.dup(self._saved_fd), "wb", buffering=0)
            sys.stderr = io.TextIOWrapper(terminal, encoding="utf-8", errors="replace", write_through=True)
        self._thread = threading.Thread(target=self._pump, args=(read_end,), name="native-stderr", daemon=True)
        self._thread.start()
        return self

    def _pump(self, read_end: int) -> None:
        logging = True
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):  # always drain, or native writers would block on a full pipe
                try:
                    if logging:
                        self._log.write(chunk)
                    if self.echo and self._saved_fd is not None:
                        os.write(self._saved_fd, chunk)
                except (OSError, ValueError):  # disk full, file too large, or closed: keep draining, stop logging
                    logging = False

    def __exit__(self, *exc) -> None:
        if self._saved_fd is None:
            return
        sys.stderr.flush()
        os.dup2(self._saved_fd, 2)  # closes the pipe's last write end held by this process: the pump sees EOF
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        if self._previous_stderr is not None:
            replaced, sys.stderr = sys.stderr, self._previous_stderr
            replaced.close()
            self._previous_stderr = None
        os.close(self._saved_fd)
        self._saved_fd = None
        self._log.close()
