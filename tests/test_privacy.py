"""Nothing leaves the machine: a full `analyze` run makes no DNS look-up and no non-loopback connection.

MediaPipe's usage logging lives in native code, so patching Python's socket would prove nothing: the
run is traced at the system-call level with strace, and also run inside an empty network namespace.
"""

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


# MediaPipe's logger sends from a background thread some time after the graph ran: the traced process
# stays alive a few seconds after `analyze` so the look-up, if any, happens inside the trace.
LINGER = "import sys, time; from emotiondesk.cli import main; code = main(sys.argv[1:]); time.sleep(4); sys.exit(code)"


def analyze_command(clip: Path, model: Path, csv: Path) -> list[str]:
    return [sys.executable, "-c", LINGER, "analyze", str(clip), "--model", str(model), "--csv", str(csv), "--quiet"]


def strace_available() -> bool:
    if not shutil.which("strace"):
        return False
    probe = subprocess.run(["strace", "-f", "-o", "/dev/null", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(
    not strace_available(), reason="strace not available (or ptrace not permitted): privacy is NOT verified in this run"
)
def test_analyze_opens_no_network_connection(tmp_path, clip_one_face, contract_model):
    trace = tmp_path / "trace.txt"
    command = [
        "strace",
        "-f",
        "-e",
        "trace=connect,sendto,sendmsg,sendmmsg",
        "-o",
        str(trace),
        *analyze_command(clip_one_face, contract_model, tmp_path / "out.csv"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    text = trace.read_text()
    assert "connect(" in text or "sendto(" in text or "+++ exited" in text  # the trace did record the run
    destinations = INET_CONNECT.findall(text)
    outside = [(host, port) for port, host in destinations if not (host.startswith("127.") or host == "::1")]
    assert outside == [], f"network connections attempted: {outside}"
    assert "htons(53)" not in text, "a DNS look-up was attempted"
    assert "googleapis" not in text


def test_offline_setting_is_what_blocks_mediapipe_logging(monkeypatch):
    """Guard the mechanism itself: the detector must route libcurl to a dead loopback proxy."""
    import os

    from emotiondesk.detection import OFFLINE_PROXY, PROXY_VARIABLES, FaceDetector

    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "googleapis.com")
    detector = FaceDetector("short")
    detector.close()
    assert all(os.environ[name] == OFFLINE_PROXY for name in PROXY_VARIABLES)
    assert "NO_PROXY" not in os.environ and "no_proxy" not in os.environ


def unshare_available() -> bool:
    return (
        bool(shutil.which("unshare")) and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0
    )


@pytest.mark.skipif(not unshare_available(), reason="unshare -n not permitted: offline run NOT verified here")
def test_analyze_works_with_no_network_at_all(tmp_path, clip_one_face, contract_model):
    csv = tmp_path / "offline.csv"
    result = subprocess.run(
        ["unshare", "-n", *analyze_command(clip_one_face, contract_model, csv)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(csv.read_text().splitlines()) > 1
