"""Live streaming to lab software over Lab Streaming Layer (LSL): one `Emotion` outlet and one `Markers` outlet.

Optional (`pip install 'emotiondesk[lsl]'`, pylsl with liblsl in its wheel); pylsl is imported only when LSL
is turned on. An open outlet answers LSL discovery on the local network: that is what lets LabRecorder on
another computer find it. Timestamps are LSL clock times of frame capture (`FrameResult.captured`).
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import numpy as np

from emotiondesk import __version__
from emotiondesk.errors import EmotionDeskError
from emotiondesk.sinks.base import RunStatus
from emotiondesk.stages.face_details import DETAIL_COLUMNS, POSE_NAMES, detail_vector
from emotiondesk.types import Face, FrameResult

INSTALL_HINT = "--lsl needs pylsl: pip install 'emotiondesk[lsl]'"
EMOTION_TYPE = "Emotion"
MARKER_TYPE = "Markers"
LINGER_S = 0.5  # at close, time for samples already pushed to reach connected inlets


class LslError(EmotionDeskError):
    """pylsl/liblsl is missing or an outlet cannot be created."""


def import_pylsl():
    """pylsl, or LslError with the install hint (also when its bundled liblsl cannot load)."""
    try:
        import pylsl
    except (ImportError, OSError, RuntimeError) as error:
        raise LslError(f"{INSTALL_HINT} ({type(error).__name__}: {error})") from None
    return pylsl


def session_name(csv_path: Path | None = None) -> str:
    """The CSV's stem, else the start time (`20260101-120000`)."""
    return Path(csv_path).stem if csv_path else datetime.now().strftime("%Y%m%d-%H%M%S")


def emotion_channels(labels: tuple[str, ...] | list[str], face_details: bool) -> list[tuple[str, str, str]]:
    """(label, unit, type) of every channel of the `Emotion` outlet, in sample order."""
    channels = [("face_id", "id", "FaceID")]
    channels += [(f"p_{label}", "probability", "EmotionProbability") for label in labels]
    channels.append(("smoothed_label", "index", "EmotionLabelIndex"))
    if face_details:
        for column in DETAIL_COLUMNS:
            if column in POSE_NAMES:
                channels.append((column, "degrees", "HeadPose"))
            else:
                channels.append((column, "score", "Blendshape"))
    return channels


class _Clock:
    """Maps `time.monotonic()` readings to the LSL clock (the same clock on Linux; offset measured once)."""

    def __init__(self, pylsl) -> None:
        self.local_clock = pylsl.local_clock
        self.offset = pylsl.local_clock() - time.monotonic()

    def lsl_time(self, monotonic: float | None) -> float:
        return self.local_clock() if monotonic is None else monotonic + self.offset


def describe_channels(desc, channels: list[tuple[str, str, str]]) -> None:
    """`<channels><channel><label/><unit/><type/></channel>…` in a stream's XML description (the XDF convention)."""
    xml_channels = desc.append_child("channels")
    for label, unit, kind in channels:
        channel = xml_channels.append_child("channel")
        channel.append_child_value("label", label)
        channel.append_child_value("unit", unit)
        channel.append_child_value("type", kind)


class _Outlet:
    """An LSL outlet that is also a `Sink`: opened from a StreamInfo, closed with the run."""

    outlet = None
    pushed = 0

    def _open(self, pylsl, info) -> None:
        try:
            self.outlet = pylsl.StreamOutlet(info)
        except (RuntimeError, ValueError) as error:
            raise LslError(f"{info.name()}: cannot open LSL outlet ({error})") from None
        self.clock = _Clock(pylsl)

    def write(self, result: FrameResult, image: np.ndarray | None = None) -> None:
        """Nothing by default (the markers outlet ignores frames)."""

    def close(self, status: RunStatus | None = None) -> None:
        """Close the outlet, first giving connected inlets a moment to receive what was pushed."""
        outlet, self.outlet = self.outlet, None
        if outlet is not None and self.pushed and outlet.have_consumers():
            time.sleep(LINGER_S)
        del outlet


class LslSink(_Outlet):
    """The `Emotion` outlet `emotiondesk-<session>`: one float32 sample per face per frame (face ID, the
    model's probabilities, the smoothed label's index, and with face details the 52 blendshapes and yaw,
    pitch, roll), stamped with the frame's capture time. Channel labels, units and the class names are in the
    stream's XML description. A `Sink`."""

    def __init__(self, labels: tuple[str, ...], session: str, face_details: bool = False, metadata: dict | None = None):
        pylsl = import_pylsl()
        self.labels = tuple(labels)
        self.face_details = face_details
        self.channels = emotion_channels(self.labels, face_details)
        self.name = f"emotiondesk-{session}"
        info = pylsl.StreamInfo(
            self.name, EMOTION_TYPE, len(self.channels), pylsl.IRREGULAR_RATE, pylsl.cf_float32, self.name
        )
        desc = info.desc()
        desc.append_child_value("manufacturer", "emotiondesk")
        desc.append_child_value("version", __version__)
        describe_channels(desc, self.channels)
        classes = desc.append_child("classes")  # what smoothed_label's index means
        for label in self.labels:
            classes.append_child_value("class", label)
        if face_details:
            desc.append_child_value(
                "head_pose", "yaw > 0 turned to its own left, pitch > 0 looking up, roll > 0 tilted to its own left"
            )
        for key, value in (metadata or {}).items():
            desc.append_child_value(key, str(value))
        self._open(pylsl, info)

    def sample(self, face: Face) -> np.ndarray:
        """One face's channel values, in `channels` order (NaN for missing face details)."""
        smoothed = face.smoothed_or_raw
        values = [float(face.face_id), *map(float, face.probabilities), float(np.argmax(smoothed))]
        if self.face_details:
            return np.concatenate([np.array(values, np.float32), detail_vector(face)])
        return np.array(values, np.float32)

    def write(self, result: FrameResult, image: np.ndarray | None = None) -> None:
        if self.outlet is None:
            return
        faces = [face for face in result.faces if face.probabilities is not None]
        stamp = self.clock.lsl_time(result.captured)
        for number, face in enumerate(faces, start=1):
            self.outlet.push_sample(self.sample(face), stamp, pushthrough=number == len(faces))
            self.pushed += 1


class LslMarkerOutlet(_Outlet):
    """The `Markers` outlet `emotiondesk-<session>-markers`: two string channels, the marker number and its
    text. A `Sink` (it ignores frames) so a run closes it with the others."""

    def __init__(self, session: str) -> None:
        pylsl = import_pylsl()
        self.name = f"emotiondesk-{session}-markers"
        info = pylsl.StreamInfo(self.name, MARKER_TYPE, 2, pylsl.IRREGULAR_RATE, pylsl.cf_string, self.name)
        describe_channels(info.desc(), [("marker", "number", "Marker"), ("text", "text", "Marker")])
        self._open(pylsl, info)

    def push_marker(self, marker_number: int, text: str = "", timestamp: float | None = None) -> None:
        """Send one marker; `timestamp` is a `time.monotonic()` reading (the clock of `Frame.captured`),
        None = now."""
        if self.outlet is None:
            return
        self.outlet.push_sample([str(int(marker_number)), str(text)], self.clock.lsl_time(timestamp))
        self.pushed += 1


def lsl_sinks(csv_path: Path | None = None, session: str | None = None):
    """An `analyze(extra_sinks=...)` factory: the Emotion and Markers outlets for a pipeline.

    Checks that pylsl loads right away, so a missing install fails before any work."""
    import_pylsl()
    name = session or session_name(csv_path)

    def build(pipeline, source) -> list:
        metadata = {"model": pipeline.classifier.name, "source": source.name}
        emotion = LslSink(pipeline.labels, name, pipeline.config.face_details, metadata)
        return [emotion, LslMarkerOutlet(name)]

    return build
