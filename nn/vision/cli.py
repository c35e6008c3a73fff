"""The command: `python -m nn.vision train | evaluate | predict | search | sweep | export`.

    python -m nn.vision train --model lenet5 --data mnist-5k --epochs 10 --batch-size 64 \\
        --optimizer adam --lr 1e-3 --momentum 0.9 --weight-decay 0 --dropout 0 \\
        --schedule cosine                       # writes runs/train/<time>/ (and runs/train/latest)
    python -m nn.vision train --resume runs/train/latest     # after Ctrl-C, SIGTERM or a crash

Every flag is checked when the command line is read, before any data loads: a bad value exits
with status 2 and one line naming the flag, the allowed values and what was given
(`python -m nn.vision train: error: argument --lr: must be a finite number > 0, got nan`). So
are an `--out` that already holds a run's results (unless `--resume` or `--overwrite`),
`--resume` with flags that differ from the run's, and `--depth` for lenet5.

Exit status: 0 done; 2 a refused command line; 130 stopped by SIGINT (Ctrl-C), 143 by SIGTERM,
after saving what `--resume` needs (nn.vision.train says what).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import autodiff as ad
import nn
from nn.vision import datasets, inference, models, runs
from nn.vision import export as export_cmd
from nn.vision.build import FIXED_DEPTH, OPTIMIZERS, SCHEDULES
from nn.vision.train import DEFAULTS, train

__all__ = ["build_parser", "existing_file", "integer", "known", "main", "number", "out_folder",
           "run_folder"]

PROG = "python -m nn.vision"

# -- argparse types: each turns the text into a value, or says what is allowed ----------------


def number(low: float, *, above: bool = False, below: float | None = None
           ) -> Callable[[str], float]:
    """An argparse type: a finite number >= low (> low if `above`; < below if given).

    >>> from nn.vision.cli import number
    >>> number(0, above=True)("3e-3")
    0.003
    >>> number(0, above=True)("nan")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be a finite number > 0, got nan
    """
    what = (f"a number in [{low:g}, {below:g})" if below is not None
            else f"a finite number {'>' if above else '>='} {low:g}")

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and (value > low if above else value >= low)
                and (below is None or value < below)):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text}")
        return value

    return parse


def integer(low: int) -> Callable[[str], int]:
    """An argparse type: a whole number >= low.

    >>> from nn.vision.cli import integer
    >>> integer(1)("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be an integer >= 1, got 0
    """
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {text}")
        return value

    return parse


def known(names: Iterable[str], what: str) -> Callable[[str], str]:
    """An argparse type: one of `names`.

    >>> from nn.vision.cli import known
    >>> known(["mlp", "lenet5"], "model")("vgg")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: unknown model 'vgg'; known: mlp, lenet5
    """
    names = list(names)

    def parse(text: str) -> str:
        if text not in names:
            raise argparse.ArgumentTypeError(f"unknown {what} {text!r}; known: "
                                             f"{', '.join(names)}")
        return text

    return parse


def out_folder(text: str) -> str:
    """An argparse type: a folder that exists or can be made (no file in the way).

    >>> import tempfile, os
    >>> from nn.vision.cli import out_folder
    >>> f = tempfile.mkstemp()[1]
    >>> out_folder(os.path.join(f, "run")) # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: cannot make a folder in ..., which is a file
    """
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise argparse.ArgumentTypeError(f"cannot make a folder in {parent}, which "
                                                 "is a file")
            break
    return text


def run_folder(text: str) -> str:
    """An argparse type: a run's folder (or a `latest` pointer to one) holding last.npz.

    >>> import tempfile
    >>> from nn.vision.cli import run_folder
    >>> run_folder(tempfile.mkdtemp()) # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: ... holds no last.npz: nothing to resume (a run writes it ...)
    """
    folder = runs.resolve_run_dir(text)
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"no such run folder: {text}")
    if not (folder / "last.npz").is_file():
        raise argparse.ArgumentTypeError(
            f"{folder} holds no last.npz: nothing to resume (a run writes it at the end of "
            "each epoch and when it is stopped)")
    return str(folder)


def existing_file(text: str) -> str:
    """An argparse type: a file that exists.

    >>> from nn.vision.cli import existing_file
    >>> existing_file("no/such/best.npz")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: no such file: no/such/best.npz
    """
    if not Path(text).is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}" if not Path(text).exists()
                                         else f"{text} is a folder, not a file")
    return text


POSITIVE, NON_NEGATIVE = number(0, above=True), number(0)
FRACTION = number(0, below=1)  # [0, 1)
MODEL, DATA = known(models.MODELS, "model"), known(datasets.DATASETS, "dataset")


# -- the parser ---------------------------------------------------------------------------------


def _train_parser(t: argparse.ArgumentParser) -> None:
    def d(key: str) -> str:
        return f"(default {DEFAULTS[key]})"

    # the config's flags default to None, so --resume can tell which were given
    t.add_argument("--model", type=MODEL, help=f"{', '.join(models.MODELS)} {d('model')}")
    t.add_argument("--data", type=DATA, help=f"{', '.join(datasets.DATASETS)} {d('data')}")
    t.add_argument("--epochs", type=integer(1), help=f"at least 1 {d('epochs')}")
    t.add_argument("--batch-size", type=integer(1), help=d("batch_size"))
    t.add_argument("--optimizer", choices=OPTIMIZERS, help=d("optimizer"))
    t.add_argument("--lr", type=POSITIVE, help=f"learning rate, > 0 {d('lr')}")
    t.add_argument("--momentum", type=FRACTION,
                   help=f"SGD/RMSprop momentum, Adam beta1; in [0, 1) {d('momentum')}")
    t.add_argument("--weight-decay", type=NON_NEGATIVE, help=f"L2, >= 0 {d('weight_decay')}")
    t.add_argument("--dropout", type=FRACTION, help=f"in [0, 1) {d('dropout')}")
    t.add_argument("--width", type=integer(1), help="model width (channels/units), >= 1")
    t.add_argument("--depth", type=integer(0), help="model depth (blocks/layers), >= 0")
    t.add_argument("--schedule", choices=SCHEDULES, help=d("schedule"))
    t.add_argument("--augment", action="store_true", default=None,
                   help="random small rotations and shifts")
    t.add_argument("--val-fraction", type=FRACTION,
                   help=f"part of the training set held out for validation, in [0, 1) "
                        f"{d('val_fraction')}")
    t.add_argument("--limit", type=integer(0),
                   help="use only this many training and test images; 0: all (default)")
    t.add_argument("--seed", type=integer(0), help=d("seed"))
    t.add_argument("--out", type=out_folder,
                   help="the run's folder (default: a new runs/train/<time>/); refused if it "
                        "holds results, unless --resume or --overwrite")
    t.add_argument("--resume", metavar="RUN_DIR", type=run_folder,
                   help="continue the run in RUN_DIR from its last.npz, as it was configured")
    t.add_argument("--overwrite", action="store_true",
                   help="replace the results an explicit --out holds")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    """The parser of `python -m nn.vision` and its four commands.

    >>> from nn.vision.cli import build_parser
    >>> build_parser().parse_args(["train", "--lr", "0.1"]).lr
    0.1
    """
    p = argparse.ArgumentParser(prog=PROG, description="Train and use vision models.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model and write its outputs")
    _train_parser(t)

    e = sub.add_parser("evaluate", help="a checkpoint on a test split")
    e.add_argument("checkpoint", type=existing_file)
    e.add_argument("--data", type=DATA, help="the dataset (default: the checkpoint's run's)")
    e.add_argument("--seed", type=integer(0),
                   help="the split's seed (default: the checkpoint's run's, whose test images "
                        "it never trained on)")
    e.add_argument("--batch-size", type=integer(1), default=256)
    e.add_argument("--limit", type=integer(0), default=0)

    r = sub.add_parser("predict", help="top-k predictions for image files or a split")
    r.add_argument("checkpoint", type=existing_file)
    r.add_argument("images", nargs="*", type=existing_file,
                   help="PNG files (else the first --count test images)")
    r.add_argument("--data", type=DATA,
                   help="the dataset whose classes and image size the model has, and whose "
                        "test images it predicts without IMAGES (default: the checkpoint's "
                        "run's)")
    r.add_argument("--count", type=integer(1), default=5)
    r.add_argument("--top-k", type=integer(1), default=3)

    s = sub.add_parser("sweep", help="grid or random search over hyperparameters")
    s.add_argument("--data", type=DATA, default="mnist-5k")
    s.add_argument("--seed", type=integer(0), default=0)
    s.add_argument("--limit", type=integer(0), default=0)
    s.add_argument("--model", type=MODEL, default="lenet5")
    s.add_argument("--epochs", type=integer(1), default=2)
    s.add_argument("--lr", type=POSITIVE, nargs="+", default=[1e-3, 3e-3])
    s.add_argument("--batch-sizes", "--batch-size", type=integer(1), nargs="+", default=[64])
    s.add_argument("--momentum", type=FRACTION, nargs="+", default=[0.9])
    s.add_argument("--weight-decay", type=NON_NEGATIVE, nargs="+", default=[0.0])
    s.add_argument("--width", type=integer(1), nargs="+", default=[None])
    s.add_argument("--depth", type=integer(0), nargs="+", default=[None])
    s.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    s.add_argument("--random", type=integer(0), default=0,
                   help="sample this many configurations (0: the whole grid)")
    s.add_argument("--out", type=out_folder, default="runs/sweep",
                   help="the sweep's folder: its study, trials and results (run again: the "
                        "sweep continues)")
    x = export_cmd.add_parser(sub)
    from nn.vision.search import add_search_parser  # search imports this module

    h = add_search_parser(sub)
    for command, q in (("train", t), ("evaluate", e), ("predict", r), ("sweep", s),
                       ("export", x), ("search", h)):
        q.set_defaults(command_parser=q)
        q.prog = f"{PROG} {command}"
    return p


# -- what one flag cannot say alone --------------------------------------------------------------


def _check_train(t: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """--resume takes the run's config (refusing other values); otherwise fill the defaults
    and refuse an --out holding results, and --depth for lenet5."""
    given = {k for k in DEFAULTS if getattr(args, k) is not None}
    if args.resume is not None:
        if args.out is not None or args.overwrite:
            t.error("--resume continues a run in its own folder: give no --out or --overwrite")
        try:
            saved = nn.load(Path(args.resume) / "last.npz")["config"]
        except (ValueError, KeyError, TypeError) as e:
            t.error(f"argument --resume: {args.resume}/last.npz is not a run's checkpoint ({e})")
        differ = [f"--{k.replace('_', '-')} {getattr(args, k)} (the run has {saved.get(k)})"
                  for k in sorted(given) if getattr(args, k) != saved.get(k)]
        if differ:
            t.error("--resume continues the run as it was configured; these flags differ: "
                    + ", ".join(differ))
        for k in DEFAULTS:
            setattr(args, k, saved.get(k, DEFAULTS[k]))
        return
    for k in DEFAULTS.keys() - given:
        setattr(args, k, DEFAULTS[k])
    held = runs.results_in(args.out) if args.out is not None else []
    if held and not args.overwrite:
        t.error(f"--out {args.out} already holds results ({', '.join(held)}): pass --resume "
                f"{args.out} to continue that run, --overwrite to replace it, or another --out")
    if args.model == "vit_small_mnist" and args.width is not None and args.width % 4:
        t.error(f"argument --width: vit_small_mnist splits the width over 4 heads; give a "
                f"multiple of 4, got {args.width}")
    if args.model in FIXED_DEPTH and args.depth is not None:
        t.error(f"argument --depth: {args.model} has a fixed depth; --depth applies to "
                "resnet8, resnet20, mobilenet, mlp")


def _check_sweep(s: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.model in FIXED_DEPTH and args.depth != [None]:
        s.error(f"argument --depth: {args.model} has a fixed depth; --depth applies to "
                "resnet8, resnet20, mobilenet, mlp")


def _search(args: argparse.Namespace) -> Any:
    from nn.vision import search

    return search.search(args)


def _sweep(args: argparse.Namespace) -> Any:
    """`sweep` is `search --sampler grid --pruner none` over its lists."""
    from nn.vision import search

    return search.sweep(args)


CHECKS: dict[str, Callable[[argparse.ArgumentParser, argparse.Namespace], None]] = {
    "train": _check_train, "sweep": _check_sweep}
COMMANDS: dict[str, Callable[[argparse.Namespace], Any]] = {
    "train": train, "evaluate": inference.evaluate, "predict": inference.predict_command,
    "sweep": _sweep, "search": _search, "export": export_cmd.export_command}


def main(argv: list[str] | None = None) -> Any:
    """Run the command `argv` (default: sys.argv[1:]); return what it returns. Raises
    SystemExit(2) on a refused command line, SystemExit(130 or 143) when a signal stopped it.

    >>> from nn.vision.cli import main
    >>> main(["train", "--epochs", "0"])
    Traceback (most recent call last):
    ...
    SystemExit: 2
    """
    args = build_parser().parse_args(argv)
    CHECKS.get(args.command, lambda *a: None)(args.command_parser, args)
    ad.keep_freed_memory()  # a training process: reuse freed arrays (docs/performance.md)
    try:
        return COMMANDS[args.command](args)
    except runs.Interrupted as stop:
        raise SystemExit(stop.exit_code) from None
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
