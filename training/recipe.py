"""The GPU recipe: strong teachers → their test-time-augmented ensemble → distilled fast and accurate students.

One command per step, each resumable (re-running it continues from the run folders' last.pt) and each
within a 10-minute device command; `all` runs the four steps inside one command's time for one lease:

    python -m training recipe teachers --data PACK --out runs/recipe --teacher-minutes 4.6
    python -m training recipe ensemble --data PACK --out runs/recipe
    python -m training recipe students --data PACK --out runs/recipe --student-minutes 2.7
    python -m training recipe collect  --data PACK --out runs/recipe --collect $OUT
    python -m training recipe all      --data PACK --out runs/recipe --collect $OUT --deadline-minutes 9.3

Every step covers each label set given by `--sets` (fer2013: FER2013 labels; ferplus: FER+ soft votes,
validated on FER+ majority labels). Teachers and students of all sets train side by side, one process
each, on the one GPU. Validation is PublicTest only.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

# label set → (training labels, validation labels)
LABEL_SETS = {"fer2013": ("fer2013", "fer2013"), "ferplus": ("ferplus-soft", "ferplus-majority")}

# The teachers: Khaireddin & Chen's VGG-style net and a ResNet-18-style net, SGD with Nesterov momentum.
TEACHER_ARGUMENTS = {
    "vgg": ["--optimizer", "sgd", "--lr", "0.05", "--weight-decay", "5e-4", "--batch-size", "128"],
    "resnet": ["--optimizer", "sgd", "--lr", "0.05", "--weight-decay", "5e-4", "--batch-size", "128"],
}
# The students: the fast default candidates and the accurate offline model, distilled from the ensemble.
STUDENT_ARGUMENTS = {
    "desknet-xs": ["--lr", "3e-3", "--batch-size", "256"],
    "desknet-s": ["--lr", "3e-3", "--batch-size", "256"],
    "desknet": ["--lr", "3e-3", "--batch-size", "256"],
}
DEFAULT_STUDENTS = {"fer2013": ["desknet-xs", "desknet-s", "desknet"], "ferplus": ["desknet-s", "desknet"]}
TRANSFER_LIMIT_BYTES = 15_500_000  # a file that comes back from the device machine (16 MiB, with margin)


@dataclass(frozen=True)
class Job:
    """One training process of the recipe."""

    name: str  # e.g. "fer2013/teacher-vgg"
    run_dir: Path
    arguments: list[str]


def data_arguments(args: argparse.Namespace, label_set: str) -> list[str]:
    arguments = ["--data", str(args.data), "--labels", LABEL_SETS[label_set][0], "--cache", str(args.cache)]
    if args.ferplus:
        arguments += ["--ferplus", str(args.ferplus)]
    return arguments + ["--device", args.device]


def teacher_dirs(args: argparse.Namespace, label_set: str) -> list[Path]:
    return [args.out / label_set / f"teacher-{arch}" for arch in args.teacher_archs]


def teacher_jobs(args: argparse.Namespace) -> list[Job]:
    jobs = []
    for label_set in args.sets:
        for arch, run_dir in zip(args.teacher_archs, teacher_dirs(args, label_set)):
            extra = TEACHER_ARGUMENTS.get(arch, [])
            arguments = [*data_arguments(args, label_set), "--arch", arch, *extra, "--out", str(run_dir)]
            arguments += ["--minutes", str(args.teacher_minutes), "--patience", "0", "--no-evaluate"]
            jobs.append(Job(f"{label_set}/teacher-{arch}", run_dir, arguments))
    return jobs


def student_archs(args: argparse.Namespace, label_set: str) -> list[str]:
    return args.student_archs or DEFAULT_STUDENTS[label_set]


def student_jobs(args: argparse.Namespace, minutes: float) -> list[Job]:
    jobs = []
    for label_set in args.sets:
        teachers = [d / "best.pt" for d in teacher_dirs(args, label_set) if (d / "best.pt").exists()]
        if not teachers:
            raise ValueError(f"{args.out / label_set}: no trained teacher; run the teachers step first")
        for arch in student_archs(args, label_set):
            run_dir = args.out / label_set / f"student-{arch}"
            arguments = [*data_arguments(args, label_set), "--arch", arch, *STUDENT_ARGUMENTS.get(arch, [])]
            arguments += ["--teacher", ",".join(map(str, teachers)), "--out", str(run_dir)]
            arguments += ["--minutes", str(minutes), "--patience", "0", "--no-evaluate"]
            jobs.append(Job(f"{label_set}/student-{arch}", run_dir, arguments))
    return jobs


def last_line(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.startswith("epoch ")]
    except OSError:
        return ""
    return lines[-1] if lines else ""


def run_jobs(jobs: list[Job], log_dir: Path, report_every: float = 30.0) -> dict[str, int]:
    """Run the jobs side by side (one `python -m training train` each), print their progress, wait for all."""
    log_dir.mkdir(parents=True, exist_ok=True)
    processes = {}
    for job in jobs:
        log = log_dir / (job.name.replace("/", "_") + ".log")
        with open(log, "a") as handle:
            command = [sys.executable, "-m", "training", "train", *job.arguments]
            handle.write("$ " + " ".join(command) + "\n")
            handle.flush()
            processes[job.name] = (subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT), log)
    started = time.monotonic()
    next_report = started + report_every
    while any(process.poll() is None for process, _ in processes.values()):
        time.sleep(0.2)
        if time.monotonic() >= next_report:
            next_report += report_every
            minutes = (time.monotonic() - started) / 60
            for name, (_, log) in processes.items():
                print(f"[{minutes:4.1f} min] {name}: {last_line(log)}", flush=True)
    codes = {name: process.returncode for name, (process, _) in processes.items()}
    for name, code in codes.items():
        _, log = processes[name]
        status = "ok" if code == 0 else f"FAILED (exit {code}, see {log})"
        print(f"{name}: {status}  {last_line(log)}", flush=True)
    return codes


def step_teachers(args: argparse.Namespace) -> int:
    codes = run_jobs(teacher_jobs(args), args.out / "logs")
    return 0 if any(code == 0 for code in codes.values()) else 1


def step_ensemble(args: argparse.Namespace) -> int:
    """Each teacher and their ensemble on PublicTest with 1, 2 (mirror) and 10 (5 shifts × mirror) views."""
    from training.data import load_dataset
    from training.evaluate import classification_metrics
    from training.train import load_checkpoint, pick_device, predict_probabilities

    device = pick_device(args.device)
    for label_set in args.sets:
        val_set = load_dataset(args.data, "PublicTest", LABEL_SETS[label_set][1], args.ferplus, args.cache)
        members = {}
        for run_dir in teacher_dirs(args, label_set):
            if (run_dir / "best.pt").exists():
                members[run_dir.name] = load_checkpoint(run_dir / "best.pt", device)[0]
        if not members:
            print(f"{label_set}: no trained teacher to evaluate", file=sys.stderr)
            return 1
        candidates = {**{name: [model] for name, model in members.items()}}
        if len(members) > 1:
            candidates["ensemble"] = list(members.values())
        rows = []
        for name, models in candidates.items():
            for views in (1, 2, 10):
                probabilities = predict_probabilities(models, val_set.images, device, views=views)
                metrics = classification_metrics(val_set.labels, probabilities.argmax(1), val_set.class_names)
                recall = {k: round(v["recall"], 4) for k, v in metrics["per_class"].items()}
                rows.append(
                    {
                        "model": name,
                        "views": views,
                        "accuracy": metrics["accuracy"],
                        "macro_f1": metrics["macro_f1"],
                        "recall": recall,
                    }
                )
        report = {
            "label_set": label_set,
            "validation": f"PublicTest, {LABEL_SETS[label_set][1]} labels",
            "faces": len(val_set),
            "rows": rows,
        }
        (args.out / label_set).mkdir(parents=True, exist_ok=True)
        (args.out / label_set / "ensemble.json").write_text(json.dumps(report, indent=1))
        print(ensemble_table(report), flush=True)
    return 0


def ensemble_table(report: dict) -> str:
    lines = [
        f"{report['label_set']}: {report['faces']} faces of {report['validation']}",
        "",
        "| model | views | accuracy | macro F1 |",
        "|---|---|---|---|",
    ]
    for row in report["rows"]:
        lines.append(f"| {row['model']} | {row['views']} | {row['accuracy']:.2%} | {row['macro_f1']:.3f} |")
    return "\n".join(lines)


def step_students(args: argparse.Namespace, minutes: float | None = None) -> int:
    codes = run_jobs(student_jobs(args, minutes or args.student_minutes), args.out / "logs")
    return 0 if all(code == 0 for code in codes.values()) else 1


def run_summary(run_dir: Path) -> dict:
    history = json.loads((run_dir / "history.json").read_text()) if (run_dir / "history.json").exists() else []
    best = max(history, key=lambda h: h["val_accuracy"]) if history else {}
    return {
        "epochs": len(history),
        "minutes": round(history[-1]["seconds"] / 60, 2) if history else 0,
        "best_epoch": best.get("epoch"),
        "best_val_accuracy": best.get("val_accuracy"),
    }


def half_precision_checkpoint(path: Path) -> bytes:
    """best.pt with float tensors stored as float16 (halves a teacher for the trip back)."""
    import torch

    state = torch.load(path, map_location="cpu", weights_only=False)
    state["model"] = {k: v.half() if v.is_floating_point() else v for k, v in state["model"].items()}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    archive.addfile(info, io.BytesIO(data))


def step_collect(args: argparse.Namespace) -> int:
    """Into `--collect`: per set a tar of the students (best.pt, history, ONNX), teachers in float16 where
    they fit the 16 MiB transfer limit, one recipe-report.json and one tar of the logs."""
    import platform

    import torch

    from training.export import export_checkpoint

    collect: Path = args.collect
    collect.mkdir(parents=True, exist_ok=True)
    report: dict = {
        "machine": torch.cuda.get_device_name() if torch.cuda.is_available() else platform.processor(),
        "torch": torch.__version__,
        "sets": {},
    }
    for label_set in args.sets:
        entry: dict = {"teachers": {}, "students": {}}
        ensemble_path = args.out / label_set / "ensemble.json"
        if ensemble_path.exists():
            entry["ensemble"] = json.loads(ensemble_path.read_text())
        for run_dir in teacher_dirs(args, label_set):
            if not (run_dir / "best.pt").exists():
                continue
            entry["teachers"][run_dir.name] = run_summary(run_dir)
            data = half_precision_checkpoint(run_dir / "best.pt")
            if len(data) <= TRANSFER_LIMIT_BYTES:
                (collect / f"{label_set}-{run_dir.name}.pt").write_bytes(data)
        students = collect / f"{label_set}-students.tar"
        with tarfile.open(students, "w") as archive:
            for arch in student_archs(args, label_set):
                run_dir = args.out / label_set / f"student-{arch}"
                if not (run_dir / "best.pt").exists():
                    continue
                summary = run_summary(run_dir)
                try:
                    onnx_path = run_dir / "model.onnx"
                    export_checkpoint(run_dir / "best.pt", onnx_path, training_data=f"FER2013 Training ({label_set})")
                    archive.add(onnx_path, f"{run_dir.name}/model.onnx")
                except Exception as error:  # the checkpoint still comes back; export again at home
                    summary["export_error"] = str(error)
                for name in ("best.pt", "history.json"):
                    archive.add(run_dir / name, f"{run_dir.name}/{name}")
                entry["students"][run_dir.name] = summary
        report["sets"][label_set] = entry
    (collect / "recipe-report.json").write_text(json.dumps(report, indent=1))
    with tarfile.open(collect / "recipe-logs.tar", "w") as archive:
        for log in sorted((args.out / "logs").glob("*.log")):
            archive.add(log, log.name)
    print(json.dumps({s: {k: v for k, v in e.items() if k != "ensemble"} for s, e in report["sets"].items()}, indent=1))
    return 0


def step_all(args: argparse.Namespace) -> int:
    """Teachers, ensemble, students and collect in one command, the students fitted to the deadline."""
    started = time.monotonic()
    if step_teachers(args) != 0:
        return 1
    step_ensemble(args)
    if args.collect:
        step_collect(args)  # what the teachers gave comes back even if the students are cut short
    minutes_left = args.deadline_minutes - (time.monotonic() - started) / 60 - args.overhead_minutes
    minutes = min(args.student_minutes, minutes_left) if args.deadline_minutes else args.student_minutes
    if minutes_left <= 0.25:
        print(f"no time left for students ({minutes_left:.1f} min); run the students step next", file=sys.stderr)
        return 1
    print(f"students: {minutes:.2f} min each", flush=True)
    code = step_students(args, minutes)
    if args.collect:
        step_collect(args)
    return code


STEPS = {
    "teachers": step_teachers,
    "ensemble": step_ensemble,
    "students": step_students,
    "collect": step_collect,
    "all": step_all,
}


def add_recipe_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("recipe", help="GPU recipe: teachers, ensemble, distilled students (docs/gpu-recipe.md)")
    parser.add_argument("step", choices=list(STEPS))
    parser.add_argument("--data", type=Path, required=True, help="training pack (.npz) or FER2013 CSV")
    parser.add_argument("--ferplus", type=Path, help="FER+ votes, when --data is a CSV")
    parser.add_argument("--cache", type=Path, default=Path("cache"))
    parser.add_argument("--out", type=Path, default=Path("runs/recipe"), help="run folders")
    parser.add_argument("--sets", nargs="+", default=list(LABEL_SETS), choices=list(LABEL_SETS))
    parser.add_argument("--teacher-archs", nargs="+", default=list(TEACHER_ARGUMENTS))
    parser.add_argument("--student-archs", nargs="+", help="default: " + str(DEFAULT_STUDENTS))
    parser.add_argument("--teacher-minutes", type=float, default=4.6)
    parser.add_argument("--student-minutes", type=float, default=2.7)
    parser.add_argument("--deadline-minutes", type=float, default=0.0, help="`all`: fit the students before this")
    parser.add_argument("--overhead-minutes", type=float, default=0.9, help="`all`: start-up and collect allowance")
    parser.add_argument("--collect", type=Path, help="folder the results are gathered into (e.g. $OUT)")
    parser.add_argument("--device", default="auto")
    parser.set_defaults(func=lambda args: STEPS[args.step](args))
