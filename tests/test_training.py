"""The whole training path on a tiny generated dataset: load → train → evaluate → export → parity → contract."""

import csv
import json
import lzma

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from emotiondesk.stages.classification import EmotionClassifier  # noqa: E402
from training.__main__ import main as training_main  # noqa: E402
from training.data import FER2013_LABELS, FERPLUS_LABELS, FERPLUS_VOTE_COLUMNS, load_dataset  # noqa: E402


def write_tiny_fer2013(folder, rows_per_split=(70, 21)):
    """A learnable toy FER2013: class k has a bright bar at row 6k (plus noise), FER+ votes agree."""
    rng = np.random.default_rng(0)
    csv_path = folder / "fer2013.csv.xz"
    votes_path = folder / "fer2013new.csv"
    with lzma.open(csv_path, "wt", newline="") as handle, open(votes_path, "w", newline="") as votes_handle:
        writer = csv.writer(handle)
        votes = csv.writer(votes_handle)
        writer.writerow(["emotion", "pixels", "Usage"])
        votes.writerow(["Usage", "Image name", *FERPLUS_VOTE_COLUMNS])
        order = [4, 5, 6, 3, 1, 2, 0]  # FER2013 index → FER+ vote column
        for usage, count in zip(("Training", "PublicTest"), rows_per_split):
            for row in range(count):
                label = row % 7
                image = rng.integers(0, 60, (48, 48))
                image[label * 6 : label * 6 + 5] = 230
                writer.writerow([label, " ".join(map(str, image.flatten())), usage])
                vote = [0] * 10
                vote[order[label]] = 8
                vote[0] += 2
                votes.writerow([usage, f"fer{row:07d}.png", *vote])
    return csv_path, votes_path


def test_data_loading_modes(tmp_path):
    csv_path, votes_path = write_tiny_fer2013(tmp_path)
    train = load_dataset(csv_path, "Training", "fer2013", cache_dir=tmp_path / "cache")
    assert train.images.shape == (70, 48, 48) and train.class_names == FER2013_LABELS
    cached = load_dataset(csv_path, "Training", "fer2013", cache_dir=tmp_path / "cache")
    assert np.array_equal(cached.images, train.images)
    soft = load_dataset(csv_path, "Training", "ferplus-soft", ferplus=votes_path)
    assert soft.class_names == FERPLUS_LABELS and soft.targets.shape == (70, 8)
    np.testing.assert_allclose(soft.targets.sum(axis=1), 1, atol=1e-6)
    assert sorted(set(np.round(soft.targets[:, 0], 3))) == [0.2, 1.0]  # 2 of 10 votes neutral, or all 10


def test_train_evaluate_export_parity_contract(tmp_path):
    csv_path, _ = write_tiny_fer2013(tmp_path)
    run = tmp_path / "run"
    common = ["--data", str(csv_path), "--cache", str(tmp_path / "cache")]
    arguments = [
        "train",
        *common,
        "--out",
        str(run),
        "--arch",
        "tiny",
        "--epochs",
        "3",
        "--batch-size",
        "16",
        "--lr",
        "0.01",
        "--threads",
        "1",
    ]
    # a time budget stops after the first epoch (checkpointed), as on a GPU box with a 10-minute limit ...
    assert training_main([*arguments, "--max-minutes", "0.000001"]) == 0
    assert [h["epoch"] for h in json.loads((run / "history.json").read_text())] == [1]
    assert not (run / "report.json").exists()
    # ... and the same command resumes from last.pt instead of starting over, then evaluates
    assert training_main(arguments) == 0
    history = json.loads((run / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2, 3]
    report = json.loads((run / "report.json").read_text())
    assert set(report["per_class"]) == set(FER2013_LABELS) and 0 <= report["macro_f1"] <= 1
    assert (run / "confusion.png").stat().st_size > 1000 and (run / "curves.png").exists()
    assert training_main([*arguments[:-2], "--epochs", "5"]) == 2  # a changed schedule is refused clearly
    model_path = tmp_path / "exported.onnx"
    assert training_main(["export", str(run / "best.pt"), str(model_path), "--version", "9.9"]) == 0
    classifier = EmotionClassifier(model_path)
    assert classifier.labels == tuple(FER2013_LABELS)
    assert training_main(["card", str(run), str(model_path), "--command", "python -m training train ..."]) == 0
    card = model_path.with_suffix(".md").read_text()
    assert "| happy |" in card and "python -m training train ..." in card
    assert (tmp_path / "exported_confusion.png").exists()
    assert classifier.metadata["version"] == "9.9" and "validation_accuracy" in classifier.metadata
    probabilities = classifier.classify(np.random.default_rng(1).uniform(0, 255, (3, 1, 48, 48)).astype(np.float32))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    # an ensemble graph gets its card from the ONNX file itself, scored by onnxruntime on the validation faces
    pair = tmp_path / "pair.onnx"
    assert training_main(["export", f"{run / 'best.pt'},{run / 'best.pt'}", str(pair), "--tta"]) == 0
    assert training_main(["graph-card", *common, str(pair), "--command", "make pair", "--passes", "4"]) == 0
    pair_card = pair.with_suffix(".md").read_text()
    val = load_dataset(csv_path, "PublicTest", "fer2013", cache_dir=tmp_path / "cache")
    expected = (EmotionClassifier(pair).classify(val.images[:, None].astype(np.float32)).argmax(1) == val.labels).mean()
    assert f"accuracy {expected:.4f}" in pair_card and "4 forward passes" in pair_card and "make pair" in pair_card
    assert "ensemble of 2" in pair_card and (tmp_path / "pair_confusion.png").stat().st_size > 1000
    # each member over its own views: model A on its centre 44-px crop (resized back) and that crop's mirror
    views = tmp_path / "views.onnx"
    both = f"{run / 'best.pt'},{run / 'best.pt'}"
    assert training_main(["export", both, str(views), "--member-views", "crop44,crop44-mirror;face"]) == 0
    crops = np.stack([cv2.resize(face[2:46, 2:46], (48, 48), interpolation=cv2.INTER_LINEAR) for face in val.images])
    single = EmotionClassifier(model_path)
    expected = (
        single.classify(crops[:, None].astype(np.float32))
        + single.classify(crops[:, None, :, ::-1].astype(np.float32).copy())
        + single.classify(val.images[:, None].astype(np.float32))
    ) / 3
    np.testing.assert_allclose(
        EmotionClassifier(views).classify(val.images[:, None].astype(np.float32)), expected, atol=2e-3
    )
    assert EmotionClassifier(views).metadata["test_time_views"] == "crop44,crop44-mirror; face"
    assert training_main(["export", both, str(tmp_path / "bad.onnx"), "--member-views", "zoom;face"]) == 2
    from training.compare import compare_architectures, compare_runs

    table = compare_runs([run]).splitlines()
    assert len(table) == 3 and table[2].startswith(f"| {run.name} | tiny |")
    assert compare_architectures(["tiny"]).splitlines()[2].startswith("| tiny | ")


def test_ferplus_fine_tune_from_fer2013_weights(tmp_path):
    csv_path, votes_path = write_tiny_fer2013(tmp_path)
    common = [
        "--data",
        str(csv_path),
        "--ferplus",
        str(votes_path),
        "--cache",
        str(tmp_path / "cache"),
        "--arch",
        "tiny",
        "--batch-size",
        "16",
        "--threads",
        "1",
        "--epochs",
        "1",
    ]
    assert training_main(["train", *common, "--out", str(tmp_path / "fer"), "--no-evaluate"]) == 0
    assert (
        training_main(
            [
                "train",
                *common,
                "--labels",
                "ferplus-soft",
                "--out",
                str(tmp_path / "ferplus"),
                "--init",
                str(tmp_path / "fer" / "best.pt"),
            ]
        )
        == 0
    )
    model_path = tmp_path / "ferplus.onnx"
    assert training_main(["export", str(tmp_path / "ferplus" / "best.pt"), str(model_path)]) == 0
    classifier = EmotionClassifier(model_path)
    assert classifier.labels == tuple(FERPLUS_LABELS)
    assert "FER+ majority" in classifier.metadata["validation_split"]


def test_image_folder_layout(tmp_path):
    import cv2

    for split in ("train", "test"):
        for label in ("happy", "sad"):
            folder = tmp_path / split / label
            folder.mkdir(parents=True)
            for k in range(3):
                cv2.imwrite(str(folder / f"{k}.png"), np.full((48, 48), 40 * k, np.uint8))
    dataset = load_dataset(tmp_path, "train")
    assert dataset.class_names == ["happy", "sad"] and len(dataset) == 6


def test_cpu_precision_choice():
    from training.train import native_cpu_bf16, use_bf16

    cpu = torch.device("cpu")
    assert use_bf16("fp32", cpu) is False and use_bf16("bf16", cpu) is True
    assert use_bf16("auto", cpu) is native_cpu_bf16()  # bf16 on a CPU only where it has bf16 in hardware
    assert use_bf16("auto", torch.device("cuda")) is True  # the GPU route is unchanged
    with pytest.raises(ValueError):
        use_bf16("fp16", cpu)


def test_thread_tuner_follows_the_faster_count():
    from training.train import ThreadTuner

    tuner = ThreadTuner([1, 2], period=5, trial=2)
    speed = {1: 3.0, 2: 1.0}  # seconds per step: two threads faster (an idle machine)
    used = []
    for _ in range(2 * (5 + 6)):
        threads = tuner.threads()
        used.append(threads)
        tuner.record(threads, speed[threads])
    assert used[:6] == [1, 1, 1, 2, 2, 2] and used[6:11] == [2] * 5  # trials (first of each uncounted), then 2
    speed = {1: 1.0, 2: 2.7}  # other jobs load the machine: one thread is faster
    for _ in range(11):
        threads = tuner.threads()
        used.append(threads)
        tuner.record(threads, speed[threads])
    assert tuner.best == 1 and used[-5:] == [1] * 5 and sum(tuner.used.values()) == 33


@pytest.mark.parametrize("channels_last, bf16", [(False, False), (True, True)])
def test_train_step_layouts_and_precisions(channels_last, bf16):
    from training.graph import EmotionNet
    from training.models import build_model
    from training.train import TrainConfig, make_optimizer, train_step

    torch.manual_seed(0)
    config = TrainConfig(architecture="tiny", batch_size=8)
    model = EmotionNet(build_model("tiny", 7))
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    teacher = EmotionNet(build_model("tiny", 7)).eval().requires_grad_(False)
    optimizer = make_optimizer(config, model, torch.device("cpu"))
    before = [p.detach().clone() for p in model.parameters()]
    faces = torch.randint(0, 256, (8, 1, 48, 48), dtype=torch.uint8)
    targets = torch.nn.functional.one_hot(torch.arange(8) % 7, 7).float()
    loss = train_step(
        model, optimizer, faces, targets, torch.ones(7), config, [teacher], torch.device("cpu"), channels_last, bf16
    )
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    assert all(p.dtype == torch.float32 for p in model.parameters())  # autocast leaves the weights fp32
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_train_speed_bench_tiny(monkeypatch):
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "bench" / "train_speed.py"
    spec = importlib.util.spec_from_file_location("train_speed", path)
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "train_speed", bench)  # its dataclasses look their module up
    spec.loader.exec_module(bench)
    settings = bench.settings_to_run(
        ["tiny"], [1], [8, 16], [False, True], [False], [False, True], grid=False, baseline=bench.Setting("", 1, 8)
    )
    assert len(settings) == 4 and settings[0] == bench.Setting("tiny", 1, 8)  # baseline + 3 single changes
    assert len(bench.settings_to_run(["tiny"], [1], [8, 16], [False, True], [False], [False], grid=True)) == 4
    timings = bench.time_settings([*settings, bench.Setting("tiny", 1, 8, teacher="tiny")], steps=1, warmup=0)
    table = bench.markdown_table(timings).splitlines()
    assert len(table) == 2 + 5 and table[2].startswith("| tiny | 1 | 8 | off | off | off | - |")
    assert table[2].endswith("| ×1.00 |") and all(t.faces_per_second > 0 for t in timings)
    parts = bench.parts_table(["tiny"], "tiny", 8, 1, steps=1, warmup=0)
    assert "augment()" in parts and "teacher forward (tiny" in parts


def test_cpu_training_without_threads_tunes_them(tmp_path):
    csv_path, _ = write_tiny_fer2013(tmp_path)
    threads = torch.get_num_threads()
    arguments = ["train", "--data", str(csv_path), "--cache", str(tmp_path / "cache"), "--arch", "tiny"]
    arguments += ["--epochs", "1", "--batch-size", "8", "--device", "cpu", "--no-evaluate"]
    arguments += ["--out", str(tmp_path / "r")]
    assert training_main(arguments) == 0
    history = json.loads((tmp_path / "r" / "history.json").read_text())
    if threads > 1:  # 70 faces = 9 steps, all counted against the thread counts tried
        assert sum(history[0]["thread_steps"].values()) == 9
    assert torch.get_num_threads() == threads


def tiny_run(tmp_path, name="fer", extra=()):
    csv_path, votes_path = write_tiny_fer2013(tmp_path)
    common = ["--data", str(csv_path), "--ferplus", str(votes_path), "--cache", str(tmp_path / "cache")]
    arguments = ["train", *common, "--arch", "tiny", "--batch-size", "16", "--threads", "1", "--epochs", "1"]
    assert training_main([*arguments, "--out", str(tmp_path / name), "--no-evaluate", *extra]) == 0
    return common, tmp_path / name / "best.pt"


def test_rebuild_from_onnx_equals_the_export_and_fine_tunes(tmp_path):
    from training.train import load_checkpoint, predict_probabilities

    common, checkpoint = tiny_run(tmp_path)
    model_path = tmp_path / "shipped.onnx"
    assert training_main(["export", str(checkpoint), str(model_path)]) == 0
    rebuilt = tmp_path / "rebuilt.pt"
    assert training_main(["rebuild", *common, str(model_path), str(rebuilt), "--faces", "50"]) == 0
    model, state = load_checkpoint(rebuilt)
    assert state["config"]["architecture"] == "tiny" and state["config"]["class_names"] == FER2013_LABELS
    faces = np.random.default_rng(2).integers(0, 256, (12, 48, 48)).astype(np.uint8)
    expected = EmotionClassifier(model_path).classify(faces[:, None].astype(np.float32))
    np.testing.assert_allclose(predict_probabilities(model, faces, torch.device("cpu")), expected, atol=1e-4)
    # BatchNorm holds real statistics: in training mode (batch statistics) the function stays close
    model.train()
    with torch.no_grad():
        trained_mode = torch.softmax(model(torch.from_numpy(faces).float().unsqueeze(1)), 1).numpy()
    assert np.abs(trained_mode - expected).max() < 0.5
    arguments = ["train", *common, "--arch", "tiny", "--batch-size", "16", "--threads", "1", "--epochs", "1"]
    assert training_main([*arguments, "--out", str(tmp_path / "ft"), "--init", str(rebuilt), "--no-evaluate"]) == 0


def test_fer2013_labels_with_ferplus_soft_targets(tmp_path):
    from training.data import FERPLUS_TARGET_WEIGHT

    csv_path, votes_path = write_tiny_fer2013(tmp_path)
    plain = load_dataset(csv_path, "Training", "fer2013", ferplus=votes_path)
    mixed = load_dataset(csv_path, "Training", "fer2013+ferplus", ferplus=votes_path)
    assert mixed.class_names == FER2013_LABELS and np.array_equal(mixed.labels, plain.labels)
    np.testing.assert_allclose(mixed.targets.sum(axis=1), 1, atol=1e-6)
    # the toy votes: 8 for the face's own emotion, 2 neutral → FER+ part 0.8 / 0.2 (neutral faces: all 10)
    neutral = FER2013_LABELS.index("neutral")
    row = np.flatnonzero(plain.labels == FER2013_LABELS.index("surprise"))[0]
    assert mixed.targets[row, plain.labels[row]] == pytest.approx(
        1 - FERPLUS_TARGET_WEIGHT + FERPLUS_TARGET_WEIGHT * 0.8
    )
    assert mixed.targets[row, neutral] == pytest.approx(FERPLUS_TARGET_WEIGHT * 0.2)
    validation = load_dataset(csv_path, "PublicTest", "fer2013+ferplus", ferplus=votes_path)
    assert np.array_equal(validation.labels, load_dataset(csv_path, "PublicTest", "fer2013").labels)


def test_soft_labels_app_crops_and_cpu_time_in_training(tmp_path):
    common, teacher = tiny_run(tmp_path, "teacher")
    labels_path = tmp_path / "soft.npy"
    assert (
        training_main(["soft-labels", *common, "--teacher", f"{teacher},{teacher}", "--views", "2", str(labels_path)])
        == 0
    )
    soft = np.load(labels_path)
    assert soft.shape == (70, 7) and soft.dtype == np.float16
    np.testing.assert_allclose(soft.astype(np.float32).sum(axis=1), 1, atol=1e-2)
    faces = load_dataset(common[1], "Training", "fer2013", cache_dir=tmp_path / "cache").images
    crops_path = tmp_path / "crops.npz"
    found = np.arange(70) % 2 == 0
    np.savez(crops_path, tight=np.roll(faces, 2, axis=1), tight_found=found, webcam=faces, webcam_found=~found)
    _, student = tiny_run(
        tmp_path,
        "student",
        ["--teacher-labels", str(labels_path), "--app-crops", str(crops_path), "--app-crop-probability", "0.7"],
    )
    history = json.loads((student.parent / "history.json").read_text())
    assert history[-1]["cpu_seconds"] > 0
    from training.app_crops import load_app_crops

    crops, flags = load_app_crops(crops_path, 70)
    assert crops.shape == (2, 70, 48, 48) and flags.shape == (2, 70)
    with pytest.raises(ValueError, match="crops for 70 faces"):
        load_app_crops(crops_path, 69)


def test_app_crop_frames():
    from training.app_crops import WEBCAM_SIZE, framed

    face = np.random.default_rng(0).integers(0, 256, (48, 48)).astype(np.uint8)
    tight, (x, y) = framed(face, "tight", np.random.default_rng(0))
    assert tight.shape == (384, 384) and (x, y) == (96, 96)
    webcam, (x, y) = framed(face, "webcam", np.random.default_rng(0))
    assert webcam.shape == (WEBCAM_SIZE[1], WEBCAM_SIZE[0])
    np.testing.assert_array_equal(webcam[y : y + 192, x : x + 192], tight[96:288, 96:288])
    with pytest.raises(ValueError):
        framed(face, "studio", np.random.default_rng(0))


def test_ensemble_with_views_exports_to_the_contract(tmp_path):
    from training.train import TTA_SHIFTS, load_checkpoint, predict_probabilities

    _, first = tiny_run(tmp_path, "a")
    _, second = tiny_run(tmp_path, "b", ["--seed", "3"])
    model_path = tmp_path / "ensemble.onnx"
    arguments = ["export", f"{first},{second}", str(model_path), "--tta", "--validation-accuracy", "0.5"]
    assert training_main(arguments) == 0
    classifier = EmotionClassifier(model_path)
    assert classifier.labels == tuple(FER2013_LABELS) and classifier.metadata["flip_tta"] == "true"
    assert classifier.metadata["architecture"].startswith("ensemble of 2")
    faces = np.random.default_rng(4).integers(0, 256, (5, 48, 48)).astype(np.uint8)
    members = [load_checkpoint(path)[0] for path in (first, second)]
    expected = predict_probabilities(members, faces, torch.device("cpu"), flip_tta=True)
    np.testing.assert_allclose(classifier.classify(faces[:, None].astype(np.float32)), expected, atol=1e-5)
    # one model over 3 views (itself + 2 shifts), no mirror: the mean of the three
    shifted_path = tmp_path / "views.onnx"
    assert training_main(["export", str(first), str(shifted_path), "--shift-views", "2"]) == 0
    from training.train import shifted

    batch = torch.from_numpy(faces).float().unsqueeze(1)
    with torch.no_grad():
        views = [torch.softmax(members[0](shifted(batch, dx, dy)), 1) for dx, dy in TTA_SHIFTS[10][:3]]
    np.testing.assert_allclose(
        EmotionClassifier(shifted_path).classify(faces[:, None].astype(np.float32)),
        (sum(views) / 3).numpy(),
        atol=1e-5,
    )


def test_random_crops_leave_the_faces_border_out():
    """--random-crop 40,44 shows an inner crop resized back: a 2-px bright frame around the face mostly leaves
    the picture, where the default ±12 % scale jitter keeps it (or widens it)."""
    from training.__main__ import crop_range
    from training.train import augment

    torch.manual_seed(0)
    framed = torch.zeros(256, 1, 48, 48)
    framed[..., :2, :] = framed[..., -2:, :] = framed[..., :, :2] = framed[..., :, -2:] = 255
    default = (augment(framed, 0.0) > 128).float().mean().item()
    cropped = augment(framed, 0.0, (40, 44))
    assert cropped.shape == framed.shape and cropped.min() >= 0 and cropped.max() <= 255
    assert (cropped > 128).float().mean().item() < 0.4 * default
    assert crop_range("40,44") == (40, 44)
    for bad in ("44", "44,40", "0,40", "a,b"):
        with pytest.raises(Exception, match="MIN"):
            crop_range(bad)


def test_cyclic_run_keeps_a_snapshot_per_cycle(tmp_path):
    """--cycles 3: the schedule restarts twice (the learning rate rises again) and each cycle's end is kept."""
    _common, _best = tiny_run(tmp_path, "cyclic", ["--epochs", "6", "--cycles", "3"])
    run = tmp_path / "cyclic"
    assert sorted(path.name for path in run.glob("snapshot-*.pt")) == [f"snapshot-{k}.pt" for k in (1, 2, 3)]
    rates = [epoch["lr"] for epoch in json.loads((run / "history.json").read_text())]
    assert rates[2] > 3 * rates[1] and rates[4] > 3 * rates[3]  # 2 epochs a cycle: low at its end, high again
    model_path = tmp_path / "snapshot.onnx"
    assert training_main(["export", str(run / "snapshot-2.pt"), str(model_path)]) == 0
    assert EmotionClassifier(model_path).labels == tuple(FER2013_LABELS)
