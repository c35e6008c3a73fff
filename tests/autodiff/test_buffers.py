"""The pool of temporary buffers (autodiff.buffers): reused once free, never while referenced,
bounded, released on request; convolutions and pools give the same values with it and without
it, and nothing they return or keep changes when later steps reuse the pool."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F
from autodiff.buffers import held_bytes, scratch

BIG = (512, 1024)  # 2 MiB of float32: above the pool's 1 MiB floor


@pytest.fixture(autouse=True)
def _fresh_pool():
    ad.release_buffers()
    yield
    ad.release_buffers()


def test_a_dropped_buffer_is_reused():
    a = scratch(BIG, np.float32)
    address = a.ctypes.data
    del a
    assert scratch(BIG, np.float32).ctypes.data == address


def test_a_referenced_buffer_or_a_view_of_it_is_not_handed_out_again():
    a = scratch(BIG, np.float32)
    b = scratch(BIG, np.float32)
    assert not np.shares_memory(a, b)
    view = a[1:].T
    del a
    c = scratch(BIG, np.float32)
    assert not np.shares_memory(c, view)
    del view, b
    d = scratch(BIG, np.float32)  # now one is free again
    assert held_bytes() == 3 * d.nbytes


def test_key_is_shape_and_dtype_and_small_arrays_are_not_pooled():
    a = scratch(BIG, np.float32)
    address = a.ctypes.data
    del a
    assert scratch(BIG, np.float64).ctypes.data != address
    assert scratch(BIG[::-1], np.float32).ctypes.data != address
    before = held_bytes()
    small = scratch((4, 4), np.float32)
    assert small.shape == (4, 4) and held_bytes() == before


def test_bounded_and_released():
    old = ad.set_buffer_limit(3 * 2**21)  # room for three BIG float32 buffers
    try:
        kept = [scratch((512 + i, 1024), np.float32) for i in range(6)]
        assert held_bytes() <= 3 * 2**21
        assert all(k.shape == (512 + i, 1024) for i, k in enumerate(kept))
    finally:
        ad.set_buffer_limit(old)
    assert ad.release_buffers() > 0
    assert held_bytes() == 0 and ad.release_buffers() == 0


def test_limit_zero_turns_the_pool_off_and_bad_limits_are_refused():
    old = ad.set_buffer_limit(0)
    try:
        scratch(BIG, np.float32)
        assert held_bytes() == 0
    finally:
        assert ad.set_buffer_limit(old) == 0
    for bad in (-1, 1.5, "1"):
        with pytest.raises(ValueError, match="set_buffer_limit: nbytes must be an int >= 0"):
            ad.set_buffer_limit(bad)


def test_threads_never_share_a_buffer():
    errors = []

    def work(tag: int) -> None:
        for _ in range(100):
            b = scratch(BIG, np.int32)
            b.fill(tag)
            if not (b == tag).all():
                errors.append(tag)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def _conv_step(seed: int, kernel: int, stride: int, padding: int, dtype=np.float32):
    """Two applications of one same-shaped convolution before a backward, then a max pool:
    the first one's saved patch matrix must survive the second's (a pooled buffer each)."""
    rng = np.random.default_rng(seed)
    x1, x2 = (ad.tensor(rng.standard_normal((32, 16, 24, 24)).astype(dtype), requires_grad=True)
              for _ in range(2))
    w = ad.tensor(rng.standard_normal((8, 16, kernel, kernel)).astype(dtype), requires_grad=True)
    y1 = F.conv2d(x1, w, stride=stride, padding=padding)
    y2 = F.conv2d(x2, w, stride=stride, padding=padding)
    out = F.max_pool2d(y1, 2, padding=1).sum() + 2 * F.max_pool2d(y2, 2, padding=1).sum()
    out.backward()
    return [t.data for t in (y1, y2, x1.grad, x2.grad, w.grad)]


@pytest.mark.parametrize(("kernel", "stride", "padding"),
                         [(3, 1, 1), (3, 2, 1), (1, 1, 1), (5, 2, 0)])
def test_conv_and_pool_equal_with_and_without_the_pool(kernel, stride, padding):
    with_pool = _conv_step(0, kernel, stride, padding)
    assert held_bytes() > 0
    old = ad.set_buffer_limit(0)
    try:
        without = _conv_step(0, kernel, stride, padding)
    finally:
        ad.set_buffer_limit(old)
    for a, b in zip(with_pool, without):
        np.testing.assert_array_equal(a, b)


def test_results_kept_across_steps_stay_unchanged():
    kept = _conv_step(0, 3, 1, 1)
    copies = [k.copy() for k in kept]
    for seed in range(1, 4):  # later steps of the same shapes reuse the pool
        _conv_step(seed, 3, 1, 1)
        _conv_step(seed, 3, 2, 1)
    for k, c in zip(kept, copies):
        np.testing.assert_array_equal(k, c)


@pytest.mark.parametrize("kernel", [1, 3])
def test_weight_gradient_of_two_applications_before_backward_closed_form(kernel):
    # d/dW [sum conv(x1, W) + 2 sum conv(x2, W)], padding 1: entry (o, c, i, j) is the sum of
    # the padded inputs' channel c over the window offset (i, j), x1's plus twice x2's. The
    # first application's patch matrix (a pooled buffer; with a 1x1 kernel, a view of the
    # pooled padded input) must survive the second application of the same shapes.
    rng = np.random.default_rng(kernel)
    x1, x2 = (rng.standard_normal((400, 3, 9, 9)) for _ in range(2))  # padded: > 1 MiB
    w = ad.tensor(rng.standard_normal((2, 3, kernel, kernel)), requires_grad=True)
    y1 = F.conv2d(ad.tensor(x1), w, padding=1)
    y2 = F.conv2d(ad.tensor(x2), w, padding=1)
    (y1.sum() + 2 * y2.sum()).backward()
    assert held_bytes() > 0  # the pool was used
    ho = 9 + 2 - kernel + 1
    p1, p2 = (np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))) for x in (x1, x2))
    want = np.empty((3, kernel, kernel))
    for i in range(kernel):
        for j in range(kernel):
            want[:, i, j] = (p1[:, :, i:i + ho, j:j + ho].sum((0, 2, 3))
                             + 2 * p2[:, :, i:i + ho, j:j + ho].sum((0, 2, 3)))
    np.testing.assert_allclose(w.grad.data, np.broadcast_to(want, (2, 3, kernel, kernel)),
                               rtol=1e-12, atol=1e-9)
