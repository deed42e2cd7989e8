"""emotiondesk: real-time facial-emotion detection for the desktop (Qt-free core)."""

__version__ = "0.1.0"

import os as _os

# OpenCV prints camera-probe warnings (e.g. for a missing camera 0) that are not for users; the
# failure itself reaches them as a one-line SourceError.
_os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")
