"""The engine's own threads: a loop over independent chunks of work (the samples of a batch,
the kernel offsets of a convolution) spread over the machine's cores.

Why: NumPy's ufuncs and matrix products release the GIL, but one call runs on one core, and
the many small products of a convolution (one per sample) are too small for OpenBLAS's own
threads to pay. Splitting the batch over threads, each calling NumPy on its own chunk, uses
every core.

- Nothing to call: the convolutions run their per-sample and per-offset products on it.
- The thread count is the cores this process may run on, lowered by any explicit limit in
  the environment (`OPENBLAS_NUM_THREADS`, `OMP_NUM_THREADS`, `MKL_NUM_THREADS`): with one
  of them at 1, everything runs on the calling thread, as before.
- Deterministic: the chunks are the same whatever the thread count, each writes its own part
  of the output, and a sum over chunks is added afterwards in a fixed order; so the results are
  the same bit for bit on one thread or many.
- Chunks are handed out one at a time, so a thread that gets no core (a busy machine) leaves
  its share to the others instead of holding everyone up.
- While chunks run on several threads, OpenBLAS runs each product on its calling thread (its
  thread count set to 1, then restored): its own threads would compete with the chunks'
  threads for the same cores (and spin while waiting).

>>> from autodiff.parallel import parallel_for
>>> out = [0] * 4
>>> parallel_for(lambda i: out.__setitem__(i, i * i), 4)
>>> out
[0, 1, 4, 9]
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

__all__ = ["chunks_of", "for_samples", "num_threads", "parallel_for"]

LIMIT_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_threads: int | None = None
_executor: ThreadPoolExecutor | None = None
_setup = threading.Lock()
_inside = threading.local()  # .active: this thread is running chunks (no nested splitting)


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _from_environment() -> int:
    """The cores, lowered by the smallest thread limit the environment sets."""
    limits = [_cores()]
    for var in LIMIT_VARIABLES:
        try:
            limits.append(int(os.environ.get(var, "").split(",")[0]))
        except ValueError:
            continue  # unset or not a number: no limit from it
    return max(1, min(limits))


def num_threads() -> int:
    """The threads `parallel_for` uses (read from the environment on first use).

    >>> from autodiff.parallel import num_threads
    >>> num_threads() >= 1
    True
    """
    global _threads
    if _threads is None:
        _threads = _from_environment()
    return _threads


def _forget_threads() -> None:
    """In a forked child: the parent's threads do not exist there, so start afresh (else a
    chunk handed to a thread that never runs would be waited for forever)."""
    global _threads, _executor, _setup, _blas_users
    _threads, _executor, _setup, _blas_users = None, None, threading.Lock(), 0


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _setup:
        if _executor is None:
            _executor = ThreadPoolExecutor(num_threads() - 1, thread_name_prefix="autodiff")
        return _executor


def _openblas() -> tuple[Callable[[], int], Callable[[int], None]] | None:
    """(get, set) of the thread count of the OpenBLAS this process loaded (NumPy's), found
    by its exported names; None where there is none to find (another BLAS, not Linux)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("", ""), ("scipy_", "64_"), ("scipy_", ""), ("", "64_")):
            get = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}", None)
            put = getattr(lib, f"{prefix}openblas_set_num_threads{suffix}", None)
            if get is not None and put is not None:
                get.restype, put.argtypes = ctypes.c_int, [ctypes.c_int]
                return get, put
    return None


_blas: tuple[Callable[[], int], Callable[[int], None]] | bool | None = False  # False: not looked
_blas_users = 0  # parallel_for calls running now (the first saves the count, the last restores)
_blas_saved = 1


@contextlib.contextmanager
def _blas_on_calling_thread() -> Iterator[None]:
    """OpenBLAS at one thread for the duration (nested and concurrent uses counted)."""
    global _blas, _blas_users, _blas_saved
    with _setup:
        if _blas is False:
            _blas = _openblas()
        if _blas and _blas_users == 0:
            _blas_saved = _blas[0]()
            if _blas_saved > 1:
                _blas[1](1)
        _blas_users += 1
    try:
        yield
    finally:
        with _setup:
            _blas_users -= 1
            if _blas and _blas_users == 0 and _blas_saved > 1:
                _blas[1](_blas_saved)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_threads)


def parallel_for(fn: Callable[[int], object], chunks: int) -> None:
    """Call fn(i) for every i in range(chunks), spread over `num_threads()` threads (the
    caller one of them); returns when all are done, raising the first error any raised.
    Each fn(i) must write only its own part of any shared output. Run from inside a chunk, it
    runs on the calling thread alone.

    >>> from autodiff.parallel import parallel_for
    >>> seen = []
    >>> parallel_for(seen.append, 3)
    >>> sorted(seen)
    [0, 1, 2]
    """
    threads = min(num_threads(), chunks)
    if threads <= 1 or getattr(_inside, "active", False):
        for i in range(chunks):
            fn(i)
        return
    lock = threading.Lock()
    todo = iter(range(chunks))

    def work() -> None:
        _inside.active = True
        try:
            while True:
                with lock:
                    i = next(todo, None)
                if i is None:
                    return
                fn(i)
        finally:
            _inside.active = False

    with _blas_on_calling_thread():
        helpers = [_pool().submit(work) for _ in range(threads - 1)]
        error = None
        try:
            work()
        except BaseException as e:  # wait for the helpers before raising
            error = e
            with lock:
                for _ in todo:  # the helpers find nothing left
                    pass
        for h in helpers:
            try:
                h.result()
            except BaseException as e:
                error = error or e
    if error is not None:
        raise error


def chunks_of(n: int, per_chunk: int) -> list[tuple[int, int]]:
    """range(n) cut into consecutive (start, stop) pieces of `per_chunk` (the last shorter):
    the same pieces whatever the thread count.

    >>> from autodiff.parallel import chunks_of
    >>> chunks_of(5, 2)
    [(0, 2), (2, 4), (4, 5)]
    """
    per_chunk = max(1, per_chunk)
    return [(s, min(s + per_chunk, n)) for s in range(0, n, per_chunk)]


CHUNK_BYTES = 1 << 19  # a chunk of samples is about this many bytes of its largest array


def for_samples(fn: Callable[[int, int], object], n: int, sample_bytes: int,
                chunk_bytes: int = CHUNK_BYTES) -> None:
    """fn(start, stop) over consecutive chunks of range(n) samples, each chunk about
    `chunk_bytes` of an array of `sample_bytes` per sample, spread by `parallel_for`. The
    chunks depend on the sizes only, never on the thread count.

    >>> from autodiff.parallel import for_samples
    >>> done = []
    >>> for_samples(lambda s, e: done.append((s, e)), 3, 1 << 20)
    >>> sorted(done)
    [(0, 1), (1, 2), (2, 3)]
    """
    pieces = chunks_of(n, chunk_bytes // max(sample_bytes, 1))
    if len(pieces) == 1:
        fn(0, n)
        return
    parallel_for(lambda i: fn(*pieces[i]), len(pieces))
