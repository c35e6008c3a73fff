"""`keep_freed_memory()`: let the next training step reuse the memory the last one freed.

A training step allocates and frees the same large arrays every step: patch matrices,
activations, gradients. glibc's malloc gives a freed block above its mmap threshold back to
the operating system and trims the top of its heap once enough is free there, so the next
step takes a page fault for every 4 KiB page it touches again (LeNet-5 at batch 64: about
2,900 a step; docs/performance.md has the times). The engine's own pool of convolution
temporaries (`autodiff.buffers`) removes most of them without this call.
`keep_freed_memory()` raises both thresholds (mallopt's M_MMAP_THRESHOLD to glibc's largest,
32 MiB, and M_TRIM_THRESHOLD to 1 GiB), so freed blocks stay in the process and are reused.
The process then keeps its peak memory, as a training process does anyway. PyTorch's CPU
tuning guide suggests another allocator (jemalloc, TCMalloc) for the same reason.

It changes the whole process, so nothing calls it on import: `python -m nn.vision train`
(the demo) and the benchmarks call it, and a training script may.

>>> import autodiff as ad
>>> ad.keep_freed_memory() in (True, False)  # False where the C library is not glibc
True
"""

from __future__ import annotations

import ctypes
import os

# mallopt's parameter numbers (glibc's malloc.h) and the values set.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's largest on 64-bit systems; blocks below it reuse the heap
TRIM_THRESHOLD = 1 << 30  # free space kept at the top of the heap before it is returned


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed blocks for reuse instead of returning them to the
    operating system. True when it took effect; False on another C library (macOS, musl),
    where nothing changes.

    >>> import autodiff as ad
    >>> isinstance(ad.keep_freed_memory(), bool)
    True
    """
    if not _is_glibc():
        return False
    libc = ctypes.CDLL(None)  # the C library the interpreter already uses
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def _is_glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (AttributeError, ValueError, OSError):  # no confstr, or no such name here
        return False
