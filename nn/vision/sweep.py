"""`python -m nn.vision sweep`: train each configuration of a grid (or `--random N` of them)
one after another; a table sorted by validation accuracy, `sweep.csv` and `sweep.png`.

Each configuration is a run of its own, `run<i>/` in the sweep's folder (by default a new
`runs/sweep/<time>/`; an explicit `--out` that holds a sweep's results is refused unless
`--overwrite`).
"""

from __future__ import annotations

import argparse
import csv
import itertools
from pathlib import Path
from typing import Any

import numpy as np

from nn.vision import plots, runs
from nn.vision.train import train, train_args

RUNS_PARENT = Path("runs/sweep")
RESULTS = ("sweep.csv", "sweep.png")


def sweep_results_in(folder: str | Path) -> list[str]:
    """A sweep's results `folder` holds: sweep.csv, sweep.png, runs' folders.

    >>> import tempfile
    >>> from nn.vision.sweep import sweep_results_in
    >>> sweep_results_in(tempfile.mkdtemp())
    []
    """
    folder = Path(folder)
    held = [name for name in RESULTS if (folder / name).exists()]
    return held + sorted(p.name for p in folder.glob("run*") if runs.results_in(p))


def sweep(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Train every configuration; return the rows, best validation accuracy first."""
    grid = list(itertools.product(args.lr, args.batch_sizes, args.momentum, args.weight_decay,
                                  args.width, args.depth))
    if args.random:
        rng = np.random.default_rng(args.seed)
        grid = [grid[i] for i in rng.choice(len(grid), min(args.random, len(grid)),
                                            replace=False)]
    out = _claim_folder(args)
    rows = []
    for i, (lr, bs, mom, wd, width, depth) in enumerate(grid):
        m = train(train_args(
            data=args.data, seed=args.seed, batch_size=bs, limit=args.limit, model=args.model,
            epochs=args.epochs, optimizer=args.optimizer, lr=lr, momentum=mom,
            weight_decay=wd, width=width, depth=depth, out=str(out / f"run{i}"),
            overwrite=args.overwrite))
        rows.append({"lr": lr, "batch_size": bs, "momentum": mom, "weight_decay": wd,
                     "width": width, "depth": depth, "val_accuracy": m["best_val_accuracy"],
                     "test_accuracy": m["test_accuracy"],
                     "seconds_per_epoch": m["seconds_per_epoch"]})
    rows.sort(key=lambda r: -r["val_accuracy"])
    with open(out / "sweep.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print("\n" + " ".join(f"{k:>14s}" for k in rows[0]))
    for r in rows:
        print(" ".join(f"{v!s:>14.6}" for v in r.values()))
    plots.sweep(rows, out / "sweep.png")
    print(f"outputs in {out}")
    return rows


def _claim_folder(args: argparse.Namespace) -> Path:
    if args.out is None:
        return runs.new_run_dir(RUNS_PARENT)
    out = Path(args.out)
    held = sweep_results_in(out)
    if held and not args.overwrite:
        raise FileExistsError(f"{out} already holds a sweep's results ({', '.join(held)}): "
                              "pass --overwrite to replace them, or another --out")
    out.mkdir(parents=True, exist_ok=True)
    if args.overwrite:
        runs.clear_results(out, RESULTS)
    return out
