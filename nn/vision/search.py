"""Hyperparameter search on Optuna: `python -m nn.vision search` (and `sweep`, a grid search).

    python -m nn.vision search --model mlp --data digits --trials 40 --jobs 2 --timeout 600 \\
        --lr 1e-4:1e-1 --batch-size 32,64,128 --momentum 0.8:0.99 --epochs 5 --out runs/search

The search space is given in `train`'s flags: one value fixes a hyperparameter, a list
(`32,64,128`, `sgd,adam`) is a choice, a range (`0.8:0.99`) is sampled, on a log scale with
`:log` (`1e-5:1e-2:log`); `--lr` ranges are on a log scale unless `:linear` says otherwise.
The study lives in `<out>/study.db` (SQLite), or in `--storage URL` (PostgreSQL, MySQL: one
study for several machines); the same command run again continues it, and `--jobs N` runs N
worker processes that share it. Each trial's `train` outputs go to `<out>/trials/<number>/`;
at the end `<out>` holds `search.csv`, Optuna's plots as PNG and `best/` (the outputs of the
best trial), and the ten best trials are printed.

Optuna is imported only by the functions that run a search, so `import nn` stays light.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import math
import multiprocessing
import os
import re
import shutil
import signal
import socket
import sys
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

import autodiff as ad
from nn.vision import build, cli, datasets, models, runs
from nn.vision import train as training

try:
    import fcntl
except ImportError:  # Windows: no folder lock (a second search on one folder is not refused)
    fcntl = None  # type: ignore[assignment]

STUDY_KEY = "nn.vision.search"  # the study's user attribute that records its search space
SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "hyperband", "none")

# -- the search space -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Dimension:
    """One hyperparameter of a search: a fixed value, a list of choices, or a range.

    `name` is `train`'s argument (`lr`, `batch_size`); a range runs from `low` to `high`
    (both included), on a log scale if `log`, over integers if `integer`.

    >>> lr = Dimension("lr", low=1e-4, high=1e-1, log=True)
    >>> str(lr), lr.fixed
    ('0.0001:0.1:log', False)
    >>> str(Dimension("batch_size", choices=(32, 64))), Dimension("epochs", choices=(5,)).fixed
    ('32,64', True)
    """

    name: str
    choices: tuple[Any, ...] = ()
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    integer: bool = False

    @property
    def fixed(self) -> bool:
        """One value, the same in every trial: not searched."""
        return len(self.choices) == 1

    @property
    def highest(self) -> Any:
        """The largest value a trial can get."""
        return max(self.choices) if self.choices else self.high

    def __str__(self) -> str:
        if self.choices:
            return ",".join(map(str, self.choices))
        return f"{self.low!r}:{self.high!r}:{'log' if self.log else 'linear'}"

    def suggest(self, trial: Any) -> Any:
        """This dimension's value in an Optuna trial (`trial.suggest_*`; a fixed value is
        returned as it is, not recorded as a parameter)."""
        if self.fixed:
            return self.choices[0]
        if self.choices:
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.integer:
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, log=self.log)


@dataclass(frozen=True)
class SearchFlag:
    """What one search flag accepts; argparse calls it on the flag's text (its `type=`).

    >>> lr = SearchFlag("lr", float, "numbers > 0", lambda v: v > 0, log=True)
    >>> lr("1e-4:1e-1")
    Dimension(name='lr', choices=(), low=0.0001, high=0.1, log=True, integer=False)
    >>> lr("1e-3,3e-3").choices
    (0.001, 0.003)
    >>> lr("1e-1:1e-4")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: got '1e-1:1e-4' (low must be below high); expected a value, ...
    """

    name: str  # train's argument
    kind: type  # float, int or str
    domain: str  # the allowed values, in words
    ok: Callable[[Any], bool] = lambda value: True
    log: bool = False  # a range's scale when the text does not say
    default: str | None = None
    help: str = ""

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def form(self) -> str:
        """The syntax, said in words (error messages and --help)."""
        if self.kind is str:
            return f"one or a list a,b of {self.domain}"
        scale = "log" if self.log else "linear"
        return f"a value, a list a,b,c or a range low:high[:log|:linear] ({scale} unless " \
               f"said) of {self.domain}"

    def __call__(self, text: str) -> Dimension:
        try:
            if ":" in text:
                return self._range(text)
            values = tuple(dict.fromkeys(self._value(t) for t in text.split(",")))
            return Dimension(self.name, choices=values)
        except ValueError as e:
            raise argparse.ArgumentTypeError(f"got {text!r} ({e}); expected {self.form()}") \
                from None

    def _value(self, text: str) -> Any:
        try:
            value = self.kind(text.strip())
        except ValueError:
            raise ValueError(f"{text.strip()!r} is not {_kind_words[self.kind]}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{text.strip()} is not finite")
        if not self.ok(value):
            raise ValueError(f"{text.strip()} is not allowed")
        return value

    def _range(self, text: str) -> Dimension:
        parts = text.split(":")
        scale = parts.pop() if len(parts) == 3 else ("log" if self.log else "linear")
        if self.kind is str:
            raise ValueError("names take a list, not a range")
        if len(parts) != 2 or scale not in ("log", "linear"):
            raise ValueError("a range is low:high, low:high:log or low:high:linear")
        low, high = (self._value(p) for p in parts)
        if not low < high:
            raise ValueError("low must be below high")
        if scale == "log" and low <= 0:
            raise ValueError("a log range needs low > 0")
        return Dimension(self.name, low=low, high=high, log=scale == "log",
                         integer=self.kind is int)


_kind_words = {float: "a number", int: "an integer", str: "a name"}


def _at_least_one(value: int) -> bool:
    return value >= 1


# train's flags and train's defaults (a flag not given keeps train's default, fixed)
FLAGS = (
    SearchFlag("lr", float, "numbers > 0", lambda v: v > 0, log=True, default="1e-4:1e-1",
               help="learning rate (default: the range 1e-4:1e-1, log scale)"),
    SearchFlag("batch_size", int, "integers >= 1", _at_least_one, default="64"),
    SearchFlag("momentum", float, "numbers in [0, 1)", lambda v: 0 <= v < 1, default="0.9",
               help="SGD/RMSprop momentum, Adam beta1"),
    SearchFlag("weight_decay", float, "numbers >= 0", lambda v: v >= 0, default="0.0"),
    SearchFlag("dropout", float, "numbers in [0, 1)", lambda v: 0 <= v < 1, default="0.0"),
    SearchFlag("width", int, "integers >= 1", _at_least_one, help="default: the model's"),
    SearchFlag("depth", int, "integers >= 1", _at_least_one, help="default: the model's"),
    SearchFlag("epochs", int, "integers >= 1", _at_least_one, default="10"),
    SearchFlag("optimizer", str, ", ".join(build.OPTIMIZERS),
               lambda v: v in build.OPTIMIZERS, default="adam"),
    SearchFlag("schedule", str, ", ".join(build.SCHEDULES), lambda v: v in build.SCHEDULES,
               default="cosine"),
)

# -- the command line -----------------------------------------------------------------------------


def _number(kind: type, ok: Callable[[Any], bool], domain: str) -> Callable[[str], Any]:
    """An argparse type: a finite number of `kind` for which `ok` holds."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"got {text!r}; expected {domain}") from None
        if not (math.isfinite(value) and ok(value)):
            raise argparse.ArgumentTypeError(f"got {text!r}; expected {domain}")
        return value

    return parse


def _url(text: str) -> str:
    if not re.match(r"^[a-z][a-z0-9+.-]*://", text):
        raise argparse.ArgumentTypeError(
            f"got {text!r}; expected a database URL, e.g. postgresql://user:password@host/db")
    return text


def add_search_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Define the `search` subcommand and its flags on `subparsers` (argparse's
    `add_subparsers()`); every flag is checked as it is parsed (exit status 2)."""
    s = subparsers.add_parser("search", help="hyperparameter search on Optuna",
                              description="Search train's hyperparameters with Optuna: "
                                          "give ranges and lists in train's flags.")
    s.add_argument("--model", choices=list(models.MODELS), default="lenet5")
    s.add_argument("--data", choices=list(datasets.DATASETS), default="mnist-5k")
    count = _number(int, lambda v: v >= 0, "an integer >= 0")
    s.add_argument("--seed", type=count, default=0, help="training and sampler seed")
    s.add_argument("--limit", type=count, default=0,
                   help="use only this many training and test images (quick runs)")
    s.add_argument("--val-fraction", type=_number(float, lambda v: 0 < v < 1, "a number in "
                   "(0, 1)"), default=0.1, help="part of the training set held out")
    s.add_argument("--augment", action="store_true")
    for f in FLAGS:
        s.add_argument(f.flag, type=f, default=f.default, help=f"{f.help}; {f.form()}"
                       if f.help else f.form())
    positive = _number(int, lambda v: v >= 1, "an integer >= 1")
    s.add_argument("--trials", type=positive, default=None,
                   help="trials to finish, counting those of earlier runs (default 20; with "
                        "--sampler grid, the grid's size at most, and by default)")
    s.add_argument("--jobs", type=positive, default=1, help="worker processes")
    s.add_argument("--timeout", type=_number(float, lambda v: v > 0, "seconds > 0"),
                   default=None, help="start no trial after this many seconds")
    s.add_argument("--sampler", choices=SAMPLERS, default="tpe")
    s.add_argument("--pruner", choices=PRUNERS, default="median")
    s.add_argument("--pruner-startup", type=count, default=5,
                   help="completed trials before the median pruner prunes (default 5)")
    s.add_argument("--storage", type=_url, default=None,
                   help="a database URL Optuna accepts (default: sqlite:///<out>/study.db)")
    s.add_argument("--study", default=None, help="the study's name (default: --out's name)")
    s.add_argument("--out", default="runs/search")
    return s


def sweep_argv(args: argparse.Namespace) -> list[str]:
    """The `search` command line of a `sweep` command line: a grid over its lists, every
    configuration trained in full (no pruning); `--random N` runs N of them, drawn without
    repetition.

    >>> from argparse import Namespace
    >>> sweep_argv(Namespace(model="mlp", data="digits", seed=0, limit=200, epochs=1,
    ...     optimizer="adam", lr=[1e-3, 1e-2], batch_sizes=[64], momentum=[0.9],
    ...     weight_decay=[0.0], width=[None], depth=[None], random=0, out="runs/sweep"))
    ... # doctest: +NORMALIZE_WHITESPACE
    ['search', '--sampler', 'grid', '--pruner', 'none', '--model', 'mlp', '--data', 'digits',
     '--seed', '0', '--limit', '200', '--epochs', '1', '--optimizer', 'adam',
     '--out', 'runs/sweep', '--lr', '0.001,0.01', '--batch-size', '64', '--momentum', '0.9',
     '--weight-decay', '0.0', '--trials', '2']
    """
    argv = ["search", "--sampler", "grid", "--pruner", "none", "--model", args.model,
            "--data", args.data, "--seed", str(args.seed), "--limit", str(args.limit),
            "--epochs", str(args.epochs), "--optimizer", args.optimizer, "--out", args.out]
    lists = {"--lr": args.lr, "--batch-size": args.batch_sizes, "--momentum": args.momentum,
             "--weight-decay": args.weight_decay, "--width": args.width, "--depth": args.depth}
    for flag, values in lists.items():
        if values != [None]:
            argv += [flag, ",".join(map(str, values))]
    grid = math.prod(len(set(values)) for values in lists.values())
    return [*argv, "--trials", str(min(args.random, grid) if args.random else grid)]


# -- the plan: a search as the command line gives it, checked -------------------------------------


@dataclass(frozen=True)
class Plan:
    """A search as the command line gives it: what the study and every worker process (which
    gets a copy) need to know."""

    out: str
    storage: str  # an SQLAlchemy URL
    study: str
    embedded: bool  # the storage is <out>/study.db, which this folder owns
    space: tuple[Dimension, ...]  # every flag of FLAGS, the fixed ones included
    train_flags: tuple[str, ...]  # the rest of train's command line, the same for every trial
    trials: int
    jobs: int
    timeout: float | None
    sampler: str
    pruner: str
    pruner_startup: int
    seed: int

    @property
    def searched(self) -> list[Dimension]:
        return [d for d in self.space if not d.fixed]


def _fail(message: str, code: int) -> NoReturn:
    print(f"python -m nn.vision search: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def make_plan(args: argparse.Namespace) -> Plan:
    """Check what the flags mean together (exit status 2 and one line if they cannot be
    searched) and fill in the defaults that depend on other flags."""
    space = tuple(getattr(args, f.name) or Dimension(f.name, choices=(None,)) for f in FLAGS)
    searched = [d for d in space if not d.fixed]
    ranges = [d for d in searched if not d.choices]
    if args.sampler == "grid" and ranges:
        flag = "--" + ranges[0].name.replace("_", "-")
        _fail(f"--sampler grid needs a list of values for every searched flag: {flag} is the "
              f"range {ranges[0]} (give a list, e.g. {flag} {ranges[0].low},{ranges[0].high})",
              2)
    if args.sampler != "grid" and not searched:
        _fail("nothing to search: every flag has one value; give a range or a list, e.g. "
              "--lr 1e-4:1e-1", 2)
    if args.model in build.FIXED_DEPTH and args.depth is not None:
        _fail(f"--depth: {args.model} has a fixed depth (--depth applies to resnet8, resnet20, "
              "mobilenet, mlp)", 2)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        _fail(f"--out {out} is a file, not a folder", 2)
    grid = math.prod(len(d.choices) for d in searched) if args.sampler == "grid" else 0
    trials = min(args.trials or grid, grid) if grid else args.trials or 20
    train_flags = ("--model", args.model, "--data", args.data, "--seed", str(args.seed),
                   "--limit", str(args.limit), "--val-fraction", str(args.val_fraction),
                   *(["--augment"] if args.augment else []))
    return Plan(out=str(out.resolve()),
                storage=args.storage or f"sqlite:///{out.resolve() / 'study.db'}",
                study=args.study or out.resolve().name, embedded=args.storage is None,
                space=space, train_flags=train_flags, trials=trials, jobs=args.jobs,
                timeout=args.timeout, sampler=args.sampler, pruner=args.pruner,
                pruner_startup=args.pruner_startup, seed=args.seed)


# -- the study ------------------------------------------------------------------------------------


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:
        _fail("the search needs Optuna: pip install 'autodiff-nn[vision]' (or pip install "
              "optuna)", 1)
    return optuna


def _masked(url: str) -> str:
    """The URL without its password, to print."""
    return re.sub(r"(://[^/:@]*:)[^/@]*@", r"\1***@", url)


def _storage(plan: Plan) -> Any:
    """SQLite waits up to a minute for a lock (workers write at once); a shared database gets
    heartbeats, so that the trials of a worker that died are marked failed by the others."""
    optuna = _optuna()
    if plan.storage.startswith("sqlite"):
        return optuna.storages.RDBStorage(plan.storage,
                                          engine_kwargs={"connect_args": {"timeout": 60}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(plan.storage, heartbeat_interval=60,
                                          grace_period=180)


def _sampler(plan: Plan, key: tuple[int, ...]) -> Any:
    """Grid: one shuffled order shared by all workers (trial n takes grid point n); TPE and
    random: a seed of each worker's own (`key`), or all would suggest the same values."""
    optuna = _optuna()
    if plan.sampler == "grid":
        space = {d.name: list(d.choices) for d in plan.searched}
        return optuna.samplers.GridSampler(space, seed=plan.seed)
    seed = int(np.random.SeedSequence([plan.seed, *key]).generate_state(1)[0])
    if plan.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def _pruner(plan: Plan) -> Any:
    optuna = _optuna()
    if plan.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=plan.pruner_startup)
    if plan.pruner == "hyperband":
        epochs = next(d for d in plan.space if d.name == "epochs")
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=int(epochs.highest))
    return optuna.pruners.NopPruner()


def _load(plan: Plan, key: tuple[int, ...] = (0, 0), *, create: bool = False) -> Any:
    optuna = _optuna()
    kwargs = {"study_name": plan.study, "storage": _storage(plan),
              "sampler": _sampler(plan, key), "pruner": _pruner(plan)}
    if create:
        return optuna.create_study(direction="maximize", load_if_exists=True, **kwargs)
    return optuna.load_study(**kwargs)


def _open(plan: Plan) -> Any:
    """Create the study, or load it if it exists and searches the same space."""
    import sqlalchemy.exc

    try:
        study = _load(plan, create=True)
    except ImportError as e:  # the database's driver
        _fail(f"--storage {_masked(plan.storage)}: {e} (for PostgreSQL: pip install "
              "'autodiff-nn[postgres]')", 1)
    except sqlalchemy.exc.SQLAlchemyError as e:
        _fail(f"--storage {_masked(plan.storage)}: {str(e).splitlines()[0]}", 1)
    _check_same_search(study, plan)
    return study


def _check_same_search(study: Any, plan: Plan) -> None:
    """A study continues only with the search that started it: the same space, the same
    training flags (--trials, --jobs, --timeout, --sampler and --pruner may change)."""
    config = {"space": {d.name: str(d) for d in plan.space}, "train": list(plan.train_flags)}
    saved = study.user_attrs.get(STUDY_KEY)
    if saved is None and study.trials:
        _fail(f"study {plan.study!r} in {_masked(plan.storage)} was not made by this command; "
              "choose another --study", 2)
    if saved is None:
        study.set_user_attr(STUDY_KEY, config)
        return
    changed = [f"--{k.replace('_', '-')} {saved['space'][k]} (now {v})"
               for k, v in config["space"].items() if saved["space"].get(k) != v]
    if saved["train"] != config["train"]:
        changed.append(f"{' '.join(saved['train'])} (now {' '.join(config['train'])})")
    if changed:
        _fail(f"study {plan.study!r} was started with {'; '.join(changed)}: give the study's "
              "flags to continue it, or another --out or --study", 2)


def _finished(study: Any) -> int:
    """Trials that count toward --trials: completed or pruned (a failed one does not)."""
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,
                                                         TrialState.PRUNED)))


def _fail_interrupted(study: Any) -> None:
    """Mark failed the trials a killed search left running (called holding the folder's lock:
    no other process of this folder runs a trial)."""
    from optuna.trial import TrialState

    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(t.number, state=TrialState.FAIL)
        print(f"trial {t.number} was left running by a search that was killed: marked failed")


@contextlib.contextmanager
def _own_folder(out: Path) -> Iterator[None]:
    """Hold `<out>/search.lock` while the search runs (released by the kernel if the process
    dies): a second search on the folder is refused."""
    if fcntl is None:
        yield
        return
    with open(out / "search.lock", "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            _fail(f"another search (pid {f.read().strip() or '?'}) is running in {out}: wait "
                  "for it, or stop it and run the command again with the --jobs you want", 1)
        f.truncate(0)
        f.write(str(os.getpid()))
        f.flush()
        yield


# -- the workers ----------------------------------------------------------------------------------


def _train_args(plan: Plan, values: dict[str, Any], out: Path) -> argparse.Namespace:
    """`train`'s arguments for one trial, parsed by train's own parser (its defaults and its
    checks for every flag the search does not set)."""
    argv = ["train", *plan.train_flags, "--out", str(out), "--no-progress"]
    for name, value in values.items():
        if value is not None:
            argv += ["--" + name.replace("_", "-"), str(value)]
    args = cli.build_parser().parse_args(argv)
    cli.CHECKS["train"](args.command_parser, args)  # train's defaults, and its refusals
    return args


def _objective(plan: Plan, trial: Any) -> float:
    """Train one configuration into `<out>/trials/<number>/` (what it prints goes to log.txt
    there); report each epoch's validation accuracy, and stop when the pruner says so."""
    import optuna

    out = Path(plan.out) / "trials" / str(trial.number)
    args = _train_args(plan, {d.name: d.suggest(trial) for d in plan.space}, out)
    trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")

    def report(epoch: int, val_accuracy: float) -> None:
        trial.report(val_accuracy, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned(f"validation accuracy {val_accuracy:.2%} at epoch {epoch}")

    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            metrics = training.train(args, on_epoch=report)
    finally:
        out.mkdir(parents=True, exist_ok=True)
        (out / "log.txt").write_text(log.getvalue())
    trial.set_user_attr("test_accuracy", metrics["test_accuracy"])
    return float(metrics["best_val_accuracy"])


class _Signals:
    """SIGINT and SIGTERM in a worker: during a trial they interrupt it at once (Optuna marks
    it failed, without logging the interruption's traceback); between trials, while Optuna
    writes to the storage, they only stop the worker before its next trial."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.in_trial = False

    def __call__(self, signum: int, frame: Any) -> None:
        self.signum = signum
        if self.in_trial:
            _optuna().logging.set_verbosity(_optuna().logging.ERROR)
            raise KeyboardInterrupt(signum)

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        verbosity = _optuna().logging.get_verbosity()
        previous = {s: signal.signal(s, self) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
            _optuna().logging.set_verbosity(verbosity)

    def trial(self, objective: Callable[[Any], float]) -> Callable[[Any], float]:
        def interruptible(trial: Any) -> float:
            self.in_trial = True
            try:
                return objective(trial)
            except runs.Interrupted as stop:  # train's own handler saved the trial, then stopped
                self.signum = stop.signum
                _optuna().logging.set_verbosity(_optuna().logging.ERROR)
                raise KeyboardInterrupt(stop.signum) from None
            finally:
                self.in_trial = False

        return interruptible


def _die_with(parent: int) -> None:
    """On Linux a worker gets SIGTERM when the search process dies, even by SIGKILL
    (elsewhere it stops before its next trial)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        raise SystemExit(0)


def _work(plan: Plan, worker: int, budget: Any, deadline: float | None, parent: int | None,
          start: int) -> None:
    """One worker: run trials one at a time while the budget (this run's trials left, shared
    by its workers), the deadline, the study's --trials and the signals allow. `parent` is
    the search process's id in a worker process, None in the search process itself, where a
    signal ends in KeyboardInterrupt(signal number)."""
    if parent is not None:
        _die_with(parent)
        ad.keep_freed_memory()
    study = _load(plan, (worker, start))
    signals = _Signals()
    objective = signals.trial(functools.partial(_objective, plan))
    try:
        with signals.installed():
            while (signals.signum is None
                   and (deadline is None or time.time() < deadline)
                   and (parent is None or os.getppid() == parent)
                   and _finished(study) < plan.trials and budget.acquire(False)):
                study.optimize(objective, n_trials=1, catch=(Exception,))
    except KeyboardInterrupt:
        if parent is None:
            raise
    if signals.signum is not None and parent is None:
        raise KeyboardInterrupt(signals.signum)


def _run(plan: Plan, todo: int, start: int) -> None:
    """Run `todo` trials on min(--jobs, todo) workers: the search process itself for one,
    else worker processes (spawned: no state copied from this one). SIGTERM, like Ctrl-C,
    raises KeyboardInterrupt(signal number) here once the workers have stopped."""
    deadline = time.time() + plan.timeout if plan.timeout else None
    workers = min(plan.jobs, todo)
    if workers <= 1:
        _work(plan, 0, threading.Semaphore(todo), deadline, None, start)
        return
    context = multiprocessing.get_context("spawn")
    budget = context.Semaphore(todo)
    procs = [context.Process(target=_work, name=f"search-worker-{i}",
                             args=(plan, i, budget, deadline, os.getpid(), start))
             for i in range(workers)]
    with _blas_threads(max(1, (os.cpu_count() or 1) // workers)):
        for p in procs:
            p.start()
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        for p in procs:
            p.join()
    finally:
        signal.signal(signal.SIGTERM, previous)
        for p in procs:
            if p.is_alive():
                p.terminate()  # SIGTERM: its trial is marked failed, and it exits
        for p in procs:
            p.join(timeout=60)


@contextlib.contextmanager
def _blas_threads(n: int) -> Iterator[None]:
    """The processes started here use n BLAS threads each, unless the environment says: two
    workers of two threads each on two cores made every LeNet-5 trial 2.5x slower."""
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update({name: saved[name] or str(n) for name in names})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                del os.environ[name]


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(signum)


# -- the outputs ----------------------------------------------------------------------------------

PLOTS = {"history": "plot_optimization_history", "importances": "plot_param_importances",
         "parallel_coordinate": "plot_parallel_coordinate", "slice": "plot_slice"}


def _rows(study: Any, plan: Plan) -> list[dict[str, Any]]:
    """One row per trial, in trial order: its parameters, state, best validation accuracy,
    test accuracy (completed trials), epochs run and seconds."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        steps = list(t.intermediate_values.values())
        rows.append({"number": t.number, "state": t.state.name.lower(),
                     **{d.name: t.params.get(d.name) for d in plan.searched},
                     "val_accuracy": max(steps) if steps else None,
                     "test_accuracy": t.user_attrs.get("test_accuracy"), "epochs": len(steps),
                     "seconds": round(t.duration.total_seconds(), 2) if t.duration else None})
    return rows


def _write_csv(rows: list[dict[str, Any]], plan: Plan) -> Path:
    import csv

    path = Path(plan.out) / "search.csv"
    names = ["number", "state", *(d.name for d in plan.searched), "val_accuracy",
             "test_accuracy", "epochs", "seconds"]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=names)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _plot(study: Any, plan: Plan) -> list[Path]:
    """Optuna's matplotlib plots as PNG; parameter importances need two completed trials."""
    from optuna.trial import TrialState

    complete = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    if not complete or not plan.searched:
        print("no plots: no completed trial" if not complete else "no plots: nothing searched")
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as vis

    paths = []
    for name, function in PLOTS.items():
        if name == "importances" and complete < 2:
            print("no importances.png: it needs two completed trials")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Optuna calls these plots experimental
            axes = getattr(vis, function)(study, target_name="validation accuracy")
            figure = np.ravel(axes)[0].figure
        paths.append(Path(plan.out) / f"{name}.png")
        figure.savefig(paths[-1], dpi=100, bbox_inches="tight")
        plt.close(figure)
    return paths


def _copy_best(study: Any, plan: Plan) -> Path | None:
    """Copy the best completed trial's train outputs to `<out>/best/` (if it ran here)."""
    from optuna.trial import TrialState

    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        return None
    best = study.best_trial
    source, target = Path(plan.out) / "trials" / str(best.number), Path(plan.out) / "best"
    if not (source / "metrics.json").exists():
        host = best.user_attrs.get("worker", "?:").rsplit(":", 1)[0]
        print(f"the best trial, {best.number}, ran on {host}: its train outputs are in that "
              f"machine's --out folder, trials/{best.number}")
        return None
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    return target


def _cell(value: Any) -> str:
    return "-" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


def _print_table(rows: list[dict[str, Any]], plan: Plan) -> None:
    """The trials by state, then the ten best completed ones."""
    states = Counter(r["state"] for r in rows)
    print(f"\n{len(rows)} trials: " + ", ".join(f"{n} {s}" for s, n in states.items()))
    best = sorted((r for r in rows if r["state"] == "complete"),
                  key=lambda r: -r["val_accuracy"])[:10]
    if not best:
        return
    names = ["number", "val_accuracy", "test_accuracy", *(d.name for d in plan.searched),
             "epochs", "seconds"]
    cells = [[_cell(r[n]) for n in names] for r in best]
    widths = [max(len(n), *(len(c[i]) for c in cells)) for i, n in enumerate(names)]
    print(f"the {len(best)} best, by validation accuracy:")
    for line in [names, *cells]:
        print("  ".join(c.rjust(w) for c, w in zip(line, widths)))


def _report(study: Any, plan: Plan) -> list[dict[str, Any]]:
    rows = _rows(study, plan)
    _write_csv(rows, plan)
    _plot(study, plan)
    best = _copy_best(study, plan)
    _print_table(rows, plan)
    if best is not None:
        print(f"outputs in {plan.out}: search.csv, the plots, and best/ (trial "
              f"{study.best_trial.number}'s train outputs)")
    return rows


# -- the commands ---------------------------------------------------------------------------------


def search(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run, or continue, the search the command line describes; write the outputs and return
    the rows of search.csv (one dict per trial, in trial order)."""
    plan = make_plan(args)
    _optuna()
    out = Path(plan.out)
    out.mkdir(parents=True, exist_ok=True)
    with _own_folder(out) if plan.embedded else contextlib.nullcontext():
        study = _open(plan)
        if plan.embedded:
            _fail_interrupted(study)
        done = _finished(study)
        todo = max(plan.trials - done, 0)
        print(f"study {plan.study!r} in {_masked(plan.storage)}: {done} of {plan.trials} "
              f"trials done" + (f"; {todo} more on {min(plan.jobs, todo)} worker(s)"
                                if todo else ""), flush=True)
        try:
            _run(plan, todo, len(study.trials))
        except KeyboardInterrupt as e:  # Ctrl-C or SIGTERM: the running trials marked failed
            _write_csv(_rows(study, plan), plan)
            print(f"interrupted: {_finished(study)} of {plan.trials} trials done, listed in "
                  f"{out / 'search.csv'}; run the same command again to continue",
                  file=sys.stderr)
            raise SystemExit(143 if e.args == (signal.SIGTERM,) else 130) from None
        return _report(study, plan)


def sweep(args: argparse.Namespace) -> list[dict[str, Any]]:
    """`python -m nn.vision sweep ...`: `search --sampler grid --pruner none` over the sweep's
    lists (see `sweep_argv`); returns `search`'s rows."""
    return search(cli.build_parser().parse_args(sweep_argv(args)))
