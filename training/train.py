"""Training loop: augmentation, class balancing, schedule, early stopping, checkpoint/resume, distillation."""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from training.data import FaceDataset
from training.graph import EmotionNet
from training.models import build_model


@dataclass
class TrainConfig:
    architecture: str = "desknet-s"
    epochs: int = 30
    minutes: float = 0.0  # > 0: the schedule spans this many minutes of training instead of `epochs` (GPU leases)
    batch_size: int = 128
    optimizer: str = "adamw"  # adamw | sgd (Nesterov, momentum 0.9: the big teachers)
    learning_rate: float = 3e-3
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    balance_power: float = 0.5  # class weight ∝ frequency^-power (0 = none, 1 = fully balanced)
    mixup_alpha: float = 0.0
    erasing_probability: float = 0.3
    random_crop: tuple[int, int] | None = None  # (min, max) px: a random square crop of that side, resized back
    cycles: int = 1  # > 1: the one-cycle schedule repeats; the weights at each cycle's end are snapshot-K.pt
    patience: int = 8
    seed: int = 0
    device: str = "auto"
    threads: int = 0  # 0 = on a CPU, switch between 1 thread and one per core, whichever trains faster now
    precision: str = "auto"  # auto (bf16 autocast on CUDA and on CPUs with native bf16), bf16 or fp32
    max_minutes: float = 0.0  # stop (checkpointed, resumable) after this long; 0 = no limit
    teacher: str = ""  # checkpoint(s) of bigger models to distil from, comma-separated (an ensemble)
    init: str = ""  # start from this checkpoint's weights (layers whose shapes match; e.g. FER2013 → FER+)
    teacher_labels: str = ""  # .npy of teacher probabilities [N_train,C] computed once (python -m training soft-labels)
    app_crops: str = ""  # .npz of the app's own crops of the training faces (python -m training app-crops)
    app_crop_probability: float = 0.5  # chance that a face is trained on as the app crops it (where it was found)
    distill_weight: float = 0.7
    distill_temperature: float = 4.0
    label_mode: str = "fer2013"
    class_names: list[str] = field(default_factory=list)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def native_cpu_bf16() -> bool:
    """Whether this CPU has bf16 arithmetic in hardware (AVX512-BF16 or AMX), where bf16 autocast pays off."""
    cpu = getattr(torch, "cpu", None)
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)


def use_bf16(precision: str, device: torch.device) -> bool:
    """Train under bf16 autocast? `auto`: on CUDA, and on a CPU with native bf16 (there it is about 2× faster
    than fp32 for the desknets; see docs/benchmarks.md "Training speed")."""
    if precision not in ("auto", "bf16", "fp32"):
        raise ValueError(f"precision must be auto, bf16 or fp32, not {precision!r}")
    if precision == "auto":
        return device.type == "cuda" or (device.type == "cpu" and native_cpu_bf16())
    return precision == "bf16"


class ThreadTuner:
    """Picks the faster of two CPU thread counts (half the cores or all) while training, re-measured every
    `period` steps.

    On an idle 2-core machine two threads train 1.3–1.8× faster than one; when other jobs load it (and this
    run is niced), the two threads keep waiting for each other at every operator and one thread is up to 2.7×
    faster (bench/train_speed.py, docs/benchmarks.md). So each round times `trial` steps with each count
    (the first step after a switch is not counted), then trains `period` steps with the faster one.
    """

    def __init__(self, choices: list[int], period: int = 100, trial: int = 3) -> None:
        self.choices, self.period, self.trial = choices, period, trial
        self.step = 0
        self.best = choices[-1]
        self.samples: dict[int, list[float]] = {choice: [] for choice in choices}
        self.used: dict[int, int] = {choice: 0 for choice in choices}

    def _position(self) -> int:
        return self.step % (self.period + (self.trial + 1) * len(self.choices))

    def threads(self) -> int:
        """The thread count for the next step."""
        position = self._position()
        trials = (self.trial + 1) * len(self.choices)
        return self.choices[position // (self.trial + 1)] if position < trials else self.best

    def record(self, threads: int, seconds: float) -> None:
        """The step just run with `threads` took `seconds` (per face)."""
        position = self._position()
        trials = (self.trial + 1) * len(self.choices)
        if position < trials and position % (self.trial + 1):  # a counted trial step
            self.samples[threads].append(seconds)
        if position == trials - 1:  # the round's trials are over: keep the faster count
            medians = {choice: sorted(times)[len(times) // 2] for choice, times in self.samples.items() if times}
            self.best = min(medians, key=medians.get) if medians else self.best
            self.samples = {choice: [] for choice in self.choices}
        self.used[threads] += 1
        self.step += 1


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def one_cycle_factor(progress: float, warmup: float = 0.15) -> float:
    """Learning-rate multiplier at `progress` (0–1) of the run: the one-cycle shape of torch's OneCycleLR
    (cosine warm-up from 1/25 of the peak, cosine annealing to 1/250000 of it)."""
    start, end = 1 / 25, 1 / 25 / 1e4
    progress = min(max(progress, 0.0), 1.0)
    if progress < warmup:
        return start + (1 - start) * (1 - math.cos(math.pi * progress / warmup)) / 2
    rest = (progress - warmup) / (1 - warmup)
    return end + (1 - end) * (1 + math.cos(math.pi * rest)) / 2


# Test-time views: (dx, dy) pixel shifts, each also mirrored. 10 views = Khaireddin & Chen's 10-crop at 48×48.
TTA_SHIFTS = {1: [(0, 0)], 2: [(0, 0)], 10: [(0, 0), (-2, 0), (2, 0), (0, -2), (0, 2)]}


def shifted(batch: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """The batch moved by (dx, dy) pixels, edges replicated (a 48×48 "crop" of a padded face)."""
    if dx == 0 and dy == 0:
        return batch
    pad = max(abs(dx), abs(dy))
    padded = F.pad(batch, (pad, pad, pad, pad), mode="replicate")
    height, width = batch.shape[2:]
    return padded[:, :, pad - dy : pad - dy + height, pad - dx : pad - dx + width]


def augment(
    batch: torch.Tensor, erasing_probability: float, random_crop: tuple[int, int] | None = None
) -> torch.Tensor:
    """Random shift/scale/rotation, horizontal flip, gamma and contrast jitter, random erasing (0–255 input).

    `random_crop` (min, max): instead of the ±12 % scale and shift, a random square crop with a side of min–max
    pixels (anywhere inside the face) resized back to 48×48 (Khaireddin & Chen's 40×40 crops)."""
    n = batch.shape[0]
    size = batch.shape[-1]
    device = batch.device
    angle = (torch.rand(n, device=device) * 2 - 1) * math.radians(12)
    if random_crop is None:
        scale = 1 + (torch.rand(n, device=device) * 2 - 1) * 0.12
        shift = (torch.rand(n, 2, device=device) * 2 - 1) * 0.12
    else:
        low, high = random_crop
        side = low + torch.rand(n, device=device) * (high - low)
        scale = size / side  # affine_grid: the output shows 1/scale of the input, i.e. the crop
        shift = (torch.rand(n, 2, device=device) * 2 - 1) * (1 - side / size).unsqueeze(1)  # the crop stays inside
    flip = torch.where(torch.rand(n, device=device) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos * flip, -sin, shift[:, 0]], 1), torch.stack([sin * flip, cos, shift[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta, list(batch.shape), align_corners=False)
    out = F.grid_sample(batch, grid, mode="bilinear", padding_mode="border", align_corners=False)
    gamma = torch.exp((torch.rand(n, 1, 1, 1, device=device) * 2 - 1) * 0.4)
    out = 255.0 * (out / 255.0).clamp(0, 1) ** gamma
    contrast = 1 + (torch.rand(n, 1, 1, 1, device=device) * 2 - 1) * 0.3
    mean = out.mean(dim=(2, 3), keepdim=True)
    out = ((out - mean) * contrast + mean).clamp(0, 255)
    erase = torch.rand(n, device=device) < erasing_probability
    if erase.any():
        h = torch.randint(8, 20, (n,), device=device)
        w = torch.randint(8, 20, (n,), device=device)
        y0 = (torch.rand(n, device=device) * (size - h)).long()
        x0 = (torch.rand(n, device=device) * (size - w)).long()
        rows = torch.arange(size, device=device).view(1, size, 1)
        cols = torch.arange(size, device=device).view(1, 1, size)
        box = (
            (rows >= y0.view(-1, 1, 1))
            & (rows < (y0 + h).view(-1, 1, 1))
            & (cols >= x0.view(-1, 1, 1))
            & (cols < (x0 + w).view(-1, 1, 1))
            & erase.view(-1, 1, 1)
        )
        noise = torch.rand_like(out) * 255
        out = torch.where(box.unsqueeze(1), noise, out)
    return out


def class_weights(dataset: FaceDataset, power: float) -> torch.Tensor:
    counts = dataset.targets.sum(axis=0) + 1.0
    weights = (counts / counts.sum()) ** (-power)
    return torch.tensor(weights / (weights * counts / counts.sum()).sum(), dtype=torch.float32)


def soft_cross_entropy(
    logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor, smoothing: float
) -> torch.Tensor:
    classes = logits.shape[1]
    targets = targets * (1 - smoothing) + smoothing / classes
    per_sample = -(targets * F.log_softmax(logits, dim=1) * weights).sum(dim=1)
    return per_sample.mean()


@torch.no_grad()
def predict_probabilities(
    model: EmotionNet | list[EmotionNet],
    images: np.ndarray,
    device: torch.device,
    batch_size: int = 512,
    flip_tta: bool = False,
    views: int = 1,
) -> np.ndarray:
    """Probabilities for uint8 faces [N,48,48], averaged over `views` (1, 2 = + mirror, 10 = 5 shifts × mirror)
    and over the models when given an ensemble."""
    models = model if isinstance(model, list) else [model]
    views = 2 if flip_tta and views == 1 else views
    if views not in TTA_SHIFTS:
        raise ValueError(f"views must be one of {sorted(TTA_SHIFTS)}, not {views}")
    for member in models:
        member.eval()
    outputs = []
    for start in range(0, len(images), batch_size):
        batch = torch.from_numpy(images[start : start + batch_size]).to(device).float().unsqueeze(1)
        total = 0
        for member in models:
            for dx, dy in TTA_SHIFTS[views]:
                view = shifted(batch, dx, dy)
                total = total + torch.softmax(member(view).float(), dim=1)
                if views > 1:
                    total = total + torch.softmax(member(torch.flip(view, dims=[3])).float(), dim=1)
        outputs.append((total / (len(models) * views)).cpu().numpy())
    if not outputs:
        return np.zeros((0, 0), np.float32)
    return np.concatenate(outputs)


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> tuple[EmotionNet, dict]:
    """Rebuild an EmotionNet from a checkpoint written by `train`."""
    state = torch.load(path, map_location=device, weights_only=False)
    config = state["config"]
    model = EmotionNet(build_model(config["architecture"], len(config["class_names"])))
    model.load_state_dict(state["model"])
    return model.to(device), state


def load_teachers(paths: str, device: torch.device) -> list[EmotionNet]:
    """The frozen teacher ensemble named by a comma-separated list of checkpoints."""
    teachers = []
    for path in filter(None, (p.strip() for p in paths.split(","))):
        teacher, _ = load_checkpoint(Path(path), device)
        teacher = teacher.to(memory_format=torch.channels_last)  # faster on CUDA and on CPU alike
        teachers.append(teacher.eval().requires_grad_(False))
    return teachers


def distillation_loss(logits: torch.Tensor, teacher_probabilities: torch.Tensor, temperature: float) -> torch.Tensor:
    """Hinton's KL term between softened student and (ensemble-averaged) teacher outputs, scaled by T²."""
    log_student = F.log_softmax(logits.float() / temperature, 1)
    return F.kl_div(log_student, teacher_probabilities, reduction="batchmean") * temperature * temperature


def make_optimizer(config: TrainConfig, model: torch.nn.Module, device: torch.device) -> torch.optim.Optimizer:
    fused = {"fused": True} if device.type == "cuda" else {}
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            model.parameters(),
            lr=config.learning_rate,
            momentum=0.9,
            nesterov=True,
            weight_decay=config.weight_decay,
            **fused,
        )
    if config.optimizer == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay, **fused)
    raise ValueError(f"optimizer must be adamw or sgd, not {config.optimizer!r}")


def train_step(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    faces: torch.Tensor,
    targets: torch.Tensor,
    weights: torch.Tensor,
    config: TrainConfig,
    teachers: list[EmotionNet],
    device: torch.device,
    channels_last: bool = False,
    bf16: bool = False,
    teacher_probabilities: torch.Tensor | None = None,
) -> torch.Tensor:
    """One optimisation step on a batch of uint8 faces [B,1,48,48] (any device): augmentation, mixup, forward
    (under bf16 autocast if `bf16`), loss (+ distillation from `teachers`, or from `teacher_probabilities`
    [B,C] computed once beforehand), backward, update. Returns the detached loss. `train` and
    bench/train_speed.py both run it."""
    batch = augment(faces.to(device).float(), config.erasing_probability, config.random_crop)
    batch_targets = targets.to(device)
    fixed_teacher = None
    if teacher_probabilities is not None:  # soften at T: p^(1/T), renormalised (= softmax(logits / T))
        powered = teacher_probabilities.to(device).float().clamp_min(1e-8) ** (1 / config.distill_temperature)
        fixed_teacher = powered / powered.sum(1, keepdim=True)
    if config.mixup_alpha > 0:
        lam = float(np.random.beta(config.mixup_alpha, config.mixup_alpha))
        perm = torch.randperm(len(batch), device=device)
        batch = lam * batch + (1 - lam) * batch[perm]
        batch_targets = lam * batch_targets + (1 - lam) * batch_targets[perm]
        if fixed_teacher is not None:
            fixed_teacher = lam * fixed_teacher + (1 - lam) * fixed_teacher[perm]
    if channels_last:
        batch = batch.contiguous(memory_format=torch.channels_last)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        logits = model(batch)
        loss = soft_cross_entropy(logits.float(), batch_targets, weights, config.label_smoothing)
        if teachers:
            t = config.distill_temperature
            with torch.no_grad():
                soft = sum(torch.softmax(teacher(batch).float() / t, 1) for teacher in teachers)
            distill = distillation_loss(logits, soft / len(teachers), t)
            loss = (1 - config.distill_weight) * loss + config.distill_weight * distill
        elif fixed_teacher is not None:
            distill = distillation_loss(logits, fixed_teacher, config.distill_temperature)
            loss = (1 - config.distill_weight) * loss + config.distill_weight * distill
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach()


def save_snapshot(model: torch.nn.Module, config: TrainConfig, epoch: int, path: Path) -> None:
    """The weights at the end of one cycle of a cyclic run (loadable like best.pt: export, --teacher)."""
    torch.save({"model": model.state_dict(), "config": asdict(config), "epoch": epoch}, path)
    print(f"snapshot {path.name} (epoch {epoch + 1})", flush=True)


def train(
    config: TrainConfig, train_set: FaceDataset, val_set: FaceDataset, run_dir: Path, resume: bool = True
) -> dict:
    """Train into `run_dir` (last.pt, best.pt, history.json); resumes from last.pt when present.

    The one-cycle schedule spans `config.epochs`, or `config.minutes` of training when that is set (so a run
    fits a GPU lease whatever the machine's speed). On CUDA the faces stay on the GPU, which also augments
    them. The model runs channels-last, under bf16 autocast on CUDA and on CPUs with native bf16
    (`config.precision` overrides).
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    seed_everything(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    device = pick_device(config.device)
    cores = torch.get_num_threads()
    tuner = ThreadTuner([cores // 2, cores]) if device.type == "cpu" and not config.threads and cores > 1 else None
    on_gpu = device.type == "cuda"
    if on_gpu:
        torch.backends.cudnn.benchmark = True
    config.class_names = list(train_set.class_names)
    # channels-last and bf16 autocast: on a GPU as before; on a 2-core CPU channels-last is 1.2–1.7× faster and,
    # where the CPU has native bf16, autocast 2× more (bench/train_speed.py, docs/benchmarks.md "Training speed")
    channels_last, bf16 = True, use_bf16(config.precision, device)
    model = EmotionNet(build_model(config.architecture, len(config.class_names))).to(device)
    model = model.to(memory_format=torch.channels_last)
    print(f"training on {device}: channels-last, {'bf16 autocast' if bf16 else 'fp32'}")
    if config.init and not (resume and (run_dir / "last.pt").exists()):
        initial = torch.load(config.init, map_location=device, weights_only=False)["model"]
        own = model.state_dict()
        matching = {k: v for k, v in initial.items() if k in own and own[k].shape == v.shape}
        model.load_state_dict(matching, strict=False)
        print(f"initialised {len(matching)}/{len(own)} tensors from {config.init}")
    optimizer = make_optimizer(config, model, device)
    steps_per_epoch = math.ceil(len(train_set) / config.batch_size)
    total_steps = config.epochs * steps_per_epoch
    budget_seconds = config.minutes * 60
    history: list[dict] = []
    best_accuracy, start_epoch, stale_epochs, step, trained_seconds = -1.0, 0, 0, 0, 0.0
    cpu_seconds = 0.0  # CPU time of this process (all its threads) spent training, over every session
    last_path, best_path = run_dir / "last.pt", run_dir / "best.pt"
    if resume and last_path.exists():
        state = torch.load(last_path, map_location=device, weights_only=False)
        previous = state["config"]
        same = all(previous.get(key) == getattr(config, key) for key in ("architecture", "epochs", "minutes"))
        if not same:
            raise ValueError(
                f"{last_path}: started as {previous['architecture']} for {previous['epochs']} epochs / "
                f"{previous.get('minutes', 0)} minutes; resume with the same --arch/--epochs/--minutes or use --fresh"
            )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        history, best_accuracy = state["history"], state["best_accuracy"]
        start_epoch, stale_epochs = state["epoch"] + 1, state["stale_epochs"]
        step, trained_seconds = state.get("step", start_epoch * steps_per_epoch), state.get("trained_seconds", 0.0)
        cpu_seconds = state.get("cpu_seconds", 0.0)
        torch.set_rng_state(state["rng"])
        print(f"resuming {run_dir} at epoch {start_epoch + 1}")

    def progress() -> float:
        if budget_seconds > 0:
            return (trained_seconds + time.monotonic() - session_start) / budget_seconds
        return step / max(total_steps, 1)

    teachers = load_teachers(config.teacher, device) if config.teacher else []
    weights = class_weights(train_set, config.balance_power).to(device)
    images = torch.from_numpy(train_set.images).unsqueeze(1)  # uint8; on the GPU when there is one
    targets = torch.from_numpy(train_set.targets)
    fixed_teacher = None
    if config.teacher_labels:
        fixed_teacher = torch.from_numpy(np.load(config.teacher_labels).astype(np.float32))
        if fixed_teacher.shape != targets.shape:
            raise ValueError(
                f"{config.teacher_labels}: shape {tuple(fixed_teacher.shape)}, targets {tuple(targets.shape)}"
            )
    app_images = app_found = None
    if config.app_crops:
        from training.app_crops import load_app_crops

        crops, found = load_app_crops(Path(config.app_crops), len(train_set))
        app_images, app_found = torch.from_numpy(crops).unsqueeze(2), torch.from_numpy(found)  # [F,N,1,48,48]
        print(f"app crops: {crops.shape[0]} frame(s), found {found.mean():.1%}, p={config.app_crop_probability}")
    if on_gpu:
        images, targets = images.to(device), targets.to(device)
    started = time.monotonic()
    session_start = started
    cpu_start = time.process_time()
    stopped_for_time = False
    epoch = start_epoch
    snapshots = len(list(run_dir.glob("snapshot-*.pt")))  # cyclic runs: the cycles already done
    saved_seconds = trained_seconds  # training time in last.pt: what a resumed run starts from

    def more_to_train() -> bool:
        """Judged on the checkpointed time, so a run and its resumption agree on whether another epoch is due."""
        return saved_seconds < budget_seconds if budget_seconds > 0 else epoch < config.epochs

    while more_to_train():
        model.train()
        order = torch.randperm(len(train_set), device=images.device)
        total_loss = torch.zeros((), device=device)
        seen = 0
        planned = f"{config.epochs}" if budget_seconds <= 0 else f"{config.minutes:g} min"
        description = f"epoch {epoch + 1}/{planned}"
        bar = tqdm(range(steps_per_epoch), desc=description, leave=False, mininterval=2, disable=None)
        for batch_index in bar:
            done = progress()
            if budget_seconds > 0 and done >= 1 and batch_index > 0:
                break  # the time budget is spent: end the epoch here and evaluate
            if config.cycles > 1 and min(int(done * config.cycles), config.cycles) > snapshots:
                snapshots += 1  # a cycle has just ended (learning rate near zero): keep its weights
                save_snapshot(model, config, epoch, run_dir / f"snapshot-{snapshots}.pt")
            factor = one_cycle_factor((done * config.cycles) % 1 if done < 1 else 1.0)
            for group in optimizer.param_groups:
                group["lr"] = config.learning_rate * factor
            index = order[batch_index * config.batch_size : (batch_index + 1) * config.batch_size]
            if tuner:
                threads = tuner.threads()
                torch.set_num_threads(threads)
                step_start = time.perf_counter()
            faces = images[index]
            if app_images is not None:  # some faces as the app crops them (detect → crop), where it found them
                frame = torch.randint(0, app_images.shape[0], (len(index),))
                index_cpu = index.cpu()
                use = (torch.rand(len(index)) < config.app_crop_probability) & app_found[frame, index_cpu]
                faces = torch.where(
                    use.view(-1, 1, 1, 1).to(faces.device), app_images[frame, index_cpu].to(faces.device), faces
                )
            loss = train_step(
                model,
                optimizer,
                faces,
                targets[index],
                weights,
                config,
                teachers,
                device,
                channels_last,
                bf16,
                fixed_teacher[index.cpu()] if fixed_teacher is not None else None,
            )
            if tuner:
                tuner.record(threads, (time.perf_counter() - step_start) / len(index))  # the last batch is short
            step += 1
            total_loss += loss.detach() * len(index)
            seen += len(index)
            if batch_index % 50 == 0:
                bar.set_postfix(loss=f"{total_loss.item() / seen:.3f}")
        if tuner:
            torch.set_num_threads(tuner.best)
        probabilities = predict_probabilities(model, val_set.images, device)
        accuracy = float((probabilities.argmax(1) == val_set.labels).mean())
        record = {
            "epoch": epoch + 1,
            "train_loss": total_loss.item() / max(seen, 1),
            "val_accuracy": accuracy,
            "lr": optimizer.param_groups[0]["lr"],
            "seconds": trained_seconds + time.monotonic() - session_start,
            "cpu_seconds": cpu_seconds + time.process_time() - cpu_start,
        }
        if tuner:
            record["thread_steps"] = {str(count): used for count, used in tuner.used.items()}  # steps per count
            tuner.used = dict.fromkeys(tuner.used, 0)
        history.append(record)
        improved = accuracy > best_accuracy
        if improved:
            best_accuracy, stale_epochs = accuracy, 0
            torch.save(
                {"model": model.state_dict(), "config": asdict(config), "epoch": epoch, "val_accuracy": accuracy},
                best_path,
            )
        else:
            stale_epochs += 1
        torch.save(
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "history": history,
                "best_accuracy": best_accuracy,
                "epoch": epoch,
                "step": step,
                "trained_seconds": record["seconds"],
                "cpu_seconds": record["cpu_seconds"],
                "stale_epochs": stale_epochs,
                "rng": torch.get_rng_state(),
                "config": asdict(config),
            },
            last_path,
        )
        (run_dir / "history.json").write_text(json.dumps(history, indent=1))
        saved_seconds = record["seconds"]
        print(
            f"epoch {epoch + 1}: loss {record['train_loss']:.4f}  val acc {accuracy:.4f}"
            f"{'  (best)' if improved else ''}  [{record['seconds'] / 60:.1f} min]"
            f"{'  threads ' + str(record['thread_steps']) if tuner else ''}",
            flush=True,
        )
        epoch += 1
        if config.patience and stale_epochs >= config.patience:
            print(f"early stop: no improvement for {config.patience} epochs")
            break
        out_of_time = config.max_minutes and (time.monotonic() - started) / 60 > config.max_minutes
        unfinished = more_to_train()
        if out_of_time and unfinished:
            print(f"time budget of {config.max_minutes} min spent; run again with the same --out to resume")
            stopped_for_time = True
            break
    if config.cycles > 1 and not stopped_for_time and snapshots < config.cycles:  # the last cycle ends the run
        save_snapshot(model, config, epoch - 1, run_dir / f"snapshot-{snapshots + 1}.pt")
    if tuner:
        torch.set_num_threads(cores)  # as it found them, for whatever runs next in this process
    return {"best_val_accuracy": best_accuracy, "epochs_run": len(history), "finished": not stopped_for_time}
