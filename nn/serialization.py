"""Safe checkpoints: nn.save / nn.load in .npz, without pickle.

A checkpoint is any nesting of dicts (string keys), lists and tuples whose leaves are arrays,
tensors, numbers, strings, booleans or None: model and optimizer state dicts, schedules, the
epoch, RNG states. Arrays are stored as named .npz entries; the structure is a JSON manifest
stored as a byte array, with a format marker and a version. Loading uses
`np.load(allow_pickle=False)`, so a file never runs code; a file that is not ours, truncated or
holding object arrays is refused with a ValueError naming the path and the reason. Saving writes
a temporary file in the same folder, flushes it to disk and renames it over the target
(`os.replace`), so a failed save leaves the previous file intact.

>>> import os, tempfile, numpy as np, nn
>>> path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
>>> nn.save({"epoch": 3, "w": np.ones(2, np.float32)}, path)
>>> nn.load(path)["epoch"], nn.load(path)["w"].dtype
(3, dtype('float32'))
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
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
    path = os.fspath(path)
    arrays: dict[str, np.ndarray] = {}
    manifest = {"format": FORMAT, "version": VERSION, "root": _encode(obj, arrays)}
    data = np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **{MANIFEST: data}, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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
