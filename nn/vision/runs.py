"""Run folders and interrupts: where a run writes, and how it stops without losing anything.

- `new_run_dir("runs/train")` makes `runs/train/2026-12-01T14-03-22/` (`-2`, `-3`, ... when
  another run started in the same second) and points `runs/train/latest` at it: a symbolic
  link, or, where links cannot be made, a text file holding the folder's name
  (`resolve_run_dir` follows either).
- `results_in(folder)` names the results a folder already holds, which a new run must not
  overwrite unless asked to (`--overwrite`); `clear_results` removes them, and nothing else.
- `StopSignals()` turns SIGINT (Ctrl-C) and SIGTERM into a request the training loop reads
  after each step; a second signal stops at once (KeyboardInterrupt). The previous handlers come
  back on exit, and outside the main thread (where Python cannot set handlers) it does nothing.

>>> import tempfile
>>> from nn.vision import runs
>>> parent = tempfile.mkdtemp()
>>> first, second = runs.new_run_dir(parent, stamp="2026-12-01T14-03-22"), \\
...     runs.new_run_dir(parent, stamp="2026-12-01T14-03-22")
>>> first.name, second.name, runs.resolve_run_dir(f"{parent}/latest") == second
('2026-12-01T14-03-22', '2026-12-01T14-03-22-2', True)
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from autodiff.grad_mode import SavedPerThread

# any of them: a run's (model.onnx: `export`'s, of the run's best checkpoint)
RESULTS = ("best.npz", "best.safetensors", "last.npz", "metrics.json", "model.onnx")
OUTPUTS = (*RESULTS, "curves.png", "confusion.png", "graph.svg", "graph.dot")
LATEST = "latest"


def new_run_dir(parent: str | os.PathLike[str], stamp: str | None = None) -> Path:
    """A new, empty folder `parent/<local time>[-n]`, and `parent/latest` pointing at it.

    Made with an exclusive mkdir, so two runs started in the same second get two folders.

    >>> import tempfile
    >>> from nn.vision import runs
    >>> runs.new_run_dir(tempfile.mkdtemp(), stamp="2026-12-01T14-03-22").name
    '2026-12-01T14-03-22'
    """
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    stamp = stamp or _now()
    for n in range(1, 10_000):
        folder = parent / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        _point_latest(parent, folder.name)
        return folder
    raise FileExistsError(f"{parent}: 10,000 runs started at {stamp}")  # pragma: no cover


def _now() -> str:
    """The local time as a folder name (no colons: Windows refuses them)."""
    return time.strftime("%Y-%m-%dT%H-%M-%S")


def _point_latest(parent: Path, name: str) -> None:
    """Replace `parent/latest` (atomically) by a link to `name`, or a file holding it."""
    tmp = parent / f".{LATEST}.tmp-{secrets.token_hex(6)}"
    try:
        os.symlink(name, tmp, target_is_directory=True)
    except (OSError, NotImplementedError):  # no symlinks here (Windows without the right)
        tmp.write_text(name + "\n")
    try:
        os.replace(tmp, parent / LATEST)
    except OSError as e:  # `latest` is a folder of the user's: leave it
        tmp.unlink()
        print(f"note: could not point {parent / LATEST} at {name} ({e})", file=sys.stderr)


def resolve_run_dir(path: str | os.PathLike[str]) -> Path:
    """The run folder `path` names: itself, or the folder a `latest` link or text file
    points at (so that what is printed and saved stays right when `latest` moves on).

    >>> import tempfile
    >>> from pathlib import Path
    >>> from nn.vision import runs
    >>> parent = Path(tempfile.mkdtemp()); (parent / "run1").mkdir()
    >>> _ = (parent / "latest").write_text("run1\\n")
    >>> runs.resolve_run_dir(parent / "latest") == parent / "run1"
    True
    """
    path = Path(path)
    if path.is_symlink():
        return Path(os.path.normpath(path.parent / os.readlink(path)))
    if path.is_file() and path.stat().st_size < 4096:
        with contextlib.suppress(UnicodeDecodeError):
            named = path.parent / path.read_text().strip()
            if path.read_text().strip() and named.is_dir():
                return named
    return path


def results_in(folder: str | os.PathLike[str]) -> list[str]:
    """The results (`best.npz`, `best.safetensors`, `last.npz`, `metrics.json`, and
    `model.onnx`, which `export` writes beside them) `folder` holds.

    >>> import tempfile
    >>> from nn.vision import runs
    >>> runs.results_in(tempfile.mkdtemp())
    []
    """
    folder = Path(folder)
    return [name for name in RESULTS if (folder / name).exists()]


def clear_results(folder: str | os.PathLike[str], names: tuple[str, ...] = OUTPUTS
                  ) -> list[str]:
    """Remove a previous run's outputs from `folder` (`--overwrite`), no other file; return
    the names removed.

    >>> import tempfile
    >>> from pathlib import Path
    >>> from nn.vision import runs
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "metrics.json").write_text("{}"); _ = (folder / "notes.txt").write_text("")
    >>> runs.clear_results(folder), sorted(p.name for p in folder.iterdir())
    (['metrics.json'], ['notes.txt'])
    """
    removed = []
    for name in names:
        path = Path(folder) / name
        if path.is_file() or path.is_symlink():
            path.unlink()
            removed.append(name)
    return removed


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Replace `path` by `text` (UTF-8) as `nn.save` writes a checkpoint: a temporary beside it,
    flushed to disk, renamed over it, the folder flushed; so a run killed while writing, or a
    power cut, leaves the previous file or the new one, never half of one nor an empty one.

    >>> import tempfile
    >>> from pathlib import Path
    >>> from nn.vision import runs
    >>> path = Path(tempfile.mkdtemp()) / "metrics.json"
    >>> runs.write_text(path, "{}"); path.read_text()
    '{}'
    """
    from nn.serialization import _write_atomically

    target = os.path.realpath(os.fspath(path))
    _write_atomically(target, lambda f: f.write(text.encode()), os.path.splitext(target)[1])


class StopSignals:
    """While entered, SIGINT and SIGTERM ask to stop (`requested`, `signum`) instead of
    raising; a second signal raises KeyboardInterrupt at once. Restores the previous handlers.

    >>> import os, signal
    >>> from nn.vision import runs
    >>> with runs.StopSignals() as stop:
    ...     os.kill(os.getpid(), signal.SIGTERM)
    ...     stop.requested, stop.signum == signal.SIGTERM
    (True, True)
    >>> signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    True
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, quiet: bool = False) -> None:
        self.signum: int | None = None
        self.quiet = quiet
        # per thread, each open block's previous handlers (only the main thread sets any):
        # the object may be entered again inside its own block
        self._previous = SavedPerThread()

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def __enter__(self) -> StopSignals:
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for s in self.SIGNALS:
                previous[s] = signal.signal(s, self._handle)
        self._previous.push(previous)
        return self

    def __exit__(self, *exc: object) -> None:
        for s, handler in self._previous.pop_saved().items():
            signal.signal(s, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:  # (in the main thread): its innermost block's handlers
            for s, handler in self._previous[threading.get_ident()][-1].items():
                signal.signal(s, handler)
            raise KeyboardInterrupt
        self.signum = signum
        if not self.quiet:
            print(f"\n{signal.Signals(signum).name}: stopping after this step and saving "
                  "(again to stop at once, without saving)", file=sys.stderr, flush=True)


class Interrupted(KeyboardInterrupt):
    """Training stopped on a signal after saving `last.npz` in `run_dir`. A KeyboardInterrupt,
    so that code catching Exception (a search's trial runner) lets it through as it would
    Ctrl-C. `exit_code` is 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM.

    >>> import signal
    >>> from nn.vision import runs
    >>> runs.Interrupted(signal.SIGTERM, "runs/train/x").exit_code
    143
    """

    def __init__(self, signum: int, run_dir: str | os.PathLike[str]) -> None:
        super().__init__(f"{signal.Signals(signum).name}: run saved in {run_dir}")
        self.signum, self.run_dir = signum, Path(run_dir)
        self.exit_code = 128 + int(signum)
