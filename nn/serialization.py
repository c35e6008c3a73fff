"""Safe checkpoints: nn.save / nn.load in .npz or .safetensors, without pickle.

A checkpoint is any nesting of dicts (string or integer keys), lists and tuples whose leaves are
arrays, tensors, numbers, strings, booleans or None: model and optimizer state dicts, schedules,
the epoch, RNG states. The path's suffix decides the format, and any other suffix is refused:

- `.npz`: arrays are named .npz entries; the structure is a JSON manifest stored as a byte
  array, with a format marker and a version. Loading uses `np.load(allow_pickle=False)`.
- `.safetensors`: arrays are the file's tensors, named by their dotted path (a state dict's
  names unchanged, so PyTorch reads it); the manifest is in the file's metadata, beside the
  caller's own `metadata` entries (`load_metadata` reads them). A .safetensors file from any
  other tool loads as a dict of its tensors by name. See nn._safetensors.

Either way a file never runs code, and a file that is not ours, truncated, crafted or holding
object arrays is refused with a ValueError naming the path and the reason.

Saving writes a temporary file named after the target (`.{name}.tmp-<random>.npz`, or
`.safetensors`) in the target's folder, holds an advisory lock on it while writing, flushes it
to disk, renames it over the target (`os.replace`) and flushes the folder, so a failed save
leaves the previous file intact and a finished one survives a power cut. A temporary that a
killed save left behind (the lock died with its process) is removed by the next save of the
same target. The file gets the permissions any new file gets under the umask (0644 usually), or
keeps those of the file it replaces; saving through a symbolic link replaces the file the link
points to, not the link.

>>> import os, tempfile, numpy as np, nn
>>> path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
>>> nn.save({"epoch": 3, "w": np.ones(2, np.float32)}, path)
>>> nn.load(path)["epoch"], nn.load(path)["w"].dtype
(3, dtype('float32'))
"""

from __future__ import annotations

import contextlib
import errno
import glob
import math
import os
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, BinaryIO

import numpy as np

from autodiff.exclusive_file import create_exclusive
from nn import _safetensors
from nn._manifest import MANIFEST, Arrays, decode, dumps, root_of

SUFFIXES = (".npz", ".safetensors")


def format_of(path: str | os.PathLike[str], verb: str = "save") -> str:
    """The format `path`'s suffix names (".npz" or ".safetensors", in any case), or a
    ValueError.

    >>> from nn.serialization import format_of
    >>> format_of("runs/x/best.SafeTensors")
    '.safetensors'
    >>> format_of("model.pt")
    Traceback (most recent call last):
    ...
    ValueError: save: model.pt: the suffix decides the format: .npz ... not '.pt'
    """
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1]
    if suffix.lower() not in SUFFIXES:
        raise ValueError(f"{verb}: {path}: the suffix decides the format: .npz (any checkpoint) "
                         "or .safetensors (any checkpoint; PyTorch reads a state dict saved "
                         f"so), not {suffix or 'no suffix'!r}")
    return suffix.lower()


def save(obj: Any, path: str | os.PathLike[str], *,
         metadata: Mapping[str, str] | None = None) -> None:
    """Write `obj` to `path` (.npz or .safetensors, by its suffix) atomically: the old file
    survives any failure. `metadata`: text entries for a .safetensors file's header, which
    other tools show and `load_metadata` reads (ValueError for .npz, which holds any value in
    `obj` itself).

    >>> import autodiff as ad, nn
    >>> import os, tempfile
    >>> model = nn.Linear(2, 1)
    >>> path = os.path.join(tempfile.mkdtemp(), 'model.safetensors')
    >>> nn.save(model.state_dict(), path, metadata={"note": "a linear layer"})
    >>> sorted(nn.load(path)), nn.load_metadata(path)
    (['bias', 'weight'], {'note': 'a linear layer'})
    """
    suffix = format_of(path)
    if suffix == ".safetensors":
        write = _safetensors.writer(obj, metadata)
    elif metadata is not None:
        raise ValueError(f"save: {os.fspath(path)}: metadata is for .safetensors files (a .npz "
                         "checkpoint holds any value in the saved object itself)")
    else:
        write = _npz_writer(obj)
    _write_atomically(os.path.realpath(os.fspath(path)), write, suffix)


def _npz_writer(obj: Any) -> Callable[[BinaryIO], None]:
    arrays = Arrays()
    manifest = np.frombuffer(dumps(obj, arrays).encode(), dtype=np.uint8)

    def write(f: BinaryIO) -> None:
        np.savez(f, **{MANIFEST: manifest}, **arrays)

    return write


def _write_atomically(target: str, write: Callable[[BinaryIO], None], suffix: str) -> None:
    """`write` into a temporary beside `target` (through a symlink: the file it points to),
    flushed, renamed over `target`, the folder flushed. A `target` that is a folder, or whose
    folder does not exist, is refused first, naming it (not the temporary)."""
    folder = os.path.dirname(target)
    if os.path.isdir(target):
        raise IsADirectoryError(errno.EISDIR, f"cannot write {target}: it is a folder", target)
    if not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, f"cannot write {target}: there is no folder "
                                f"{folder}", folder)
    _remove_stale_temporaries(target, suffix)
    with _temporary_for(target, suffix) as (f, tmp):
        write(f)
        f.flush()
        os.fsync(f.fileno())
        os.replace(tmp, target)
    _fsync_folder(folder)


def _temporary_pattern(target: str, suffix: str) -> tuple[str, str]:
    """The prefix and suffix of `target`'s temporaries: `.{name}.tmp-<random>{suffix}`."""
    folder, name = os.path.split(target)
    return os.path.join(folder, f".{name}.tmp-"), suffix


@contextlib.contextmanager
def _temporary_for(target: str, suffix: str) -> Iterator[tuple[Any, str]]:
    """A new temporary beside `target`, locked while open; removed unless it was renamed.

    Created with mode 0666 through the umask (as any new file), or with the mode of the file it
    will replace; mkstemp's 0600 would make checkpoints unlike every other output."""
    fd, tmp = create_exclusive(*_temporary_pattern(target, suffix))
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


def _remove_stale_temporaries(target: str, suffix: str) -> list[str]:
    """Remove the temporaries of `target` that no live save holds (a killed save's), and
    nothing else; return their paths."""
    prefix, suffix = _temporary_pattern(target, suffix)
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
    """Read a checkpoint written by `save` (.npz or .safetensors, by the suffix), or the
    tensors of any .safetensors file by name; refuse anything else without running code.

    >>> import autodiff as ad, nn
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), 'ckpt.npz')
    >>> nn.save({'w': ad.ones(2), 'epoch': 3}, path)
    >>> ckpt = nn.load(path)
    >>> ckpt['epoch'], ckpt['w']
    (3, array([1., 1.], dtype=float32))
    """
    path = os.fspath(path)
    if format_of(path, "load") == ".safetensors":
        return _safetensors.load(path)
    return _load_npz(path)


def load_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The text entries of a .safetensors file's metadata (`save(..., metadata=)`, or another
    tool's, such as PyTorch's `{"format": "pt"}`), without reading its tensors.

    >>> import os, tempfile, numpy as np, nn
    >>> path = os.path.join(tempfile.mkdtemp(), 'w.safetensors')
    >>> nn.save({'w': np.ones(2)}, path, metadata={'epoch': '3'})
    >>> nn.load_metadata(path)
    {'epoch': '3'}
    """
    path = os.fspath(path)
    if format_of(path, "load_metadata") != ".safetensors":
        raise ValueError(f"load_metadata: {path}: only .safetensors files have metadata (a .npz "
                         "checkpoint holds everything in what nn.load returns)")
    return _safetensors.metadata(path)


def _load_npz(path: str) -> Any:
    try:
        with np.load(path, allow_pickle=False) as z:
            if MANIFEST not in z.files:
                raise ValueError(f"load: {path} is not an autodiff-nn checkpoint (no manifest)")
            root = root_of(bytes(_entry(z, MANIFEST, path)), path)
            return decode(root, {k: _entry(z, k, path) for k in z.files if k != MANIFEST},
                          path)
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error, NotImplementedError,
            RuntimeError) as e:  # zipfile: a flipped flag asks for encryption or a method
        if isinstance(e, FileNotFoundError):  # it lacks (NotImplementedError, RuntimeError)
            raise
        raise ValueError(f"load: {path} is not a readable checkpoint (truncated or not .npz: "
                         f"{e})") from None
    except ValueError as e:
        if str(e).startswith("load:"):
            raise
        raise ValueError(f"load: {path} was refused: {e}") from None


def _entry(z: Any, key: str, path: str) -> np.ndarray:
    """The array of the .npz entry `key`, its header checked before anything is allocated: a
    NumPy array of a kind `save` writes (numbers, booleans), holding the bytes its shape needs
    (a crafted header can ask for terabytes in a few bytes). The member checked is the one
    `z[key]` reads (NumPy's rule: `key` itself if the zip has it, else `key.npy`), so that a
    crafted zip holding both cannot have one checked and the other read."""
    names = z.zip.namelist()
    member = key if key in names else key + ".npy"
    with z.zip.open(member) as f:
        try:
            version = np.lib.format.read_magic(f)
        except ValueError:  # not the .npy magic string, or shorter
            version = None
        read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read_header is None:
            raise ValueError(f"load: {path} was refused: entry {key!r} is not a NumPy array "
                             "that nn.save writes")
        shape, _, dtype = read_header(f)
        if dtype.kind not in "biufc":
            raise ValueError(f"load: {path} was refused: entry {key!r} holds {dtype} arrays, "
                             "which nn.save never writes")
        need, have = math.prod(shape) * dtype.itemsize, z.zip.getinfo(member).file_size - f.tell()
        if need > have:
            raise ValueError(f"load: {path} was refused: entry {key!r} announces shape {shape} "
                             f"of {dtype} ({need} bytes) but holds {have} bytes (crafted or "
                             "truncated)")
    return z[key]
