"""A small pool of the large temporary arrays convolutions and pools need (patch matrices,
padded inputs, products before col2im's adds), so that a training step reuses the last
step's memory instead of asking the operating system for fresh pages.

Why: glibc's malloc returns a freed block of more than a few MiB to the operating system, so
the next step takes a page fault for every 4 KiB page of it again. The pool keeps those
blocks (keyed by shape and dtype, bounded in total size) inside the engine, with nothing for
the user to call; `keep_freed_memory()` reaches the same end for every array of the process.

Safety: the pool hands a buffer out again only when the pool holds the only reference to it
(its reference count says so). A buffer still held anywhere (by a Tensor, a saved array, a
view of it, a variable) is never handed out twice, so a pooled buffer can never alias an array
someone still uses. Callers use the buffer as an ordinary scratch array: its contents on
arrival are undefined.

`release_buffers()` frees what the pool holds; `set_buffer_limit()` bounds it (0 turns it off).

>>> import autodiff as ad
>>> ad.release_buffers() >= 0
True
"""

from __future__ import annotations

import math
import sys
import threading
from typing import Any

import numpy as np

__all__ = ["release_buffers", "set_buffer_limit"]

MIN_BYTES = 1 << 20  # smaller arrays: malloc reuses them without the pool's help
_limit = 256 << 20  # bytes the pool may hold
_pool: dict[tuple[tuple[int, ...], np.dtype], list[np.ndarray]] = {}  # oldest key first
_held = 0  # bytes in the pool
_lock = threading.Lock()


def _alone_count() -> int | None:
    """What sys.getrefcount gives for an array only a list holds (None: no reference counts
    on this interpreter, and so no pool)."""
    if not hasattr(sys, "getrefcount"):
        return None
    probe = [np.empty(1)]
    return sys.getrefcount(probe[0])


_ALONE = _alone_count()


def scratch(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialized C-contiguous array of `shape` and `dtype` that nothing else
    references: from the pool when a free one of this shape and dtype is there, else new
    (and kept by the pool for the next call, within its limit). For temporaries an op drops
    before it returns; one it returns or saves is safe too (it stays out of the pool's reach
    while referenced), but gains nothing.

    >>> from autodiff.buffers import scratch
    >>> scratch((2, 3), "float32").shape
    (2, 3)
    """
    global _held
    dtype = np.dtype(dtype)
    shape = tuple(shape)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < MIN_BYTES or nbytes > _limit or _ALONE is None:
        return np.empty(shape, dtype)
    key = (shape, dtype)
    with _lock:
        bufs = _pool.pop(key, None)
        if bufs is not None:
            _pool[key] = bufs  # most recently used last
            for i in range(len(bufs)):
                if sys.getrefcount(bufs[i]) == _ALONE:  # the pool holds the only reference
                    return bufs[i]
        buf = np.empty(shape, dtype)
        if _held + nbytes > _limit:
            _evict(_held + nbytes - _limit)
        if _held + nbytes <= _limit:
            _pool.setdefault(key, []).append(buf)
            _held += nbytes
        return buf


def _evict(need: int) -> None:
    """Forget the buffers of the least recently used shapes until `need` bytes are gone. (A
    forgotten buffer still in use stays its user's, and is freed when they drop it.)"""
    global _held
    while need > 0 and _pool:
        for b in _pool.pop(next(iter(_pool))):
            _held -= b.nbytes
            need -= b.nbytes


def release_buffers() -> int:
    """Let go of the temporary buffers the engine keeps for reuse (convolutions' and pools'
    patch matrices and padded inputs); returns the bytes released. Buffers still in use stay
    in use (the arrays that hold them are untouched) and are freed as usual once dropped. The
    next convolution allocates afresh, so call it after training, not between steps.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> _ = F.conv2d(ad.ones((64, 16, 28, 28)), ad.ones((16, 16, 3, 3)), padding=1)
    >>> ad.release_buffers() > 0
    True
    >>> ad.release_buffers()
    0
    """
    global _held
    with _lock:
        released = _held
        _pool.clear()
        _held = 0
    return released


def set_buffer_limit(nbytes: int) -> int:
    """Bound the bytes the pool of temporary buffers may hold (default 256 MiB; 0 turns the
    pool off); returns the previous bound. Lowering it releases what no longer fits.

    >>> import autodiff as ad
    >>> old = ad.set_buffer_limit(0)  # every temporary freshly allocated
    >>> ad.set_buffer_limit(old)
    0
    """
    global _limit
    if not isinstance(nbytes, int | np.integer) or nbytes < 0:
        raise ValueError(f"set_buffer_limit: nbytes must be an int >= 0, got {nbytes!r}")
    with _lock:
        previous, _limit = _limit, int(nbytes)
        if _held > _limit:
            _evict(_held - _limit)
    return previous


def held_bytes() -> int:
    """Bytes the pool holds now, in use or free.

    >>> from autodiff.buffers import held_bytes
    >>> held_bytes() >= 0
    True
    """
    return _held
