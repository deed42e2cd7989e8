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
    batch_size: int = 128
    learning_rate: float = 3e-3
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    balance_power: float = 0.5  # class weight ∝ frequency^-power (0 = none, 1 = fully balanced)
    mixup_alpha: float = 0.0
    erasing_probability: float = 0.3
    patience: int = 8
    seed: int = 0
    device: str = "auto"
    threads: int = 0
    max_minutes: float = 0.0  # stop (checkpointed, resumable) after this long; 0 = no limit
    teacher: str = ""  # checkpoint of a bigger model to distil from
    init: str = ""  # start from this checkpoint's weights (layers whose shapes match; e.g. FER2013 → FER+)
    distill_weight: float = 0.7
    distill_temperature: float = 4.0
    label_mode: str = "fer2013"
    class_names: list[str] = field(default_factory=list)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def augment(batch: torch.Tensor, erasing_probability: float) -> torch.Tensor:
    """Random shift/scale/rotation, horizontal flip, gamma and contrast jitter, random erasing (0–255 input)."""
    n = batch.shape[0]
    device = batch.device
    angle = (torch.rand(n, device=device) * 2 - 1) * math.radians(12)
    scale = 1 + (torch.rand(n, device=device) * 2 - 1) * 0.12
    shift = (torch.rand(n, 2, device=device) * 2 - 1) * 0.12
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
        size = 48
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
    model: EmotionNet, images: np.ndarray, device: torch.device, batch_size: int = 512, flip_tta: bool = False
) -> np.ndarray:
    """Probabilities for uint8 faces [N,48,48], optionally averaged with the mirrored face."""
    model.eval()
    previous = model.flip_tta
    model.flip_tta = flip_tta
    outputs = []
    for start in range(0, len(images), batch_size):
        batch = torch.from_numpy(images[start : start + batch_size]).float().unsqueeze(1).to(device)
        outputs.append(model.probabilities(batch).float().cpu().numpy())
    model.flip_tta = previous
    return np.concatenate(outputs) if outputs else np.zeros((0, len(model.net.state_dict())), np.float32)


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> tuple[EmotionNet, dict]:
    """Rebuild an EmotionNet from a checkpoint written by `train`."""
    state = torch.load(path, map_location=device, weights_only=False)
    config = state["config"]
    model = EmotionNet(build_model(config["architecture"], len(config["class_names"])))
    model.load_state_dict(state["model"])
    return model.to(device), state


def train(
    config: TrainConfig, train_set: FaceDataset, val_set: FaceDataset, run_dir: Path, resume: bool = True
) -> dict:
    """Train into `run_dir` (last.pt, best.pt, history.json); resumes from last.pt when present."""
    run_dir.mkdir(parents=True, exist_ok=True)
    seed_everything(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    device = pick_device(config.device)
    config.class_names = list(train_set.class_names)
    model = EmotionNet(build_model(config.architecture, len(config.class_names))).to(device)
    if config.init and not (resume and (run_dir / "last.pt").exists()):
        initial = torch.load(config.init, map_location=device, weights_only=False)["model"]
        own = model.state_dict()
        matching = {k: v for k, v in initial.items() if k in own and own[k].shape == v.shape}
        model.load_state_dict(matching, strict=False)
        print(f"initialised {len(matching)}/{len(own)} tensors from {config.init}")
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(train_set) / config.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.learning_rate, total_steps=config.epochs * steps_per_epoch, pct_start=0.15
    )
    history: list[dict] = []
    best_accuracy, start_epoch, stale_epochs = -1.0, 0, 0
    last_path, best_path = run_dir / "last.pt", run_dir / "best.pt"
    if resume and last_path.exists():
        state = torch.load(last_path, map_location=device, weights_only=False)
        if state["config"]["epochs"] != config.epochs or state["config"]["architecture"] != config.architecture:
            raise ValueError(
                f"{last_path}: started as {state['config']['architecture']} for "
                f"{state['config']['epochs']} epochs; resume with the same --arch/--epochs or use --fresh"
            )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        history, best_accuracy = state["history"], state["best_accuracy"]
        start_epoch, stale_epochs = state["epoch"] + 1, state["stale_epochs"]
        torch.set_rng_state(state["rng"])
        print(f"resuming {run_dir} at epoch {start_epoch + 1}")
    teacher = None
    if config.teacher:
        teacher, _ = load_checkpoint(Path(config.teacher), device)
        teacher.eval()
    weights = class_weights(train_set, config.balance_power).to(device)
    images = torch.from_numpy(train_set.images).float().unsqueeze(1)
    targets = torch.from_numpy(train_set.targets)
    use_amp = device.type == "cuda"
    started = time.monotonic()
    stopped_for_time = False
    for epoch in range(start_epoch, config.epochs):
        model.train()
        order = torch.randperm(len(train_set))
        total_loss, seen = 0.0, 0
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{config.epochs}", leave=False, mininterval=2)
        for step in bar:
            index = order[step * config.batch_size : (step + 1) * config.batch_size]
            batch = augment(images[index].to(device), config.erasing_probability)
            batch_targets = targets[index].to(device)
            if config.mixup_alpha > 0:
                lam = float(np.random.beta(config.mixup_alpha, config.mixup_alpha))
                perm = torch.randperm(len(index), device=device)
                batch = lam * batch + (1 - lam) * batch[perm]
                batch_targets = lam * batch_targets + (1 - lam) * batch_targets[perm]
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                logits = model(batch)
                loss = soft_cross_entropy(logits.float(), batch_targets, weights, config.label_smoothing)
                if teacher is not None:
                    with torch.no_grad():
                        teacher_logits = teacher(batch).float()
                    t = config.distill_temperature
                    distill = (
                        F.kl_div(
                            F.log_softmax(logits.float() / t, 1),
                            F.softmax(teacher_logits / t, 1),
                            reduction="batchmean",
                        )
                        * t
                        * t
                    )
                    loss = (1 - config.distill_weight) * loss + config.distill_weight * distill
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total_loss += loss.item() * len(index)
            seen += len(index)
            bar.set_postfix(loss=f"{total_loss / seen:.3f}")
        probabilities = predict_probabilities(model, val_set.images, device)
        accuracy = float((probabilities.argmax(1) == val_set.labels).mean())
        record = {
            "epoch": epoch + 1,
            "train_loss": total_loss / max(seen, 1),
            "val_accuracy": accuracy,
            "lr": scheduler.get_last_lr()[0],
            "seconds": time.monotonic() - started,
        }
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
                "scheduler": scheduler.state_dict(),
                "history": history,
                "best_accuracy": best_accuracy,
                "epoch": epoch,
                "stale_epochs": stale_epochs,
                "rng": torch.get_rng_state(),
                "config": asdict(config),
            },
            last_path,
        )
        (run_dir / "history.json").write_text(json.dumps(history, indent=1))
        print(
            f"epoch {epoch + 1}: loss {record['train_loss']:.4f}  val acc {accuracy:.4f}"
            f"{'  (best)' if improved else ''}",
            flush=True,
        )
        if stale_epochs >= config.patience:
            print(f"early stop: no improvement for {config.patience} epochs")
            break
        if config.max_minutes and (time.monotonic() - started) / 60 > config.max_minutes and epoch + 1 < config.epochs:
            print(f"time budget of {config.max_minutes} min spent; run again with the same --out to resume")
            stopped_for_time = True
            break
    return {"best_val_accuracy": best_accuracy, "epochs_run": len(history), "finished": not stopped_for_time}
