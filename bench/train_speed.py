"""CPU training throughput of the shipped architectures, through the real training step (training.train.train_step).

    nice -n 19 python bench/train_speed.py [--arch desknet-xs desknet-s] [--threads 1 2] [--batch 64 128 256]
        [--channels-last off on] [--compile off on] [--bf16 off on] [--baseline 2,128,off,off,off]
        [--extra 2,128,on,off,on ...] [--grid] [--teacher desknet-s] [--no-parts]
        [--steps 4] [--warmup 2] [--rounds 3]

Random uint8 faces (no data needed). Each row is one setting: the median ms of its timed steps (`--rounds`
interleaved rounds over all settings, each `--warmup` untimed steps then `--steps` timed ones; a compiled
setting's first step compiles, and its time is shown), faces/s = batch / median ms, and "best ms", the fastest
step (on a machine shared with other jobs the median includes their interference, the best step does not).
By default every factor is varied alone around the baseline (what the training loop did on a CPU before this
bench: 2 threads, batch 128, contiguous, eager, fp32), then the `--extra` settings (the combined winners) and
distillation from an untrained `--teacher` run; `--grid` runs the full product instead. A second table splits
a step into parts: gathering a batch from the data set in RAM, `augment()` alone, a teacher's forward pass.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")  # no compile-worker pool fighting for the 2 cores
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from training.graph import EmotionNet  # noqa: E402
from training.models import build_model  # noqa: E402
from training.train import TrainConfig, augment, make_optimizer, train_step  # noqa: E402

CLASSES = 7
DATASET_SIZE = 28709  # FER2013 Training


@dataclass(frozen=True)
class Setting:
    architecture: str = "desknet-xs"
    threads: int = 2
    batch_size: int = 128
    channels_last: bool = False
    compile: bool = False
    bf16: bool = False
    teacher: str = ""  # architecture of an (untrained) teacher to distil from; "" = none


@dataclass
class Timing:
    setting: Setting
    ms_per_step: float
    faces_per_second: float
    compile_seconds: float = 0.0
    error: str = ""
    best_ms: float = float("nan")  # the fastest timed step: what the setting does when no other job runs


def random_batch(batch_size: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    faces = torch.randint(0, 256, (batch_size, 1, 48, 48), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, CLASSES, (batch_size,), generator=generator)
    return faces, torch.nn.functional.one_hot(labels, CLASSES).float()


def median_ms(function: Callable[[], object], steps: int, warmup: int) -> float:
    for _ in range(warmup):
        function()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def build(architecture: str, channels_last: bool) -> EmotionNet:
    model = EmotionNet(build_model(architecture, CLASSES))
    return model.to(memory_format=torch.channels_last) if channels_last else model


class Runner:
    """One setting's model, optimizer and batch, built once; `times` runs timed training steps (the training
    loop's own `train_step`), so that rounds over all settings can interleave (other jobs on a shared machine
    then slow every setting alike instead of a few)."""

    def __init__(self, setting: Setting) -> None:
        self.setting = setting
        torch.set_num_threads(setting.threads)
        torch.manual_seed(0)
        self.device = torch.device("cpu")
        self.config = TrainConfig(architecture=setting.architecture, batch_size=setting.batch_size)
        model = build(setting.architecture, setting.channels_last).train()
        self.optimizer = make_optimizer(self.config, model, self.device)
        self.teachers = []
        if setting.teacher:
            self.teachers = [build(setting.teacher, setting.channels_last).eval().requires_grad_(False)]
        self.model = torch.compile(model) if setting.compile else model
        self.faces, self.targets = random_batch(setting.batch_size)
        self.weights = torch.ones(CLASSES)
        self.compile_seconds = 0.0
        self.error = ""
        self.samples: list[float] = []
        self.warm = False

    def step(self) -> None:
        s = self.setting
        train_step(
            self.model,
            self.optimizer,
            self.faces,
            self.targets,
            self.weights,
            self.config,
            self.teachers,
            self.device,
            s.channels_last,
            s.bf16,
        )

    def times(self, steps: int, warmup: int) -> None:
        if self.error:
            return
        torch.set_num_threads(self.setting.threads)
        try:
            if not self.warm:
                if self.setting.compile:
                    start = time.perf_counter()
                    self.step()
                    self.compile_seconds = time.perf_counter() - start
                    warmup += 5  # the first compiled steps are erratic
                self.warm = True
            for _ in range(warmup):
                self.step()
            for _ in range(steps):
                start = time.perf_counter()
                self.step()
                self.samples.append((time.perf_counter() - start) * 1000)
        except Exception as error:  # torch.compile can fail (no C++ compiler, unsupported op)
            self.error = f"{type(error).__name__}: {error}".splitlines()[0][:160]

    def timing(self) -> Timing:
        if self.error or not self.samples:
            return Timing(self.setting, float("nan"), float("nan"), self.compile_seconds, self.error or "no samples")
        ms = statistics.median(self.samples)
        faces_per_second = self.setting.batch_size * 1000 / ms
        return Timing(self.setting, ms, faces_per_second, self.compile_seconds, "", min(self.samples))


def time_settings(settings: list[Setting], steps: int = 5, warmup: int = 2, rounds: int = 1) -> list[Timing]:
    """Median ms of one full training step per setting, over `rounds` interleaved rounds of `steps` steps."""
    runners = [Runner(setting) for setting in settings]
    for _ in range(rounds):
        for runner in runners:
            runner.times(steps, warmup)
            print(f"  {runner.timing()}", file=sys.stderr, flush=True)
    return [runner.timing() for runner in runners]


def time_setting(setting: Setting, steps: int = 5, warmup: int = 2) -> Timing:
    return time_settings([setting], steps, warmup)[0]


def settings_to_run(
    architectures: Iterable[str],
    threads: list[int],
    batches: list[int],
    channels_last: list[bool],
    compiles: list[bool],
    bf16s: list[bool],
    grid: bool,
    baseline: Setting = Setting(),
) -> list[Setting]:
    """The full product of the factors (`grid`), or the baseline plus each factor varied alone."""
    axes = {
        "threads": threads,
        "batch_size": batches,
        "channels_last": channels_last,
        "compile": compiles,
        "bf16": bf16s,
    }
    result: list[Setting] = []
    for architecture in architectures:
        base = replace(baseline, architecture=architecture)
        if grid:
            for values in itertools.product(*axes.values()):
                result.append(replace(base, **dict(zip(axes, values))))
            continue
        result.append(base)
        for name, values in axes.items():
            for value in values:
                candidate = replace(base, **{name: value})
                if candidate not in result:
                    result.append(candidate)
    return result


def parse_setting(text: str) -> Setting:
    """`threads,batch,channels_last,compile,bf16`, e.g. `2,128,on,off,on`."""
    threads, batch, channels_last, compiled, bf16 = text.split(",")
    return Setting("", int(threads), int(batch), channels_last == "on", compiled == "on", bf16 == "on")


def on_off(flag: bool) -> str:
    return "on" if flag else "off"


def markdown_table(timings: list[Timing]) -> str:
    """One row per setting; the gain (faces/s of the best step, robust to other jobs) is against the first row
    of the same architecture, its baseline."""
    lines = [
        "| arch | threads | batch | channels_last | compile | bf16 | teacher | ms/step | best ms | faces/s "
        "| vs baseline (best) |",
        "|---|---:|---:|---|---|---|---|---:|---:|---:|---:|",
    ]
    baselines: dict[str, float] = {}
    for timing in timings:
        s = timing.setting
        best_faces_per_second = s.batch_size * 1000 / timing.best_ms if not timing.error else float("nan")
        baselines.setdefault(s.architecture, best_faces_per_second)
        if timing.error:
            speed = f"failed: {timing.error}"
            lines.append(
                f"| {s.architecture} | {s.threads} | {s.batch_size} | {on_off(s.channels_last)} | {on_off(s.compile)} "
                f"| {on_off(s.bf16)} | {s.teacher or '-'} | – | – | – | {speed} |"
            )
            continue
        gain = best_faces_per_second / baselines[s.architecture]
        compiled = f" (compile {timing.compile_seconds:.0f} s)" if s.compile else ""
        lines.append(
            f"| {s.architecture} | {s.threads} | {s.batch_size} | {on_off(s.channels_last)} | {on_off(s.compile)}"
            f"{compiled} | {on_off(s.bf16)} | {s.teacher or '-'} | {timing.ms_per_step:.1f} | {timing.best_ms:.1f} "
            f"| {timing.faces_per_second:.0f} | ×{gain:.2f} |"
        )
    return "\n".join(lines)


def parts_table(architectures: list[str], teacher: str, batch_size: int, threads: int, steps: int, warmup: int) -> str:
    """ms per batch of each part of a step: data gather, augment(), teacher forward, and the whole step."""
    torch.set_num_threads(threads)
    data = torch.randint(0, 256, (DATASET_SIZE, 1, 48, 48), dtype=torch.uint8)
    order = torch.randperm(DATASET_SIZE)
    faces, _ = random_batch(batch_size)
    floats = faces.float()
    rows = [
        ("gather a batch from the data set in RAM", median_ms(lambda: data[order[:batch_size]], steps, warmup)),
        ("augment() (erasing p=0.3)", median_ms(lambda: augment(floats, 0.3), steps, warmup)),
        ("augment() without erasing", median_ms(lambda: augment(floats, 0.0), steps, warmup)),
    ]
    if teacher:
        model = build(teacher, False).eval().requires_grad_(False)
        with torch.no_grad():
            rows.append((f"teacher forward ({teacher}, no grad)", median_ms(lambda: model(floats), steps, warmup)))
    for architecture in architectures:
        timing = time_setting(Setting(architecture, threads, batch_size), steps, warmup)
        rows.append((f"whole train_step ({architecture})", timing.ms_per_step))
    lines = [f"| part (batch {batch_size}, {threads} threads) | ms/batch |", "|---|---:|"]
    lines += [f"| {name} | {ms:.1f} |" for name, ms in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", nargs="+", default=["desknet-xs", "desknet-s"])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--batch", nargs="+", type=int, default=[64, 128, 256])
    parser.add_argument("--channels-last", nargs="+", choices=["off", "on"], default=["off", "on"])
    parser.add_argument("--compile", nargs="+", choices=["off", "on"], default=["off", "on"])
    parser.add_argument("--bf16", nargs="+", choices=["off", "on"], default=["off", "on"])
    parser.add_argument("--grid", action="store_true", help="every combination instead of one factor at a time")
    parser.add_argument("--baseline", default="2,128,off,off,off", help="threads,batch,channels_last,compile,bf16")
    parser.add_argument(
        "--extra",
        nargs="*",
        default=["2,128,on,off,on", "2,64,on,off,on", "2,256,on,off,on", "2,128,on,on,on"],
        help="more settings (same format as --baseline) run for every architecture, e.g. the combined winners",
    )
    parser.add_argument("--teacher", default="desknet-s", help="teacher architecture for the distillation rows")
    parser.add_argument("--no-parts", action="store_true", help="skip the table of a step's parts")
    parser.add_argument("--steps", type=int, default=4, help="timed steps per setting and round")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps before each round's timed ones")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds over all settings")
    args = parser.parse_args(argv)
    baseline = parse_setting(args.baseline)
    flags = [[value == "on" for value in values] for values in (args.channels_last, args.compile, args.bf16)]
    settings = settings_to_run(args.arch, args.threads, args.batch, *flags, args.grid, baseline)
    for arch in args.arch:
        extras = [replace(parse_setting(text), architecture=arch) for text in args.extra]
        if args.teacher:
            extras += [replace(baseline, architecture=arch, teacher=args.teacher)]
        settings += [extra for extra in extras if extra not in settings]
        settings.sort(key=lambda s: args.arch.index(s.architecture))  # stable: each arch's baseline stays first
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load {load}; {len(settings)} settings\n")
    time_setting(settings[0], 1, 3)  # the process's first steps are slow whatever the setting
    timings = time_settings(settings, args.steps, args.warmup, args.rounds)
    print(markdown_table(timings))
    if not args.no_parts:
        base = baseline
        print()
        print(parts_table(args.arch, args.teacher, base.batch_size, base.threads, args.steps, args.warmup))
    return 0


if __name__ == "__main__":
    sys.exit(main())
