"""Batch on a Dask cluster (`analyze … --out DIR --dask ADDRESS`): a `dask scheduler` and two `dask worker`
processes on 127.0.0.1, started once for the module as a lab would start them; results equal `--jobs 1`."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed", reason="Dask (emotiondesk[dask]) not installed: --dask NOT tested")

from emotiondesk.runs.batch import run_batch  # noqa: E402
from emotiondesk.runs.tasks import Task, unreachable  # noqa: E402
from emotiondesk.samples import write_face_clip  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DASK = [sys.executable, "-m", "dask"]  # the `dask` command of this environment: `dask scheduler`, `dask worker`


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def results(path: Path) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "wall_time"} for row in read_csv(path)]


def index_by_name(out: Path) -> dict[str, dict]:
    return {Path(row["path"]).name: row for row in read_csv(out / "index.csv")}


def worker_env() -> dict[str, str]:
    """Workers import this checkout's emotiondesk, as a lab's workers import the installed one."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """`dask scheduler` + 2 × `dask worker --nthreads 1`, all on 127.0.0.1, no dashboards: the scheduler address."""
    folder = tmp_path_factory.mktemp("cluster")
    scheduler_file = folder / "scheduler.json"
    logs = [open(folder / f"{name}.log", "w") for name in ("scheduler", "worker1", "worker2")]
    scheduler = subprocess.Popen(
        [*DASK, "scheduler", "--host", "127.0.0.1", "--port", "0"]
        + ["--no-dashboard", "--scheduler-file", str(scheduler_file)],
        stdout=logs[0],
        stderr=subprocess.STDOUT,
        env=worker_env(),
        cwd=folder,
    )
    processes = [scheduler]
    try:
        address = None
        deadline = time.monotonic() + 60
        while address is None and time.monotonic() < deadline:
            try:
                address = json.loads(scheduler_file.read_text())["address"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.1)
        for number, log in enumerate(logs[1:], 1):
            processes.append(
                subprocess.Popen(
                    [*DASK, "worker", address, "--nthreads", "1", "--nworkers", "1"]
                    + ["--host", "127.0.0.1", "--no-dashboard", "--name", f"w{number}"],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=worker_env(),
                    cwd=folder,
                )
            )
        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=90)
        yield address
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    for log in logs:
        log.close()


@pytest.fixture(scope="module")
def clips(tmp_path_factory, face_image, still_three_faces) -> Path:
    folder = tmp_path_factory.mktemp("inputs")
    write_face_clip(folder / "one.mp4", face_image, faces=1, frames=10)
    write_face_clip(folder / "three.avi", face_image, faces=3, frames=10)
    (folder / "corrupt.mp4").write_bytes(os.urandom(20_000))
    return folder


def analyze(*arguments: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "emotiondesk", "analyze", *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=worker_env(),
    )


def test_dask_batch_equals_jobs_1(cluster, clips, contract_model, tmp_path):
    local, dask = tmp_path / "jobs1", tmp_path / "dask"
    first = analyze(str(clips), "--out", str(local), "--jobs", "1", "--model", str(contract_model), "--quiet")
    second = analyze(str(clips), "--out", str(dask), "--dask", cluster, "--model", str(contract_model))
    assert first.returncode == second.returncode == 2, second.stderr  # the corrupt file fails in both
    assert "Traceback" not in second.stderr
    assert f"Dask {cluster}, 2 workers" in second.stdout
    a, b = index_by_name(local), index_by_name(dask)
    assert sorted(a) == sorted(b) == ["corrupt.mp4", "one.mp4", "three.avi"]
    for name in a:
        keep = ("status", "reason", "frames", "faces", "duration_s", "csv", "sidecar", "annotated")
        assert {k: a[name][k] for k in keep} == {k: b[name][k] for k in keep}, name
    for name in ("one.mp4", "three.avi"):
        assert results(dask / a[name]["csv"]) == results(local / a[name]["csv"]), name
        sidecar = json.loads((dask / a[name]["sidecar"]).read_text())
        assert sidecar["status"] == "finished"
    bar = [part for part in second.stderr.replace("\r", "\n").splitlines() if part.startswith("batch:")][-1]
    assert "20/20" in bar and "files 3/3" in bar, bar  # one bar over both workers' frames


def test_worker_killed_mid_input_is_run_again(cluster, tmp_path, face_image, contract_model):
    inputs = tmp_path / "long"
    inputs.mkdir()
    for name in ("a", "b"):
        write_face_clip(inputs / f"{name}.avi", face_image, faces=1, frames=240, width=320, height=240)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "emotiondesk", "analyze", str(inputs), "--out", str(out), "--dask", cluster]
    process = subprocess.Popen(
        [*command, "--model", str(contract_model)],
        cwd=ROOT,
        env=worker_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 90
    with distributed.Client(cluster, timeout=30) as client:
        while time.monotonic() < deadline and not any(
            len(p.read_text().splitlines()) > 20 for p in out.glob("*.csv") if p.name != "index.csv"
        ):
            time.sleep(0.05)
        busy = [worker for worker, keys in client.processing().items() if keys]
        assert busy, "no worker was analysing"
        victim = client.run(os.getpid, workers=busy[:1])[busy[0]]
        half_done = {p.name: len(p.read_text().splitlines()) for p in out.glob("*.csv") if p.name != "index.csv"}
        os.kill(victim, signal.SIGKILL)  # a worker process dies mid-input (its nanny starts a new one)
        stdout, stderr = process.communicate(timeout=180)
        client.wait_for_workers(2, timeout=60)  # the cluster heals for the tests after this one
    assert process.returncode == 0, stderr
    assert any(0 < lines < 241 for lines in half_done.values()), half_done
    rows = index_by_name(out)
    assert [rows[n]["status"] for n in ("a.avi", "b.avi")] == ["done", "done"]
    single = tmp_path / "single.csv"
    assert (
        analyze(str(inputs / "a.avi"), "--csv", str(single), "--model", str(contract_model), "--quiet").returncode == 0
    )
    for name in ("a", "b"):
        assert json.loads((out / f"{name}.json").read_text())["status"] == "finished"
        assert results(out / f"{name}.csv") == results(single), name  # the rerun replaced the killed attempt
    assert "; 480 frames analysed" in stdout  # the killed attempt's frames are not counted twice
    bar = [part for part in stderr.replace("\r", "\n").splitlines() if part.startswith("batch:")][-1]
    assert "480/480" in bar, bar


def test_sigterm_cancels_the_futures_and_leaves_the_index_true(cluster, tmp_path, face_image, contract_model):
    inputs = tmp_path / "long"
    inputs.mkdir()
    for name in ("a", "b", "c", "d", "e"):
        write_face_clip(inputs / f"{name}.avi", face_image, faces=1, frames=240, width=320, height=240)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "emotiondesk", "analyze", str(inputs), "--out", str(out), "--dask", cluster]
    process = subprocess.Popen(
        [*command, "--model", str(contract_model), "--quiet"], cwd=ROOT, env=worker_env(), stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 90
    while (
        time.monotonic() < deadline
        and sum(len(p.read_text().splitlines()) > 5 for p in out.glob("*.csv") if p.name != "index.csv") < 2
    ):
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    rows = index_by_name(out)
    states = [row["status"] for row in rows.values()]
    assert set(states) <= {"done", "interrupted", "pending"} and "interrupted" in states and "pending" in states, rows
    for row in rows.values():
        if row["status"] == "done":
            assert json.loads((out / row["sidecar"]).read_text())["status"] == "finished"
        elif row["status"] == "interrupted":
            sidecar = json.loads((out / row["sidecar"]).read_text())
            assert sidecar["status"] == "interrupted" and sidecar["frames_done"] == int(row["frames"]) > 0
            assert len(read_csv(out / row["csv"])) == sidecar["rows"]
        else:
            assert row["reason"] == "not started" and not (out / f"{Path(row['path']).stem}.csv").exists()
    with distributed.Client(cluster, timeout=30) as client:  # nothing of the batch is left on the cluster
        deadline = time.monotonic() + 30
        while any(client.processing().values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(client.processing().values())


def test_a_worker_of_another_version_is_refused(cluster, clips, contract_model, tmp_path, monkeypatch):
    import emotiondesk
    from emotiondesk.errors import EmotionDeskError
    from emotiondesk.pipeline import PipelineConfig

    monkeypatch.setattr(emotiondesk, "__version__", "0.0.0-other")
    with pytest.raises(
        EmotionDeskError, match=r"worker tcp://127\.0\.0\.1:\d+ has emotiondesk .*, this client 0\.0\.0"
    ):
        run_batch([clips / "one.mp4"], tmp_path / "out", PipelineConfig(model=str(contract_model)), dask=cluster)


@pytest.mark.skipif(
    subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0, reason="unshare -m not permitted"
)
def test_inputs_and_outputs_a_worker_cannot_see_are_failed_rows(cluster, clips, contract_model, tmp_path):
    """No shared filesystem: the client runs in a mount namespace of its own, where `private/` is a tmpfs that
    the workers do not see. An input there and every output there become `failed` rows with the reason."""
    private = tmp_path / "private"
    private.mkdir()
    shared_out = tmp_path / "out"
    script = (
        f"mount -t tmpfs none {private} && cp {clips / 'one.mp4'} {private / 'mine.mp4'} && "
        f"{sys.executable} -m emotiondesk analyze {clips / 'one.mp4'} {private / 'mine.mp4'} --out {shared_out} "
        f"--dask {cluster} --model {contract_model} --quiet; echo rc=$?; "
        f"{sys.executable} -m emotiondesk analyze {clips / 'three.avi'} --out {private / 'out'} "
        f"--dask {cluster} --model {contract_model} --quiet; echo rc=$?; cat {private / 'out' / 'index.csv'}"
    )
    result = subprocess.run(
        ["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=180, cwd=ROOT, env=worker_env()
    )
    assert result.stdout.count("rc=2") == 2, result.stdout + result.stderr
    rows = index_by_name(shared_out)
    assert rows["one.mp4"]["status"] == "done"
    assert rows["mine.mp4"]["status"] == "failed"
    assert "does not exist on worker" in rows["mine.mp4"]["reason"] and "share the client" in rows["mine.mp4"]["reason"]
    private_index = list(csv.DictReader(result.stdout.split("rc=2\n")[-1].splitlines()))
    assert [row["status"] for row in private_index] == ["failed"]
    assert f"output folder {private / 'out'} does not exist on worker" in private_index[0]["reason"]
    assert "Traceback" not in result.stderr


def test_a_task_says_what_a_worker_lacks(tmp_path, clip_one_face):
    from emotiondesk import __version__

    def task(source: Path, out: Path, version: str = __version__) -> Task:
        return Task(0, source, out / "x.csv", None, None, version)

    assert unreachable(task(clip_one_face, tmp_path)) is None
    assert "emotiondesk" in unreachable(task(clip_one_face, tmp_path, "9.9"))
    assert "does not exist on worker" in unreachable(task(tmp_path / "gone.mp4", tmp_path))
    assert "output folder" in unreachable(task(clip_one_face, tmp_path / "gone"))


def test_the_slurm_example_prints_its_job_script_and_runs_on_a_stand_in(clips, tmp_path):
    pytest.importorskip("dask_jobqueue", reason="dask-jobqueue not installed: examples/slurm_batch.py NOT tested")
    example = [sys.executable, str(ROOT / "examples" / "slurm_batch.py"), str(clips / "one.mp4")]
    script = subprocess.run(
        [*example, "--out", str(tmp_path / "x"), "--print-job-script", "--cores", "16", "--partition", "cpu"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=worker_env(),
    )
    assert script.returncode == 0, script.stderr
    assert "#SBATCH -p cpu" in script.stdout and "#SBATCH --cpus-per-task=16" in script.stdout
    assert "--nthreads 1" in script.stdout and "--nworkers 10" in script.stdout  # 16 cores ÷ 1.5 per analyze
    assert "export ORT_DISABLE_TELEMETRY=1" in script.stdout and "--no-dashboard" in script.stdout
    assert not (tmp_path / "x").exists()  # nothing was run
    out = tmp_path / "out"
    stand_in = subprocess.run(
        [*example, str(clips / "three.avi"), "--out", str(out), "--stand-in"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env=worker_env(),
    )
    assert stand_in.returncode == 0, stand_in.stderr
    assert "2 done" in stand_in.stdout and "Dask tcp://127.0.0.1:" in stand_in.stdout
    assert [row["status"] for row in index_by_name(out).values()] == ["done", "done"]


def test_dask_option_errors_are_one_line_before_any_work(tmp_path, clip_one_face, contract_model, capsys, monkeypatch):
    from emotiondesk.cli.main import main
    from emotiondesk.errors import EmotionDeskError
    from emotiondesk.pipeline import PipelineConfig
    from emotiondesk.runs import cluster as runs_cluster

    one, out = str(clip_one_face), str(tmp_path / "out")
    assert main(["analyze", one, "--out", out, "--dask", "local:0", "--model", str(contract_model)]) == 2
    assert main(["analyze", one, "--out", out, "--dask", "local", "--jobs", "2"]) == 2
    assert main(["analyze", one, "--dask", "local"]) == 2  # --dask without --out is a batch without its folder
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 3 and all(line.startswith("emotiondesk: error: ") for line in errors), errors
    assert "local:N needs N ≥ 1" in errors[0] and "--jobs 2 and --dask local" in errors[1]
    monkeypatch.setattr(runs_cluster, "CONNECT_TIMEOUT_S", 2)
    with pytest.raises(EmotionDeskError, match=r"--dask tcp://127\.0\.0\.1:9: cannot reach the scheduler"):
        run_batch([clip_one_face], tmp_path / "o2", PipelineConfig(model=str(contract_model)), dask="tcp://127.0.0.1:9")
