"""The training run behind `python -m nn.vision train` (the command itself: nn.vision.cli).

A run writes into its folder (`runs/train/<time>/` by default, see nn.vision.runs):

- `best.npz`: the best checkpoint by validation accuracy (model, optimizer, epoch, config);
- `best.safetensors`: the same model's weights alone, a state dict PyTorch's
  `safetensors.torch.load_file` reads, with the config and the epoch in its metadata (which
  `evaluate` and `predict` read to build the model);
- `last.npz`: everything needed to continue, written at the end of every epoch (so `kill -9`
  loses at most the epoch under way) and when SIGINT or SIGTERM stops the run: the model, the
  optimizer, the schedule, the loader's position in the epoch and its shuffling and augmentation
  generators, the engine's generator (dropout), the epoch, the step within it and that epoch's
  partial sums, the history, the best so far, the config;
- `metrics.json` and `curves.png` (on an interrupt too, with the history so far), and at the
  end `confusion.png` and `graph.svg` (`graph.dot` without Graphviz).

On SIGINT (Ctrl-C) or SIGTERM the loop finishes the step under way, writes `last.npz`,
`metrics.json` and `curves.png`, prints where they are and the command that resumes, and raises
`runs.Interrupted` (the command exits 130 or 143). `--resume folder` (in Python,
`train(train_args(**nn.load(folder / "last.npz")["config"], resume=folder))`: another config
is refused) continues from `last.npz`, mid-epoch if need be, and ends with the same weights and
metrics, bit for bit, as the run that was never stopped (wall-clock seconds aside). An
exception inside an epoch saves nothing: `last.npz` stays as the last epoch left it.

"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import shlex
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

import autodiff as ad
import nn
import nn.functional as F
from nn._state import real_number
from nn.vision import build, datasets, models, plots, runs
from nn.vision import transforms as T
from nn.vision.build import load_data, make_model, make_optimizer, make_schedule
from nn.vision.inference import accuracy, confusion, predict

DEFAULTS: dict[str, Any] = {  # a run's config: what it trains, and how
    "model": "lenet5", "data": "mnist-5k", "epochs": 10, "batch_size": 64, "optimizer": "adam",
    "lr": 1e-3, "momentum": 0.9, "weight_decay": 0.0, "dropout": 0.0, "width": None,
    "depth": None, "schedule": "cosine", "augment": False, "val_fraction": 0.1, "limit": 0,
    "seed": 0}
CONTROL: dict[str, Any] = {"out": None, "resume": None, "overwrite": False,
                           "no_progress": True}  # where it writes, and how it shows progress
HISTORY = ("train_loss", "train_accuracy", "val_accuracy", "lr", "seconds")
RUNS_PARENT = Path("runs/train")  # the default --out: a new folder in it for each run


def train_args(**overrides: Any) -> argparse.Namespace:
    """The arguments of `train`: DEFAULTS and CONTROL with `overrides`.

    >>> from nn.vision.train import train_args
    >>> train_args(lr=0.1).lr, train_args().out is None
    (0.1, True)
    >>> train_args(learning_rate=0.1)
    Traceback (most recent call last):
    ...
    TypeError: train_args: unknown arguments ['learning_rate']
    """
    unknown = sorted(set(overrides) - set(DEFAULTS) - set(CONTROL))
    if unknown:
        raise TypeError(f"train_args: unknown arguments {unknown}")
    return argparse.Namespace(**{**DEFAULTS, **CONTROL, **overrides})


def config_of(args: argparse.Namespace) -> dict[str, Any]:
    """The config part of `args` (what is saved in checkpoints and metrics.json).

    >>> from nn.vision.train import config_of, train_args
    >>> config_of(train_args(out="runs/x"))["model"], "out" in config_of(train_args())
    ('lenet5', False)
    """
    return {k: getattr(args, k) for k in DEFAULTS}


def _whole(low: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= low


def _real(low: float, high: float = math.inf, *, above: bool = False) -> Callable[[Any], bool]:
    return lambda v: (real_number(v) and (v > low if above else v >= low)
                      and (high == math.inf or v < high))


_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {  # what the command line accepts
    "model": (lambda v: v in models.MODELS, f"one of {', '.join(models.MODELS)}"),
    "data": (lambda v: v in datasets.DATASETS, f"one of {', '.join(datasets.DATASETS)}"),
    "epochs": (_whole(1), "an integer >= 1"), "batch_size": (_whole(1), "an integer >= 1"),
    "optimizer": (lambda v: v in build.OPTIMIZERS, f"one of {', '.join(build.OPTIMIZERS)}"),
    "lr": (_real(0, above=True), "a finite number > 0"),
    "momentum": (_real(0, 1), "a number in [0, 1)"),
    "weight_decay": (_real(0), "a finite number >= 0"),
    "dropout": (_real(0, 1), "a number in [0, 1)"),
    "width": (lambda v: v is None or _whole(1)(v), "None or an integer >= 1"),
    "depth": (lambda v: v is None or _whole(0)(v), "None or an integer >= 0"),
    "schedule": (lambda v: v in build.SCHEDULES, f"one of {', '.join(build.SCHEDULES)}"),
    "augment": (lambda v: isinstance(v, bool), "True or False"),
    "val_fraction": (_real(0, 1), "a number in [0, 1)"),
    "limit": (_whole(0), "an integer >= 0 (0: all)"), "seed": (_whole(0), "an integer >= 0")}


def check_config(config: dict[str, Any]) -> None:
    """A ValueError naming the first entry of a run's config (`config_of`) that the command
    line would refuse: `train` checks what it is given from Python as the command line checks
    its flags (a val_fraction of 1.5 trained on no image, a negative limit dropped images).

    >>> from nn.vision.train import check_config, config_of, train_args
    >>> check_config(config_of(train_args(val_fraction=1.5)))
    Traceback (most recent call last):
    ...
    ValueError: train: val_fraction must be a number in [0, 1), got 1.5
    """
    for key, (ok, what) in _RULES.items():
        if not ok(config.get(key)):
            raise ValueError(f"train: {key} must be {what}, got {config.get(key)!r}")


@dataclasses.dataclass
class _Progress:
    """Where a run stands, saved in last.npz: epochs finished, steps into the next one and its
    partial sums, the best validation accuracy so far and its epoch, the history."""

    epoch: int = 0
    step: int = 0
    loss_sum: float = 0.0
    correct: int = 0
    seen: int = 0
    seconds: float = 0.0
    best: float = -1.0
    best_epoch: int = 0
    history: dict[str, list[float]] = dataclasses.field(
        default_factory=lambda: {k: [] for k in HISTORY})


@dataclasses.dataclass
class _Run:
    """A run's pieces, built from its config."""

    args: argparse.Namespace
    out: Path
    data: datasets.Split
    xval: np.ndarray
    yval: np.ndarray
    model: nn.Module
    opt: nn.optim.Optimizer
    sched: Any
    loader: nn.data.DataLoader
    progress: _Progress
    replaces: bool = False  # --overwrite: the previous run's outputs go at the first save


def train(args: argparse.Namespace, *,
          on_epoch: Callable[[int, float], None] | None = None) -> dict[str, Any]:
    """Train as `args` says (see `train_args`); return the metrics also written to
    metrics.json. Raises runs.Interrupted after saving, on SIGINT or SIGTERM, and ValueError
    (before anything is loaded or written) for a config the command line refuses
    (`check_config`). `on_epoch(epoch, validation accuracy)` is called after each epoch (from
    1), once it is saved: the search's pruner, whose exception stops the run there (ValueError
    if the run has no validation image). Without validation images (`val_fraction=0`), the
    history's and the metrics' validation accuracies are None and the last epoch is the best.

    >>> import tempfile
    >>> from nn.vision.train import train, train_args
    >>> m = train(train_args(model="mlp", data="digits", limit=100, epochs=1, lr=0.05,
    ...                      out=tempfile.mkdtemp()))  # doctest: +ELLIPSIS
    epoch   1  loss ...
    >>> m["status"], len(m["history"]["val_accuracy"])
    ('finished', 1)
    """
    check_config(config_of(args))
    run = _start(args, need_validation=on_epoch is not None)
    with runs.StopSignals() as stop:
        while run.progress.epoch < args.epochs:
            _train_epoch(run, stop)
            _end_epoch(run)
            if stop.requested:
                _stop(run, stop.signum)
            if on_epoch is not None:
                on_epoch(run.progress.epoch, run.progress.history["val_accuracy"][-1])
    return _finish(run)


# -- building or restoring a run ---------------------------------------------------------------


def _start(args: argparse.Namespace, need_validation: bool = False) -> _Run:
    ad.manual_seed(args.seed)
    data = load_data(args.data, args.seed, args.limit)
    n_val = int(len(data.y_train) * args.val_fraction)
    if need_validation and n_val == 0:
        raise ValueError(f"train: on_epoch needs a validation accuracy, but val_fraction "
                         f"{args.val_fraction} of {len(data.y_train)} training images holds "
                         "out none")
    order = np.random.default_rng(args.seed).permutation(len(data.y_train))
    val, tr = order[:n_val], order[n_val:]
    model = make_model(args.model, data, args.dropout, args.width, args.depth)
    opt = make_optimizer(args.optimizer, model.parameters(), args.lr, args.momentum,
                         args.weight_decay)
    sched = make_schedule(args.schedule, opt, args.epochs)
    augment = T.Compose([T.RandomAffine(8, 0.08, seed=args.seed)]) if args.augment else None
    # a last batch of one image is skipped: batch norm cannot train on one value per channel
    # (ResNet-18 and MobileNetV2 reach 1x1 on small images)
    single = len(tr) % args.batch_size == 1 and len(tr) > 1
    loader = nn.data.DataLoader(nn.data.TensorDataset(data.x_train[tr], data.y_train[tr]),
                                args.batch_size, shuffle=True, seed=args.seed, transform=augment,
                                drop_last=single)
    run = _Run(args, Path(), data, data.x_train[val], data.y_train[val], model, opt, sched,
              loader, _Progress())
    if args.resume is not None:
        run.out = runs.resolve_run_dir(args.resume)
        run.progress = _restore(run)
    else:
        run.out = _claim_folder(args)
        run.replaces = bool(args.overwrite)
    return run


def _claim_folder(args: argparse.Namespace) -> Path:
    """A new folder by default; an explicit one only if it holds no results, or --overwrite
    (whose results `_replace_previous` removes when this run saves its first ones)."""
    if args.out is None:
        return runs.new_run_dir(RUNS_PARENT)
    out = Path(args.out)
    held = runs.results_in(out)
    if held and not args.overwrite:
        raise FileExistsError(f"{out} already holds results ({', '.join(held)}): pass --resume "
                              f"{out} to continue that run, --overwrite to replace it, or "
                              "another --out")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _replace_previous(run: _Run) -> None:
    """With --overwrite, remove the previous run's outputs just before this run saves its
    first results (the end of its first epoch, or a stop): a run failing before then leaves
    the previous one as it was, and none is mixed with this one's."""
    if run.replaces:
        runs.clear_results(run.out)
        run.replaces = False


def _restore(run: _Run) -> _Progress:
    ck = nn.load(run.out / "last.npz")
    saved, given = ck["config"], config_of(run.args)
    if saved != given:
        differ = {k: (given[k], saved.get(k)) for k in given if given[k] != saved.get(k)}
        raise ValueError(f"resume {run.out}: the config differs from the run's (given, saved): "
                         f"{differ}")
    run.model.load_state_dict(ck["model"])
    run.opt.load_state_dict(ck["optimizer"])
    if run.sched is not None:
        run.sched.load_state_dict(ck["scheduler"])
    run.loader.load_state_dict(ck["loader"])
    ad.set_rng_state(ck["rng"])
    return _Progress(**ck["progress"])


def _save_last(run: _Run) -> None:
    _replace_previous(run)
    nn.save({"model": run.model.state_dict(), "optimizer": run.opt.state_dict(),
             "scheduler": None if run.sched is None else run.sched.state_dict(),
             "loader": run.loader.state_dict(), "rng": ad.get_rng_state(),
             "progress": dataclasses.asdict(run.progress), "config": config_of(run.args)},
            run.out / "last.npz")


# -- the loop ----------------------------------------------------------------------------------


def _train_epoch(run: _Run, stop: runs.StopSignals) -> None:
    """The rest of the current epoch, one step at a time; stops (saving) when asked."""
    p, model, opt = run.progress, run.model, run.opt
    model.train()
    start, seen_here = time.perf_counter(), 0
    bar = _progress_bar(run.loader, f"epoch {p.epoch + 1}/{run.args.epochs}", p.step,
                        enabled=not run.args.no_progress)
    for xb, yb in bar:
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        p.loss_sum += loss.item() * len(yb)
        p.correct += int((logits.data.argmax(1) == yb.data).sum())
        p.seen += len(yb)
        p.step += 1
        seen_here += len(yb)
        bar.set_postfix(loss=f"{p.loss_sum / p.seen:.4f}", acc=f"{p.correct / p.seen:.3f}",
                        img_s=f"{seen_here / (time.perf_counter() - start):.0f}")
        if stop.requested:
            break
    bar.close()
    p.seconds += time.perf_counter() - start
    if stop.requested:
        _stop(run, stop.signum)


def _end_epoch(run: _Run) -> None:
    """Validate, record, keep the best checkpoint, step the schedule, write last.npz. Without
    validation images (val_fraction 0, or too few images for one) the validation accuracy is
    None and every epoch is the best so far: the last one is kept."""
    p = run.progress
    seen = max(p.seen, 1)
    val_acc = accuracy(run.model, run.xval, run.yval) if len(run.yval) else None
    row = (p.loss_sum / seen, p.correct / seen, val_acc, run.opt.param_groups[0]["lr"],
           p.seconds)
    for key, value in zip(HISTORY, row):
        p.history[key].append(value)
    val = "-" if val_acc is None else f"{val_acc:.2%}"
    line = (f"epoch {p.epoch + 1:3d}  loss {row[0]:.4f}  train {row[1]:.2%}  val {val}  "
            f"{p.seconds:.1f} s ({p.seen / max(p.seconds, 1e-9):.0f} img/s)")
    p.epoch += 1
    if val_acc is None or val_acc >= p.best:  # a tie: the later epoch (more training) wins
        p.best, p.best_epoch = (p.best if val_acc is None else val_acc), p.epoch
        _save_best(run)
    if run.sched is not None:
        run.sched.step()
    p.step, p.loss_sum, p.correct, p.seen, p.seconds = 0, 0.0, 0, 0, 0.0
    _save_last(run)
    print(line, flush=True)  # once the epoch is safe in last.npz


def _save_best(run: _Run) -> None:
    """best.npz (the model, the optimizer, the epoch, the config) and best.safetensors (the
    model's weights, the config and the epoch in its metadata)."""
    _replace_previous(run)
    state, epoch, config = run.model.state_dict(), run.progress.epoch, config_of(run.args)
    nn.save({"model": state, "optimizer": run.opt.state_dict(), "epoch": epoch,
             "rng": ad.get_rng_state(), "config": config}, run.out / "best.npz")
    nn.save(state, run.out / "best.safetensors",
            metadata={"config": json.dumps(config), "epoch": str(epoch)})


def _stop(run: _Run, signum: int | None) -> None:
    """Save everything so far, say where and how to go on, raise runs.Interrupted."""
    assert signum is not None
    p = run.progress
    _save_last(run)
    _write_metrics(run, {"status": "interrupted", "epochs_done": p.epoch, "step": p.step})
    plots.curves(p.history, run.out / "curves.png")
    where = f"epoch {p.epoch + 1}/{run.args.epochs}, step {p.step}/{len(run.loader)}"
    print(f"stopped at {where}: saved last.npz, metrics.json and curves.png in {run.out}\n"
          f"resume with: python -m nn.vision train --resume {shlex.quote(str(run.out))}",
          file=sys.stderr, flush=True)
    raise runs.Interrupted(signum, run.out)


def _finish(run: _Run) -> dict[str, Any]:
    """Test the best checkpoint; write metrics.json and the pictures."""
    p, data, args = run.progress, run.data, run.args
    ck = nn.load(run.out / "best.npz")
    run.model.load_state_dict(ck["model"])
    pred = predict(run.model, data.x_test).argmax(1)
    test_acc = float((pred == data.y_test).mean())
    cm = confusion(data.y_test, pred, data.num_classes)
    metrics = _write_metrics(run, {
        "status": "finished", "test_accuracy": test_acc, "best_epoch": ck["epoch"],
        "seconds_per_epoch": float(np.median(p.history["seconds"])),
        "parameters": int(sum(q.size for q in run.model.parameters())),
        "confusion": cm.tolist()})
    plots.curves(p.history, run.out / "curves.png")
    plots.confusion(cm, data.classes, run.out / "confusion.png")
    plots.graph(run.model, data, run.out)
    print(f"test accuracy {test_acc:.2%} ({args.model} on {args.data}, best epoch "
          f"{ck['epoch']}); outputs in {run.out}")
    return metrics


def _write_metrics(run: _Run, fields: dict[str, Any]) -> dict[str, Any]:
    p = run.progress
    metrics = {"model": run.args.model, "data": run.args.data, "run_dir": str(run.out),
               "best_val_accuracy": p.best if p.best_epoch and len(run.yval) else None,
               "best_epoch": p.best_epoch or None, **fields, "history": p.history,
               "config": config_of(run.args)}
    runs.write_text(run.out / "metrics.json", json.dumps(metrics, indent=2))
    return metrics


class _Plain:
    """The loader itself where there is no progress bar: one line per epoch instead."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = items

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)

    def set_postfix(self, **values: str) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(loader: nn.data.DataLoader, desc: str, initial: int, enabled: bool) -> Any:
    """tqdm's bar over the loader, if wanted and installed (imported only then)."""
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:
            if not getattr(_progress_bar, "warned", False):
                print("tqdm is not installed: one line per epoch, no progress bar",
                      file=sys.stderr)
                _progress_bar.warned = True  # type: ignore[attr-defined]
        else:
            return tqdm(loader, desc=desc, initial=initial, total=len(loader), leave=False)
    return _Plain(loader)


def main(argv: list[str] | None = None) -> Any:
    """`python -m nn.vision ...`, kept here for `from nn.vision.train import main`: see
    nn.vision.cli.main.

    >>> from nn.vision.train import main
    >>> main(["train", "--lr", "nan"])
    Traceback (most recent call last):
    ...
    SystemExit: 2
    """
    from nn.vision.cli import main as cli_main

    return cli_main(argv)
