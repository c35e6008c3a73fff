"""Safe checkpoints: nn.save / nn.load in .npz, without pickle.

A checkpoint is any nesting of dicts (string keys), lists and tuples whose leaves are arrays,
tensors, numbers, strings, booleans or None: model and optimizer state dicts, schedules, the
epoch, RNG states. Arrays are stored as named .npz entries; the structure is a JSON manifest
stored as a byte array, with a format marker and a version. Loading uses
`np.load(allow_pickle=False)`, so a file never runs code; a file that is not ours, truncated or
holding object arrays is refused with a ValueError naming the path and the reason.

Saving writes a temporary file named after the target (`.{name}.tmp-<random>.npz`) in the
target's folder, holds an advisory lock on it while writing, flushes it to disk, renames it over
the target (`os.replace`) and flushes the folder, so a failed save leaves the previous file
intact and a finished one survives a power cut. A temporary that a killed save left behind (the
lock died with its process) is removed by the next save of the same target. The file gets the
permissions any new file gets under the umask (0644 usually), or keeps those of the file it
replaces; saving through a symbolic link replaces the file the link points to, not the link.

>>> import os, tempfile, numpy as np, nn
>>> path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
>>> nn.save({"epoch": 3, "w": np.ones(2, np.float32)}, path)
>>> nn.load(path)["epoch"], nn.load(path)["w"].dtype
(3, dtype('float32'))
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import secrets
import stat
import zipfile
from collections.abc import Iterator
from typing import Any

import numpy as np

from autodiff import Tensor

FORMAT = "autodiff-nn-checkpoint"
VERSION = 1
MANIFEST = "__manifest__"


def _encode(obj: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(obj, Tensor):
        obj = obj.data
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biufc":
            raise TypeError(f"save: arrays of dtype {obj.dtype} cannot be saved safely")
        key = f"a{len(arrays)}"
        arrays[key] = obj
        return {"__array__": key}
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, dict):
        for k in obj:
            if not isinstance(k, str):
                raise TypeError(f"save: dict keys must be strings, got {type(k).__name__} {k!r}")
        return {"__dict__": {k: _encode(v, arrays) for k, v in obj.items()}}
    if isinstance(obj, list | tuple):
        return {"__list__" if isinstance(obj, list) else "__tuple__":
                [_encode(v, arrays) for v in obj]}
    raise TypeError(f"save: cannot save an object of type {type(obj).__name__} (only dicts, "
                    "lists, tuples, arrays, tensors, numbers, strings, booleans and None)")


def _decode(obj: Any, arrays: Any, path: str) -> Any:
    if isinstance(obj, dict):
        if "__array__" in obj:
            key = obj["__array__"]
            if key not in arrays.files:
                raise ValueError(f"load: {path}: the manifest names array {key!r} which the file "
                                 "does not hold (truncated or edited?)")
            return arrays[key]
        if "__dict__" in obj:
            return {k: _decode(v, arrays, path) for k, v in obj["__dict__"].items()}
        if "__list__" in obj:
            return [_decode(v, arrays, path) for v in obj["__list__"]]
        if "__tuple__" in obj:
            return tuple(_decode(v, arrays, path) for v in obj["__tuple__"])
        raise ValueError(f"load: {path}: unknown entry in the manifest")
    return obj


def save(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write `obj` to `path` (.npz) atomically: the old file survives any failure.

    >>> import autodiff as ad, nn
    >>> import os, tempfile
    >>> model = nn.Linear(2, 1)
    >>> path = os.path.join(tempfile.mkdtemp(), 'model.npz')
    >>> nn.save(model.state_dict(), path)
    >>> sorted(nn.load(path))
    ['bias', 'weight']
    """
    target = os.path.realpath(os.fspath(path))  # through a symlink: the file it points to
    arrays: dict[str, np.ndarray] = {}
    manifest = {"format": FORMAT, "version": VERSION, "root": _encode(obj, arrays)}
    data = np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)
    _remove_stale_temporaries(target)
    with _temporary_for(target) as (f, tmp):
        np.savez(f, **{MANIFEST: data}, **arrays)
        f.flush()
        os.fsync(f.fileno())
        os.replace(tmp, target)
    _fsync_folder(os.path.dirname(target))


def _temporary_pattern(target: str) -> tuple[str, str]:
    """The prefix and suffix of `target`'s temporaries: `.{name}.tmp-<random>.npz`."""
    folder, name = os.path.split(target)
    return os.path.join(folder, f".{name}.tmp-"), ".npz"


@contextlib.contextmanager
def _temporary_for(target: str) -> Iterator[tuple[Any, str]]:
    """A new temporary beside `target`, locked while open; removed unless it was renamed.

    Created with mode 0666 through the umask (as any new file), or with the mode of the file it
    will replace; mkstemp's 0600 would make checkpoints unlike every other output."""
    prefix, suffix = _temporary_pattern(target)
    while True:
        tmp = f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                         0o666)
            break
        except FileExistsError:  # pragma: no cover - 48 random bits
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            _lock(f.fileno(), wait=True)  # a cleaner that came between open and lock would
            # take it for stale: this save then fails in os.replace, the target intact
            with contextlib.suppress(FileNotFoundError):
                mode = stat.S_IMODE(os.stat(target).st_mode)
                if hasattr(os, "fchmod"):
                    os.fchmod(f.fileno(), mode)
            yield f, tmp
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _lock(fd: int, wait: bool) -> bool:
    """An exclusive advisory lock on `fd` (flock: held until the file is closed or its process
    dies, kill -9 included); False if another open file holds it. True where flock is missing
    (Windows), which then cannot tell a live writer's temporary from a stale one."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def _remove_stale_temporaries(target: str) -> list[str]:
    """Remove the temporaries of `target` that no live save holds (a killed save's), and
    nothing else; return their paths."""
    prefix, suffix = _temporary_pattern(target)
    removed = []
    for tmp in glob.glob(glob.escape(prefix) + "*" + glob.escape(suffix)):
        try:
            fd = os.open(tmp, os.O_RDONLY)
        except OSError:  # gone meanwhile, or not ours to read
            continue
        try:
            if _lock(fd, wait=False):
                os.unlink(tmp)
                removed.append(tmp)
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)
    return removed


def _fsync_folder(folder: str) -> None:
    """Flush the folder's entry list, so that the rename survives a power cut (POSIX only:
    Windows cannot open a folder)."""
    if os.name != "posix":  # pragma: no cover
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load(path: str | os.PathLike[str]) -> Any:
    """Read a checkpoint written by `save`; refuse anything else without running code.

    >>> import autodiff as ad, nn
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), 'ckpt.npz')
    >>> nn.save({'w': ad.ones(2), 'epoch': 3}, path)
    >>> ckpt = nn.load(path)
    >>> ckpt['epoch'], ckpt['w']
    (3, array([1., 1.], dtype=float32))
    """
    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            if MANIFEST not in z.files:
                raise ValueError(f"load: {path} is not an autodiff-nn checkpoint (no manifest)")
            try:
                manifest = json.loads(bytes(z[MANIFEST]).decode())
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                raise ValueError(f"load: {path}: the manifest is corrupt ({e})") from None
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise ValueError(f"load: {path} is not an autodiff-nn checkpoint")
            if manifest.get("version") != VERSION:
                raise ValueError(f"load: {path} has checkpoint version "
                                 f"{manifest.get('version')}, this library reads {VERSION}")
            return _decode(manifest["root"], z, path)
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise ValueError(f"load: {path} is not a readable checkpoint (truncated or not .npz: "
                         f"{e})") from None
    except ValueError as e:
        if str(e).startswith("load:"):
            raise
        raise ValueError(f"load: {path} was refused: {e}") from None
