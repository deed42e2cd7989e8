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
    parser.add_argument("--labels", default="fer2013", choices=["fer2013", "ferplus-majority", "ferplus-soft"])
    parser.add_argument("--train-split", default=None, help="Usage value or subfolder (default Training/train)")
    parser.add_argument("--val-split", default=None, help="Usage value or subfolder (default PublicTest/test)")
    parser.add_argument("--cache", type=Path, default=Path("cache"), help="folder for decoded array caches")


def split_names(args: argparse.Namespace) -> tuple[str, str]:
    folder = args.data.is_dir()
    train = args.train_split or ("train" if folder else "Training")
    val = args.val_split or ("test" if folder else "PublicTest")
    return train, val


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

    info = export_checkpoint(
        args.checkpoint, args.output, flip_tta=args.tta, version=args.version, training_data=args.training_data
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

    print(write_card(args.run, args.model, args.command, args.hardware or hardware()))
    return 0


def command_pack(args: argparse.Namespace) -> int:
    from training.data import load_fer2013, write_pack

    raw = load_fer2013(args.data, args.ferplus)
    size = write_pack(raw, args.output)
    print(f"{args.output}: {len(raw.images)} faces, {size / 1e6:.1f} MB (lossless, verified)")
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
    export_parser.add_argument("checkpoint", type=Path)
    export_parser.add_argument("output", type=Path)
    export_parser.add_argument("--tta", action="store_true", help="bake flip averaging into the graph")
    export_parser.add_argument("--version", default="1.0.0")
    export_parser.add_argument("--training-data", default="FER2013 Training split")
    export_parser.set_defaults(func=command_export)

    card_parser = sub.add_parser("card", help="write the model card beside an exported model")
    card_parser.add_argument("run", type=Path, help="run folder (best.pt, report.json, history.json)")
    card_parser.add_argument("model", type=Path, help="the exported .onnx")
    card_parser.add_argument("--command", required=True, help="the exact command that reproduces the run")
    card_parser.add_argument("--hardware", help="where it was trained (default: this machine)")
    card_parser.set_defaults(func=command_card)

    pack_parser = sub.add_parser("pack", help="compact lossless copy of the CSV (+ votes, flags) for a GPU machine")
    pack_parser.add_argument("--data", type=Path, required=True, help="fer2013.csv(.gz/.xz)")
    pack_parser.add_argument("--ferplus", type=Path, help="FER+ fer2013new.csv")
    pack_parser.add_argument("output", type=Path, help="the .npz pack to write")
    pack_parser.set_defaults(func=command_pack)

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
