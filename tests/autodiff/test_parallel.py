"""The engine's threads (`autodiff.parallel`): the thread count from the environment, every
chunk run once, errors raised, nested calls run serially, OpenBLAS's thread count restored,
and convolutions bit-for-bit the same on one thread or two."""

import os
import threading
import time

import numpy as np
import pytest

import autodiff as ad
import autodiff.parallel as P
import nn.functional as F
import nn.functional.conv as C


@pytest.fixture
def two_threads(monkeypatch):
    monkeypatch.setattr(P, "_threads", 2)


def test_thread_count_from_the_environment(monkeypatch):
    monkeypatch.setattr(P, "_cores", lambda: 4)
    for var in P.LIMIT_VARIABLES:
        monkeypatch.delenv(var, raising=False)
    assert P._from_environment() == 4
    monkeypatch.setenv("OMP_NUM_THREADS", "3,2")  # OpenMP's nested form: the outer count
    assert P._from_environment() == 3
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    assert P._from_environment() == 1
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "many")  # not a number: no limit from it
    assert P._from_environment() == 3
    monkeypatch.setenv("MKL_NUM_THREADS", "8")  # above the cores
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert P._from_environment() == 4


def test_every_chunk_runs_once_on_several_threads(two_threads):
    seen, names = [], set()
    barrier = threading.Barrier(2, timeout=10)

    def chunk(i):
        if i < 2:
            barrier.wait()  # chunks 0 and 1 must run at the same time: two threads
        names.add(threading.current_thread().name)
        seen.append(i)

    P.parallel_for(chunk, 50)
    assert sorted(seen) == list(range(50)) and len(names) == 2


def test_an_error_in_a_chunk_is_raised_after_the_others_stop(two_threads):
    done = []

    def chunk(i):
        if i == 3:
            raise ValueError("chunk 3")
        done.append(i)

    with pytest.raises(ValueError, match="chunk 3"):
        P.parallel_for(chunk, 40)
    n = len(done)
    time.sleep(0.05)
    assert 3 not in done and len(done) == n  # no helper still running after the call returned


def test_nested_calls_run_on_the_calling_thread(two_threads):
    out = np.zeros((4, 4))

    def row(i):
        me = threading.current_thread()
        P.parallel_for(lambda j: (threading.current_thread() is me) and out.__setitem__(
            (i, j), 1), 4)

    P.parallel_for(row, 4)
    assert (out == 1).all()


def test_openblas_thread_count_restored(two_threads):
    P.parallel_for(lambda i: np.ones((8, 8)) @ np.ones((8, 8)), 4)
    if not P._blas:
        pytest.skip("no OpenBLAS found in this process (another BLAS): nothing to restore")
    before = P._blas[0]()
    inside = []
    P.parallel_for(lambda i: inside.append(P._blas[0]()), 4)
    assert set(inside) == {1} and P._blas[0]() == before


def test_chunks_do_not_depend_on_the_thread_count(monkeypatch):
    def pieces():
        got = []
        P.for_samples(lambda s, e: got.append((s, e)), 10, 3, chunk_bytes=9)
        return sorted(got)

    monkeypatch.setattr(P, "_threads", 1)
    one = pieces()
    monkeypatch.setattr(P, "_threads", 2)
    assert pieces() == one == [(0, 3), (3, 6), (6, 9), (9, 10)]


@pytest.mark.parametrize("case", ["shifted", "im2col", "channels_last"])
def test_convolutions_bit_for_bit_on_one_thread_or_two(monkeypatch, case):
    """Forward, input and weight gradients in float32, small chunks (several per call)."""
    monkeypatch.setattr(P, "CHUNK_BYTES", 1 << 10)
    monkeypatch.setattr(C, "SHIFT_BLOCK_BYTES", 1 << 10)
    if case == "shifted":
        monkeypatch.setattr(C, "SHIFT_MIN_CHANNELS", 1)
        monkeypatch.setattr(C, "SHIFT_MIN_PIXELS", 1)
    if case == "channels_last":
        monkeypatch.setattr(C, "CL_MIN_OUT_CHANNELS", 1)
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((7, 3, 9, 8)).astype(np.float32)
    w0 = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
    stride = 2 if case == "channels_last" else 1

    def run():
        x, w = ad.tensor(x0, requires_grad=True), ad.tensor(w0, requires_grad=True)
        y = F.conv2d(x, w, padding=1, stride=stride)
        (y * y).sum().backward()
        return y.data, x.grad.data, w.grad.data

    monkeypatch.setattr(P, "_threads", 1)
    one = run()
    monkeypatch.setattr(P, "_threads", 2)
    two = run()
    for a, b in zip(one, two, strict=True):
        assert a.dtype == np.float32 and np.array_equal(a, b)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX-only")
def test_a_forked_child_starts_its_own_threads(two_threads):
    """The parent's pool threads do not exist in a child made by fork: without starting
    afresh there, the child's first parallel_for waited forever for them."""
    P.parallel_for(lambda i: None, 4)  # the parent's pool exists now
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if the chunks all ran
        code = 1
        try:
            P._threads = 2
            out = []
            P.parallel_for(out.append, 8)
            code = 0 if sorted(out) == list(range(8)) else 1
        finally:
            os._exit(code)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail("the forked child's parallel_for did not finish in 30 s")
