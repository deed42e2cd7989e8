"""Nothing leaves the machine: a full `analyze` run makes no DNS look-up and no non-loopback connection.

MediaPipe's usage logging lives in native code, so patching Python's socket would prove nothing: the
run is traced at the system-call level with strace, and also run inside an empty network namespace.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
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


def user_env(home: Path | None = None) -> dict[str, str]:
    """A user's environment, not CI's: `CI` unset (onnxruntime sends no telemetry under CI=true, which would hide
    it), and no ORT_DISABLE_TELEMETRY inherited from this test process (emotiondesk must set it itself). With
    `home`: HOME and every XDG folder inside it, so whatever a run writes for the user lands there."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "ORT_DISABLE_TELEMETRY", "MPLCONFIGDIR")}
    if home is not None:
        env.pop("EMOTIONDESK_LOG_DIR", None)  # the native log goes to the user's log folder, as for a user
        env.update(
            HOME=str(home),
            XDG_CACHE_HOME=str(home / ".cache"),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_DATA_HOME=str(home / ".local" / "share"),
            XDG_STATE_HOME=str(home / ".local" / "state"),
        )
    return env


def run_env(home: Path | None = None) -> dict[str, str]:
    """The environment of a traced run: a user's (CI unset, see `user_env`), liblsl confined to this machine."""
    return {**user_env(home), "LSLAPICFG": str(LSL_LOOPBACK_CONFIG)}


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
    home = tmp_path / "home"
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=ROOT, env=run_env(home))
    assert result.returncode == 0, result.stderr[-2000:]
    assert not (home / ".cache" / "Microsoft").exists(), "onnxruntime telemetry wrote its device ID / event queue"
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


def test_onnxruntime_telemetry_is_off_without_ci(tmp_path, contract_model):
    """Issue 17, finding 9: with CI unset, loading a model in a process that imports emotiondesk leaves no
    onnxruntime device ID or telemetry queue (~/.cache/Microsoft/DeveloperTools/.onnxruntime)."""
    home = tmp_path / "home"
    script = (
        "import emotiondesk, os; from emotiondesk.stages.classification import EmotionClassifier; "
        "EmotionClassifier(os.environ['MODEL']); print(os.environ['ORT_DISABLE_TELEMETRY'])"
    )
    env = {**user_env(home), "MODEL": str(contract_model)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT)
    assert result.returncode == 0 and result.stdout.strip() == "1", result.stderr[-2000:]
    assert not (home / ".cache" / "Microsoft").exists()
    assert not any(home.rglob("deviceid")) and not any(home.rglob("onnxruntime.db"))


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def test_nothing_is_written_outside_outputs_and_our_own_folders(tmp_path, clip_one_face, contract_model):
    """Issue 17, finding 9: `analyze`, the window (offscreen, briefly) and a `--jobs 1` batch, run as a user (CI
    unset, a fresh HOME and XDG folders), write only their outputs and emotiondesk's own folders: the native log,
    the window's settings and data, emotiondesk's cache (matplotlib's font cache, which MediaPipe's import makes)."""
    home, work, out, scratch = tmp_path / "home", tmp_path / "work", tmp_path / "out", tmp_path / "tmp"
    for folder in (home, work, out, scratch):
        folder.mkdir()
    env = {**user_env(home), "TMPDIR": str(scratch), "QT_QPA_PLATFORM": "offscreen"}
    model = ["--model", str(contract_model)]

    def cli(*arguments: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "emotiondesk", *arguments]
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=work, timeout=300)

    analyzed = cli(
        "analyze",
        str(clip_one_face),
        "--csv",
        str(out / "one.csv"),
        "--annotated",
        str(out / "one.mp4"),
        *model,
        "--quiet",
    )
    assert analyzed.returncode == 0, analyzed.stderr[-2000:]
    batch_inputs = out / "inputs"
    batch_inputs.mkdir()
    for name in ("a.avi", "b.avi"):
        (batch_inputs / name).write_bytes(clip_one_face.read_bytes())
    batch = cli("analyze", str(batch_inputs), "--out", str(out / "batch"), "--jobs", "1", *model, "--quiet")
    assert batch.returncode == 0, batch.stderr[-2000:]
    window = subprocess.Popen(
        [sys.executable, "-m", "emotiondesk", "--source", str(clip_one_face), *model],
        env=env,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(8)  # the window opens the clip and plays it
    window.send_signal(signal.SIGTERM)
    _, stderr = window.communicate(timeout=60)
    ours = [
        home / ".local" / "state" / "emotiondesk",
        home / ".config" / "emotiondesk",
        home / ".local" / "share" / "emotiondesk",
        home / ".cache" / "emotiondesk",
    ]
    stray = {p for p in files_under(home) if not any(p.is_relative_to(folder) for folder in ours)}
    assert stray == set(), f"written outside emotiondesk's folders: {sorted(map(str, stray))}"
    assert files_under(work) == set() and files_under(scratch) == set()
    assert window.returncode == 128 + signal.SIGTERM, stderr[-2000:]  # closed cleanly by the signal
    assert (home / ".local" / "state" / "emotiondesk" / "log" / "native.log").exists()  # the HOME was the one used


INET_BIND = re.compile(  # the address a socket listens on (or sends from)
    r"bind\(\d+, \{sa_family=AF_INET6?, sin6?_port=htons\(\d+\), "
    r"(?:sin_addr=inet_addr|inet_pton\(AF_INET6?, )\(?\"([^\"]+)\""
)


@pytest.mark.skipif(
    not strace_available(), reason="strace not available (or ptrace not permitted): privacy is NOT verified in this run"
)
def test_dask_batch_stays_on_loopback(tmp_path, clip_one_face, contract_model):
    """`--dask local:1`: client, scheduler and worker (all traced, -f) listen on and talk to 127.0.0.1 only."""
    pytest.importorskip("distributed", reason="Dask not installed: the --dask run is NOT verified here")
    trace = tmp_path / "trace.txt"
    batch = ["analyze", str(clip_one_face), "--out", str(tmp_path / "out"), "--dask", "local:1"]
    batch += ["--model", str(contract_model), "--quiet"]
    command = ["strace", "-f", "-e", "trace=bind,connect,sendto,sendmsg,sendmmsg,setsockopt", "-o", str(trace)]
    command += [sys.executable, "-c", LINGER, *batch]
    env = {key: value for key, value in run_env().items() if key != "CI"}  # CI=true would hide telemetry
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "out" / "one_face.csv").exists()
    text = trace.read_text()
    bound = set(INET_BIND.findall(text))
    assert bound and all(is_loopback(host) for host in bound), f"listening beyond loopback: {bound}"
    destinations = INET_CONNECT.findall(text)
    assert destinations, "no connection traced: the scheduler and worker did not run inside the trace"
    assert [(h, p) for p, h in destinations if not is_loopback(h)] == [], f"connections: {destinations}"
    sends = [line for line in text.splitlines() if re.search(r"\b(connect|sendto|sendmsg|sendmmsg)\(", line)]
    addressed = {host for line in sends for host in INET_ADDRESS.findall(line)}
    assert {host for host in addressed if not is_loopback(host)} == set(), f"sent beyond loopback: {addressed}"
    assert "htons(53)" not in text, "a DNS look-up was attempted"
