"""Nothing leaves the machine: a full `analyze` run makes no DNS look-up and no non-loopback connection.

MediaPipe's usage logging lives in native code, so patching Python's socket would prove nothing: the
run is traced at the system-call level with strace, and also run inside an empty network namespace.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INET_CONNECT = re.compile(
    r"connect\(\d+, \{sa_family=AF_INET6?, sin6?_port=htons\((\d+)\), "
    r"(?:sin_addr=inet_addr|inet_pton\(AF_INET6?, )\(?\"([^\"]+)\""
)
# any IPv4/IPv6 address a connect/sendto/sendmsg/sendmmsg names (UDP datagrams included: LSL discovery)
INET_ADDRESS = re.compile(r"(?:sin_addr=inet_addr\(|inet_pton\(AF_INET6?, )\"([^\"]+)\"")


def is_loopback(host: str) -> bool:
    return host.startswith("127.") or host in ("::1", "::ffff:127.0.0.1")


# MediaPipe's logger sends from a background thread some time after the graph ran: the traced process
# stays alive a few seconds after `analyze` so the look-up, if any, happens inside the trace.
LINGER = (
    "import sys, time; from emotiondesk.cli.main import main; code = main(sys.argv[1:]); time.sleep(4); sys.exit(code)"
)
# With --lsl, a lab-software stand-in in the same process looks the outlet up and reads it while `analyze` runs,
# so both sides of LSL (discovery queries, answers, the data connection) happen inside the trace.
LSL_INLET = (
    "import threading, pylsl\n"
    "def read():\n"
    "    streams = pylsl.resolve_byprop('type', 'Emotion', timeout=20)\n"
    "    if streams:\n"
    "        inlet = pylsl.StreamInlet(streams[0]); inlet.open_stream(timeout=10)\n"
    "        while inlet.pull_chunk(timeout=2.0)[0]: pass\n"
    "threading.Thread(target=read, daemon=True).start()\n"
)
LSL_LOOPBACK_CONFIG = Path(__file__).resolve().parent / "lsl_loopback.cfg"
MODES = {"plain": [], "face details + LSL": ["--face-details", "--lsl"]}


def analyze_command(clip: Path, model: Path, csv: Path, extra: list[str] = ()) -> list[str]:
    script = (LSL_INLET if "--lsl" in extra else "") + LINGER
    command = ["analyze", str(clip), "--model", str(model), "--csv", str(csv), "--quiet", *extra]
    return [sys.executable, "-c", script, *command]


def run_env() -> dict[str, str]:
    """The environment of a traced run: liblsl confined to this machine by its own config file."""
    return {**os.environ, "LSLAPICFG": str(LSL_LOOPBACK_CONFIG)}


def strace_available() -> bool:
    if not shutil.which("strace"):
        return False
    probe = subprocess.run(["strace", "-f", "-o", "/dev/null", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(
    not strace_available(), reason="strace not available (or ptrace not permitted): privacy is NOT verified in this run"
)
@pytest.mark.parametrize("mode", MODES)
def test_analyze_opens_no_network_connection(tmp_path, clip_one_face, contract_model, mode):
    if "--lsl" in MODES[mode]:
        pytest.importorskip("pylsl", reason="pylsl not installed: the --lsl run is NOT verified here")
    trace = tmp_path / "trace.txt"
    command = [
        "strace",
        "-f",
        "-e",
        "trace=connect,sendto,sendmsg,sendmmsg,setsockopt",
        "-o",
        str(trace),
        *analyze_command(clip_one_face, contract_model, tmp_path / "out.csv", MODES[mode]),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=ROOT, env=run_env())
    assert result.returncode == 0, result.stderr[-2000:]
    text = trace.read_text()
    assert "connect(" in text or "sendto(" in text or "+++ exited" in text  # the trace did record the run
    destinations = INET_CONNECT.findall(text)
    outside = [(host, port) for port, host in destinations if not is_loopback(host)]
    assert outside == [], f"network connections attempted: {outside}"
    sends = [line for line in text.splitlines() if re.search(r"\b(connect|sendto|sendmsg|sendmmsg)\(", line)]
    addressed = {host for line in sends for host in INET_ADDRESS.findall(line)}
    assert {host for host in addressed if not is_loopback(host)} == set(), f"sent beyond loopback: {addressed}"
    assert "IP_ADD_MEMBERSHIP" not in text and "IPV6_ADD_MEMBERSHIP" not in text, "joined a multicast group"
    if "--lsl" in MODES[mode]:  # the LSL exchange did happen inside the trace, on loopback
        assert "LSL:shortinfo" in text, "no LSL discovery query was traced"
    assert "htons(53)" not in text, "a DNS look-up was attempted"
    assert "googleapis" not in text


def test_offline_setting_is_what_blocks_mediapipe_logging(monkeypatch):
    """Guard the mechanism itself: the detector must route libcurl to a dead loopback proxy."""
    import os

    from emotiondesk.stages.detection import OFFLINE_PROXY, PROXY_VARIABLES, FaceDetector

    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "googleapis.com")
    detector = FaceDetector("short")
    detector.close()
    assert all(os.environ[name] == OFFLINE_PROXY for name in PROXY_VARIABLES)
    assert "NO_PROXY" not in os.environ and "no_proxy" not in os.environ


def test_face_landmarker_gets_the_same_offline_setting(monkeypatch):
    """The Face Landmarker is MediaPipe too: it must route the usage logging to the dead proxy as well."""
    import os

    from emotiondesk.stages.detection import OFFLINE_PROXY, PROXY_VARIABLES
    from emotiondesk.stages.face_details import FaceLandmarker

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("no_proxy", "googleapis.com")
    FaceLandmarker(video=False).close()
    assert all(os.environ[name] == OFFLINE_PROXY for name in PROXY_VARIABLES)
    assert "NO_PROXY" not in os.environ and "no_proxy" not in os.environ


def unshare_available() -> bool:
    return (
        bool(shutil.which("unshare")) and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0
    )


@pytest.mark.skipif(not unshare_available(), reason="unshare -n not permitted: offline run NOT verified here")
@pytest.mark.parametrize("mode", MODES)
def test_analyze_works_with_no_network_at_all(tmp_path, clip_one_face, contract_model, mode):
    if "--lsl" in MODES[mode]:
        pytest.importorskip("pylsl", reason="pylsl not installed: the --lsl run is NOT verified here")
    csv = tmp_path / "offline.csv"
    result = subprocess.run(
        ["unshare", "-n", *analyze_command(clip_one_face, contract_model, csv, MODES[mode])],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env=run_env(),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(csv.read_text().splitlines()) > 1
