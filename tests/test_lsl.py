"""LSL outlets: an inlet on this machine receives what the CSV of the same run holds, and the markers.

liblsl is confined to loopback by tests/lsl_loopback.cfg (LSLAPICFG, set in conftest before pylsl loads).
"""

import csv
import sys
import time

import numpy as np
import pytest

try:
    import pylsl
except (ImportError, OSError, RuntimeError) as error:  # no wheel, or its liblsl cannot load here
    pytest.skip(f"liblsl cannot run here ({error}): LSL NOT tested in this run", allow_module_level=True)

from emotiondesk.cli.main import main
from emotiondesk.pipeline import PipelineConfig
from emotiondesk.runs.analyze import analyze
from emotiondesk.sinks.lsl import INSTALL_HINT, LslMarkerOutlet, LslSink, emotion_channels
from emotiondesk.stages.face_details import DETAIL_COLUMNS

RESOLVE_S = 10


def open_inlet(name: str) -> pylsl.StreamInlet:
    streams = pylsl.resolve_byprop("name", name, timeout=RESOLVE_S)
    assert streams, f"{name}: not found on this machine"
    inlet = pylsl.StreamInlet(streams[0], max_buflen=60)
    inlet.open_stream(timeout=RESOLVE_S)
    return inlet


class KeepOpen:
    """Wraps a sink so the run's close() leaves the outlet up until the test has read everything."""

    def __init__(self, sink) -> None:
        self.sink, self.status = sink, None

    def write(self, result, image=None) -> None:
        self.sink.write(result, image)

    def close(self, status=None) -> None:
        self.status = status


def pull_all(inlet: pylsl.StreamInlet, count: int) -> tuple[list, list]:
    samples, stamps = [], []
    deadline = time.monotonic() + RESOLVE_S
    while len(samples) < count and time.monotonic() < deadline:
        chunk, times = inlet.pull_chunk(timeout=0.5)
        samples += chunk
        stamps += times
    return samples, stamps


def test_inlet_receives_what_the_csv_holds(tmp_path, clip_three_faces, contract_model):
    out = tmp_path / "lsl.csv"
    holder: dict = {}

    def sinks(pipeline, source):
        sink = LslSink(pipeline.labels, "test-roundtrip", face_details=True)
        holder["sink"], holder["inlet"] = sink, open_inlet("emotiondesk-test-roundtrip")
        assert sink.outlet.wait_for_consumers(RESOLVE_S)
        holder["kept"] = KeepOpen(sink)
        return [holder["kept"]]

    started = pylsl.local_clock()
    config = PipelineConfig(model=str(contract_model), face_details=True)
    outcome = analyze(str(clip_three_faces), config, out, progress=False, extra_sinks=sinks)
    ended = pylsl.local_clock()
    assert outcome.error is None and holder["kept"].status.state == "finished"
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    inlet, sink = holder["inlet"], holder["sink"]
    samples, stamps = pull_all(inlet, len(rows))
    sink.close()
    assert len(samples) == len(rows) == sink.pushed > 0

    info = inlet.info(timeout=RESOLVE_S)
    labels = [c[2:] for c in rows[0] if c.startswith("p_")]
    channels = emotion_channels(labels, True)
    assert info.type() == "Emotion" and info.channel_count() == len(channels) == 1 + len(labels) + 1 + 55
    xml = info.desc().child("channels").child("channel")
    described = []
    while not xml.empty():
        described.append((xml.child_value("label"), xml.child_value("unit"), xml.child_value("type")))
        xml = xml.next_sibling()
    assert described == channels
    assert described[-3] == ("yaw", "degrees", "HeadPose")

    for row, sample in zip(rows, samples):
        assert int(sample[0]) == int(row["face_id"])
        assert np.allclose(sample[1 : 1 + len(labels)], [float(row[f"p_{label}"]) for label in labels], atol=6e-5)
        assert labels[int(sample[1 + len(labels)])] == row["smoothed_label"]
        details = sample[2 + len(labels) :]
        assert np.allclose(details[:52], [float(row[c]) for c in DETAIL_COLUMNS[:52]], atol=6e-5)
        assert np.allclose(details[52:], [float(row[c]) for c in ("yaw", "pitch", "roll")], atol=6e-3)
    # one capture time per frame, shared by its faces, in order, inside the run
    frame_stamps: dict[int, set[float]] = {}
    for row, stamp in zip(rows, stamps):
        frame_stamps.setdefault(int(row["frame"]), set()).add(round(stamp, 6))
    assert all(len(values) == 1 for values in frame_stamps.values())
    ordered = [next(iter(frame_stamps[frame])) for frame in sorted(frame_stamps)]
    assert ordered == sorted(ordered) and started < ordered[0] and ordered[-1] < ended


def test_markers_outlet_sends_number_text_and_time():
    outlet = LslMarkerOutlet("test-m")
    inlet = open_inlet("emotiondesk-test-m-markers")
    assert outlet.outlet.wait_for_consumers(RESOLVE_S)
    info = inlet.info(timeout=RESOLVE_S)
    assert info.type() == "Markers" and info.channel_format() == pylsl.cf_string
    pressed = time.monotonic() - 0.25
    outlet.push_marker(3, "stimulus onset", timestamp=pressed)
    outlet.push_marker(4, "")
    first, first_time = inlet.pull_sample(timeout=RESOLVE_S)
    second, second_time = inlet.pull_sample(timeout=RESOLVE_S)
    outlet.close()
    assert first == ["3", "stimulus onset"] and second == ["4", ""]
    assert abs(first_time - (pressed + outlet.clock.offset)) < 1e-3
    assert 0.2 < second_time - first_time < 5


def test_cli_lsl_run_finishes_with_no_inlet(tmp_path, clip_one_face, contract_model):
    out = tmp_path / "solo.csv"
    args = ["analyze", str(clip_one_face), "--model", str(contract_model), "--csv", str(out), "--quiet", "--lsl"]
    assert main(args) == 0
    assert len(out.read_text().splitlines()) > 1


def test_missing_pylsl_is_a_one_line_error(monkeypatch, capsys, clip_one_face):
    monkeypatch.setitem(sys.modules, "pylsl", None)  # `import pylsl` now raises ImportError
    assert main(["analyze", str(clip_one_face), "--lsl"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"emotiondesk: error: {INSTALL_HINT}")
