"""`python -m training {train,evaluate,export,compare}` — see docs/models-and-training.md."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

from training.recipe import add_recipe_parser

DEFAULT_SPLITS = {"train": "Training", "val": "PublicTest"}


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="fer2013.csv(.gz/.xz) or image-folder root")
    parser.add_argument("--ferplus", type=Path, help="FER+ fer2013new.csv (row-aligned votes)")
    parser.add_argument(
        "--labels", default="fer2013", choices=["fer2013", "fer2013+ferplus", "ferplus-majority", "ferplus-soft"]
    )
    parser.add_argument("--train-split", default=None, help="Usage value or subfolder (default Training/train)")
    parser.add_argument("--val-split", default=None, help="Usage value or subfolder (default PublicTest/test)")
    parser.add_argument("--cache", type=Path, default=Path("cache"), help="folder for decoded array caches")


def split_names(args: argparse.Namespace) -> tuple[str, str]:
    folder = args.data.is_dir()
    train = args.train_split or ("train" if folder else "Training")
    val = args.val_split or ("test" if folder else "PublicTest")
    return train, val


def crop_range(text: str) -> tuple[int, int]:
    """'40,44' → (40, 44): the smallest and largest crop side in pixels (1-48, smallest first)."""
    try:
        low, high = (int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give MIN,MAX in pixels, e.g. 40,44") from None
    if not 1 <= low <= high <= 48:
        raise argparse.ArgumentTypeError(f"{text!r}: need 1 <= MIN <= MAX <= 48")
    return low, high


def command_train(args: argparse.Namespace) -> int:
    from training.data import load_dataset
    from training.train import TrainConfig, train

    train_split, val_split = split_names(args)
    train_set = load_dataset(args.data, train_split, args.labels, args.ferplus, args.cache)
    val_labels = "ferplus-majority" if args.labels.startswith("ferplus") else args.labels
    val_set = load_dataset(args.data, val_split, val_labels, args.ferplus, args.cache)
    if args.limit:
        train_set = train_set.subset(slice(0, args.limit))
        val_set = val_set.subset(slice(0, args.limit))
    names = {f.name for f in fields(TrainConfig)}
    config = TrainConfig(**{k: v for k, v in vars(args).items() if k in names and v is not None})
    config.label_mode = args.labels
    print(f"train {len(train_set)} faces, validation {len(val_set)} faces, classes {train_set.class_names}")
    result = train(config, train_set, val_set, args.out, resume=not args.fresh)
    print(json.dumps(result))
    if result["finished"] and not args.no_evaluate:
        return command_evaluate(argparse.Namespace(**{**vars(args), "checkpoint": args.out / "best.pt"}))
    return 0


def command_evaluate(args: argparse.Namespace) -> int:
    from training.data import load_dataset
    from training.evaluate import evaluate_checkpoint

    _, val_split = split_names(args)
    val_labels = "ferplus-majority" if args.labels.startswith("ferplus") else args.labels
    val_set = load_dataset(args.data, val_split, val_labels, args.ferplus, args.cache)
    out_dir = args.checkpoint.parent
    report = evaluate_checkpoint(args.checkpoint, val_set, out_dir, flip_tta=args.tta)
    print(report["table"])
    return 0


def command_export(args: argparse.Namespace) -> int:
    from training.export import export_checkpoint

    paths = [Path(part) for part in str(args.checkpoint).split(",") if part]
    if len(paths) > 1 or args.shift_views or args.member_views:
        from training.export import export_ensemble
        from training.train import TTA_SHIFTS

        info = export_ensemble(
            paths,
            args.output,
            flip_tta=args.tta,
            shifts=tuple(TTA_SHIFTS[10][1 : 1 + args.shift_views]),
            version=args.version,
            training_data=args.training_data,
            validation_accuracy=args.validation_accuracy,
            member_views=[part.split(",") for part in args.member_views.split(";")] if args.member_views else None,
        )
    else:
        info = export_checkpoint(
            args.checkpoint,
            args.output,
            flip_tta=args.tta,
            version=args.version,
            training_data=args.training_data,
            validation_accuracy=args.validation_accuracy,
        )
    print(json.dumps(info, indent=1))
    return 0


def command_compare(args: argparse.Namespace) -> int:
    from training.compare import compare_architectures, compare_runs
    from training.models import ARCHITECTURES

    if not args.runs and not args.architectures:
        print("compare: give run folders and/or --architectures", file=sys.stderr)
        return 2
    if args.architectures:
        print(compare_architectures([name for name in ARCHITECTURES if name != "tiny"]))
    if args.runs:
        print(compare_runs(args.runs))
    return 0


def command_card(args: argparse.Namespace) -> int:
    from training.card import hardware, write_card

    extra = args.extra.read_text() if args.extra else ""
    card = write_card(
        args.run, args.model, args.command, args.hardware or hardware(), args.cpu_minutes, args.note, extra
    )
    print(card)
    return 0


def command_graph_card(args: argparse.Namespace) -> int:
    import onnx

    from training.card import write_graph_card
    from training.data import load_dataset

    _, val_split = split_names(args)
    metadata = {p.key: p.value for p in onnx.load(str(args.model)).metadata_props}
    labels = "ferplus-majority" if metadata.get("label_mode", "").startswith("ferplus") else "fer2013"
    val_set = load_dataset(args.data, val_split, labels, args.ferplus, args.cache)
    extra = args.extra.read_text() if args.extra else ""
    print(write_graph_card(args.model, val_set, args.command, args.passes, args.note, extra))
    return 0


def command_pack(args: argparse.Namespace) -> int:
    from training.data import load_fer2013, write_pack

    raw = load_fer2013(args.data, args.ferplus)
    size = write_pack(raw, args.output)
    print(f"{args.output}: {len(raw.images)} faces, {size / 1e6:.1f} MB (lossless, verified)")
    return 0


def command_rebuild(args: argparse.Namespace) -> int:
    from training.data import load_dataset
    from training.reconstruct import write_checkpoint

    train_split, _ = split_names(args)
    faces = load_dataset(args.data, train_split, "fer2013", args.ferplus, args.cache).images
    rng = __import__("numpy").random.default_rng(0)
    calibration = faces[rng.choice(len(faces), size=min(args.faces, len(faces)), replace=False)]
    print(json.dumps(write_checkpoint(args.model, args.output, calibration)))
    return 0


def command_app_crops(args: argparse.Namespace) -> int:
    from training.app_crops import write_app_crops
    from training.data import load_dataset

    train_split, _ = split_names(args)
    # the crops must line up with the training split of the label mode they are trained with
    faces = load_dataset(args.data, train_split, args.labels, args.ferplus, args.cache).images
    print(json.dumps(write_app_crops(faces, args.output, tuple(args.frames))))
    return 0


def command_soft_labels(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from training.data import load_dataset
    from training.train import load_teachers, predict_probabilities

    train_split, val_split = split_names(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    teachers = load_teachers(args.teacher, torch.device("cpu"))
    train_set = load_dataset(args.data, train_split, args.labels, args.ferplus, args.cache)
    val_labels = "ferplus-majority" if args.labels.startswith("ferplus") else args.labels
    val_set = load_dataset(args.data, val_split, val_labels, args.ferplus, args.cache)
    val = predict_probabilities(teachers, val_set.images, torch.device("cpu"), views=args.views)
    accuracy = float((val.argmax(1) == val_set.labels).mean())
    print(f"teacher ensemble ({len(teachers)} models, {args.views} views): validation accuracy {accuracy:.4f}")
    probabilities = predict_probabilities(teachers, train_set.images, torch.device("cpu"), views=args.views)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    np.save(args.output, probabilities.astype(np.float16))
    train_accuracy = float((probabilities.argmax(1) == train_set.labels).mean())
    print(
        json.dumps(
            {
                "output": str(args.output),
                "faces": len(probabilities),
                "validation_accuracy": accuracy,
                "train_agreement_with_labels": train_accuracy,
                "bytes": args.output.stat().st_size,
            }
        )
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m training", description="Train, evaluate and export emotiondesk models."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    train_parser = sub.add_parser("train", help="train a model (resumes from OUT/last.pt)")
    add_data_arguments(train_parser)
    train_parser.add_argument("--out", type=Path, required=True, help="run folder")
    train_parser.add_argument("--arch", dest="architecture", default="desknet-s")
    train_parser.add_argument("--epochs", type=int)
    train_parser.add_argument(
        "--minutes", type=float, help="fit the schedule to this many minutes of training instead of --epochs"
    )
    train_parser.add_argument("--optimizer", choices=["adamw", "sgd"])
    train_parser.add_argument("--batch-size", type=int)
    train_parser.add_argument("--lr", dest="learning_rate", type=float)
    train_parser.add_argument("--weight-decay", type=float)
    train_parser.add_argument("--balance-power", type=float)
    train_parser.add_argument("--label-smoothing", type=float)
    train_parser.add_argument("--mixup-alpha", type=float)
    train_parser.add_argument(
        "--random-crop",
        type=crop_range,
        help="MIN,MAX: train on random square crops of MIN-MAX px resized back (e.g. 40,44), not the scale jitter",
    )
    train_parser.add_argument(
        "--cycles", type=int, help="repeat the one-cycle schedule this many times, saving snapshot-K.pt at each end"
    )
    train_parser.add_argument("--patience", type=int, help="early stop after this many epochs without gain (0 = off)")
    train_parser.add_argument("--seed", type=int)
    train_parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    train_parser.add_argument("--threads", type=int, help="CPU threads for torch (default: one per core)")
    train_parser.add_argument(
        "--precision",
        choices=["auto", "bf16", "fp32"],
        help="bf16 autocast or fp32 (auto: bf16 on CUDA and on CPUs with native bf16, e.g. AVX512-BF16)",
    )
    train_parser.add_argument("--max-minutes", type=float, help="checkpoint and stop after this long")
    train_parser.add_argument("--teacher", help="checkpoint(s) to distil from; several, comma-separated, = ensemble")
    train_parser.add_argument(
        "--teacher-labels", help="teacher probabilities for the training faces, computed once (training soft-labels)"
    )
    train_parser.add_argument("--app-crops", help="the app's crops of the training faces (training app-crops)")
    train_parser.add_argument("--app-crop-probability", type=float, help="chance a face is the app's crop (0.5)")
    train_parser.add_argument("--distill-weight", type=float, help="weight of the distillation term (0.7)")
    train_parser.add_argument("--init", help="start from this checkpoint's weights (matching layers)")
    train_parser.add_argument("--limit", type=int, help="use only the first N faces of each split (smoke runs)")
    train_parser.add_argument("--fresh", action="store_true", help="ignore OUT/last.pt")
    train_parser.add_argument("--no-evaluate", action="store_true")
    train_parser.add_argument("--tta", action="store_true", help="evaluate with flip test-time augmentation")
    train_parser.set_defaults(func=command_train)

    eval_parser = sub.add_parser("evaluate", help="metrics, confusion matrix and curves for a checkpoint")
    add_data_arguments(eval_parser)
    eval_parser.add_argument("checkpoint", type=Path)
    eval_parser.add_argument("--tta", action="store_true")
    eval_parser.set_defaults(func=command_evaluate)

    export_parser = sub.add_parser("export", help="export a checkpoint to the ONNX model contract")
    export_parser.add_argument("checkpoint", type=Path, help="best.pt, or several comma-separated (an ensemble)")
    export_parser.add_argument("output", type=Path)
    export_parser.add_argument("--tta", action="store_true", help="bake flip averaging into the graph")
    export_parser.add_argument("--version", default="1.0.0")
    export_parser.add_argument(
        "--shift-views", type=int, default=0, choices=range(5), help="also 1-4 two-pixel-shifted views in the graph"
    )
    export_parser.add_argument(
        "--member-views",
        help="each checkpoint's own views, ';' between members: e.g. 'crop44,crop44-mirror;face' "
        "(face, mirror, crop44 = centre 44-px crop resized back, crop44-mirror)",
    )
    export_parser.add_argument(
        "--validation-accuracy",
        type=float,
        help="the graph's own validation accuracy for the metadata (with the same views)",
    )
    export_parser.add_argument("--training-data", default="FER2013 Training split")
    export_parser.set_defaults(func=command_export)

    card_parser = sub.add_parser("card", help="write the model card beside an exported model")
    card_parser.add_argument("run", type=Path, help="run folder (best.pt, report.json, history.json)")
    card_parser.add_argument("model", type=Path, help="the exported .onnx")
    card_parser.add_argument("--command", required=True, help="the exact command that reproduces the run")
    card_parser.add_argument("--hardware", help="where it was trained (default: this machine)")
    card_parser.add_argument("--cpu-minutes", type=float, help="CPU time of a run whose history lacks it")
    card_parser.add_argument("--note", default="", help="appended to the hardware-and-time line")
    card_parser.add_argument("--extra", type=Path, help="a markdown file appended after the validation table")
    card_parser.set_defaults(func=command_card)

    graph_card_parser = sub.add_parser(
        "graph-card", help="the model card of an exported graph without a run folder (an ensemble), from the ONNX"
    )
    add_data_arguments(graph_card_parser)
    graph_card_parser.add_argument("model", type=Path, help="the exported .onnx")
    graph_card_parser.add_argument("--command", required=True, help="the exact commands that reproduce it")
    graph_card_parser.add_argument("--passes", type=int, required=True, help="48×48 forward passes per face")
    graph_card_parser.add_argument("--note", default="", help="where and how long its members trained")
    graph_card_parser.add_argument("--extra", type=Path, help="a markdown file appended after the validation table")
    graph_card_parser.set_defaults(func=command_graph_card)

    pack_parser = sub.add_parser("pack", help="compact lossless copy of the CSV (+ votes, flags) for a GPU machine")
    pack_parser.add_argument("--data", type=Path, required=True, help="fer2013.csv(.gz/.xz)")
    pack_parser.add_argument("--ferplus", type=Path, help="FER+ fer2013new.csv")
    pack_parser.add_argument("output", type=Path, help="the .npz pack to write")
    pack_parser.set_defaults(func=command_pack)

    rebuild_parser = sub.add_parser(
        "rebuild", help="a trainable checkpoint (--init/--teacher) from a shipped ONNX model (BatchNorm recalibrated)"
    )
    add_data_arguments(rebuild_parser)
    rebuild_parser.add_argument("model", type=Path, help="an exported .onnx (desknet family)")
    rebuild_parser.add_argument("output", type=Path, help="the .pt to write")
    rebuild_parser.add_argument("--faces", type=int, default=8000, help="training faces for BatchNorm statistics")
    rebuild_parser.set_defaults(func=command_rebuild)

    crops_parser = sub.add_parser(
        "app-crops", help="the app's own crops (BlazeFace → face_crops) of every training face, for train --app-crops"
    )
    add_data_arguments(crops_parser)
    crops_parser.add_argument("output", type=Path, help="the .npz to write (keep it out of the repository)")
    crops_parser.add_argument("--frames", nargs="+", default=["tight", "webcam"], choices=["tight", "webcam"])
    crops_parser.set_defaults(func=command_app_crops)

    soft_parser = sub.add_parser(
        "soft-labels", help="a teacher ensemble's probabilities for every training face, once (train --teacher-labels)"
    )
    add_data_arguments(soft_parser)
    soft_parser.add_argument("--teacher", required=True, help="checkpoint(s), comma-separated")
    soft_parser.add_argument("--views", type=int, default=10, choices=[1, 2, 10], help="test-time views per face")
    soft_parser.add_argument("--threads", type=int)
    soft_parser.add_argument("output", type=Path, help="the .npy to write (float16)")
    soft_parser.set_defaults(func=command_soft_labels)

    add_recipe_parser(sub)

    compare_parser = sub.add_parser("compare", help="one table of runs (and/or of every architecture's cost)")
    compare_parser.add_argument("runs", type=Path, nargs="*")
    compare_parser.add_argument(
        "--architectures", action="store_true", help="params, MMACs and CPU ms/face of every architecture, untrained"
    )
    compare_parser.set_defaults(func=command_compare)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
