"""embedding_bag and EmbeddingBag: values and gradients (to the weight and to
per_sample_weights) equal to PyTorch's on random layouts (float64), hand-computed bags,
finite differences, dtypes, empty bags, errors."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck

W = np.array([[1.0, -2.0], [3.0, 0.5], [-1.0, 4.0], [2.0, 2.0]])


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


def _random_case(rng, mode):
    """A random layout: 2-d input, or 1-d with sorted offsets (include_last_offset or not),
    with padding, per_sample_weights and tied values (max) now and then."""
    v, d = int(rng.integers(1, 7)), int(rng.integers(1, 4))
    ties = rng.random() < 0.3
    w = rng.integers(-2, 3, (v, d)).astype(float) if ties else rng.standard_normal((v, d))
    case = {"mode": mode, "padding_idx": None if rng.random() < 0.5 else int(rng.integers(-v, v))}
    if rng.random() < 0.3:
        inp, offsets = rng.integers(0, v, (rng.integers(0, 4), rng.integers(1, 4))), None
    else:
        inp = rng.integers(0, v, rng.integers(0, 9))
        case["include_last_offset"] = bool(rng.random() < 0.5)
        offsets = np.sort(rng.integers(0, inp.size + 1, rng.integers(2, 5)))
        offsets[0] = 0
        if case["include_last_offset"]:
            offsets[-1] = inp.size
    psw = rng.standard_normal(inp.shape) if mode == "sum" and rng.random() < 0.5 else None
    return w, inp, offsets, psw, case


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_matches_pytorch_on_random_layouts(mode):
    torch = _torch()
    rng = np.random.default_rng(["sum", "mean", "max"].index(mode))
    for _ in range(40):
        w, inp, offsets, psw, case = _random_case(rng, mode)
        tw = torch.tensor(w, requires_grad=True)
        tp = None if psw is None else torch.tensor(psw, requires_grad=True)
        ty = torch.nn.functional.embedding_bag(
            torch.tensor(inp), tw, None if offsets is None else torch.tensor(offsets),
            per_sample_weights=tp, **case)
        aw = ad.tensor(w, requires_grad=True)
        ap = None if psw is None else ad.tensor(psw, requires_grad=True)
        y = F.embedding_bag(inp, aw, offsets, per_sample_weights=ap, **case)
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-14, atol=1e-15)
        if not y.size:
            continue
        v = rng.standard_normal(y.shape)
        (ty * torch.tensor(v)).sum().backward()
        (y * v).sum().backward()
        np.testing.assert_allclose(aw.grad.data, tw.grad.numpy(), rtol=1e-14, atol=1e-15)
        if psw is not None:
            np.testing.assert_allclose(ap.grad.data, tp.grad.numpy(), rtol=1e-14, atol=1e-15)


def test_max_norm_matches_pytorch():
    torch = _torch()
    w = np.random.default_rng(4).standard_normal((5, 3)) * 2
    tw, aw = torch.tensor(w), ad.tensor(w)
    inp, offsets = [0, 2, 2, 4], [0, 1]
    ty = torch.nn.functional.embedding_bag(torch.tensor(inp), tw, torch.tensor(offsets),
                                           max_norm=1.5, norm_type=3.0, mode="sum")
    y = F.embedding_bag(inp, aw, offsets, max_norm=1.5, norm_type=3.0, mode="sum")
    np.testing.assert_allclose(y.data, ty.numpy(), rtol=1e-14)
    np.testing.assert_allclose(aw.data, tw.numpy(), rtol=1e-14)  # renormed in place, as theirs


def test_layer_matches_pytorch():
    torch = _torch()
    ours = nn.EmbeddingBag.from_pretrained(W, mode="max", padding_idx=1)
    theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(W), mode="max", padding_idx=1)
    inp, offsets = [0, 1, 3, 1, 2], [0, 3, 4]
    np.testing.assert_array_equal(ours(inp, offsets).data,
                                  theirs(torch.tensor(inp), torch.tensor(offsets)).numpy())
    assert repr(ours) == repr(theirs) == "EmbeddingBag(4, 2, mode='max', padding_idx=1)"


def test_hand_computed_bags():
    w = ad.tensor(W)
    inp, offsets = [0, 1, 3, 2, 2], [0, 2, 2]  # bags {0, 1}, {} and {3, 2, 2}
    np.testing.assert_array_equal(F.embedding_bag(inp, w, offsets, mode="sum").data,
                                  [[4.0, -1.5], [0.0, 0.0], [0.0, 10.0]])
    np.testing.assert_allclose(F.embedding_bag(inp, w, offsets, mode="mean").data,
                               [[2.0, -0.75], [0.0, 0.0], [0.0, 10.0 / 3]], rtol=1e-15)
    np.testing.assert_array_equal(F.embedding_bag(inp, w, offsets, mode="max").data,
                                  [[3.0, 0.5], [0.0, 0.0], [2.0, 4.0]])
    # padding is left out, also from the mean's count; a bag of padding only gives zeros
    y = F.embedding_bag([[0, 2, 2], [2, 2, 2]], w, mode="mean", padding_idx=2)
    np.testing.assert_array_equal(y.data, [[1.0, -2.0], [0.0, 0.0]])
    # include_last_offset: offsets are CSR row pointers (one more than the bags)
    y = F.embedding_bag(inp, w, [0, 2, 5], mode="sum", include_last_offset=True)
    np.testing.assert_array_equal(y.data, [[4.0, -1.5], [0.0, 10.0]])
    y = F.embedding_bag([0, 1], w, [0], mode="sum", per_sample_weights=np.array([2.0, -1.0]))
    np.testing.assert_array_equal(y.data, [[-1.0, -4.5]])


def test_gradients_closed_form():
    w = ad.tensor(W, requires_grad=True)
    psw = ad.tensor(np.array([2.0, -1.0, 0.5]), requires_grad=True)
    y = F.embedding_bag([0, 1, 0], w, [0, 2], mode="sum", per_sample_weights=psw)
    g = np.array([[1.0, 10.0], [100.0, 1000.0]])
    (y * g).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [2 * g[0] + 0.5 * g[1], -g[0], [0, 0], [0, 0]])
    np.testing.assert_array_equal(psw.grad.data, [W[0] @ g[0], W[1] @ g[0], W[0] @ g[1]])
    # max: each column's gradient goes to its argmax row, the first on a tie
    w = ad.tensor(np.array([[1.0, 5.0], [3.0, 5.0], [3.0, 0.0]]), requires_grad=True)
    F.embedding_bag([[0, 1, 2]], w, mode="max").sum().backward()
    np.testing.assert_array_equal(w.grad.data, [[0, 1], [1, 0], [0, 0]])
    # scale_grad_by_freq: each row's gradient divided by its count in the input
    w = ad.tensor(W, requires_grad=True)
    F.embedding_bag([3, 3, 1, 1, 1], w, [0, 1], mode="sum", scale_grad_by_freq=True
                    ).sum().backward()
    np.testing.assert_allclose(w.grad.data, [[0, 0], [1, 1], [0, 0], [1, 1]], rtol=1e-15)


def _bag_case(rng):
    """float32 rows and bags of 0 to 40 indices (padding among them), where the order of the
    additions shows in the bits."""
    w = rng.standard_normal((50, 8)).astype(np.float32)
    sizes = rng.integers(0, 41, 30)
    idx = rng.integers(0, 50, sizes.sum())
    return w, idx, np.cumsum(sizes) - sizes


def test_sums_add_each_bag_s_rows_in_order_and_means_divide_them():
    # Before: np.add.reduceat, whose order is its own (a few ulps away from PyTorch's); now each
    # bag's kept rows are added one after another into zeros, then divided by their count
    # for the mean (PyTorch's kernel: test_float32_sums_and_means_are_pytorch_s_bits).
    w, idx, offsets = _bag_case(np.random.default_rng(7))
    ends = np.append(offsets[1:], idx.size)
    for mode in ("sum", "mean"):
        y = F.embedding_bag(idx, ad.tensor(w), offsets, mode=mode, padding_idx=3).data
        for b, (start, end) in enumerate(zip(offsets, ends)):
            total, count = np.zeros(8, np.float32), 0
            for i in idx[start:end]:
                if i != 3:
                    total, count = total + w[i], count + 1
            want = total / np.float32(max(count, 1)) if mode == "mean" else total
            np.testing.assert_array_equal(y[b].view(np.int32), want.view(np.int32))


def test_float32_sums_and_means_are_pytorch_s_bits():
    torch = _torch()
    w, idx, offsets = _bag_case(np.random.default_rng(8))
    for mode in ("sum", "mean"):
        want = torch.nn.functional.embedding_bag(torch.tensor(idx), torch.tensor(w),
                                                 torch.tensor(offsets), mode=mode).numpy()
        y = F.embedding_bag(idx, ad.tensor(w), offsets, mode=mode).data
        np.testing.assert_array_equal(y.view(np.int32), want.view(np.int32))


def test_max_keeps_a_nan_only_when_it_comes_first_as_pytorch():
    # Before: a NaN in a bag's column raised IndexError (no row equalled the NaN maximum).
    # PyTorch's kernel replaces the best so far by a greater value, so a NaN stays when it
    # is the bag's first (kept) row, and is passed over otherwise.
    w = np.array([[1.0, 2.0], [np.nan, 0.5], [3.0, -1.0], [9.0, 9.0]])
    for bag, want in [([0, 1, 2], [3.0, 2.0]), ([1, 0, 2], [np.nan, 2.0]),
                      ([3, 1, 0], [np.nan, 2.0]), ([0, 2, 1], [3.0, 2.0])]:
        y = F.embedding_bag([bag], ad.tensor(w), mode="max", padding_idx=3)
        np.testing.assert_array_equal(y.data[0], want)
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    for bag in ([0, 1, 2], [1, 0, 2], [3, 1, 0], [0, 2, 1]):
        want = torch.nn.functional.embedding_bag(torch.tensor([bag]), torch.tensor(w),
                                                 mode="max", padding_idx=3).numpy()
        y = F.embedding_bag([bag], ad.tensor(w), mode="max", padding_idx=3)
        np.testing.assert_array_equal(y.data, want)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_gradcheck_and_gradgradcheck(mode):
    w = ad.tensor(np.random.default_rng(5).standard_normal((4, 3)), requires_grad=True)
    inp, offsets = [0, 3, 1, 3, 2, 0], [0, 2, 2, 5]
    if mode == "sum":
        psw = ad.tensor(np.random.default_rng(6).standard_normal(6), requires_grad=True)
        f = lambda w, p: F.embedding_bag(inp, w, offsets, mode="sum",  # noqa: E731
                                         per_sample_weights=p, padding_idx=1)
        assert gradcheck(f, w, psw) and gradgradcheck(f, w, psw)
    else:
        f = lambda w: F.embedding_bag(inp, w, offsets, mode=mode)  # noqa: E731
        assert gradcheck(f, w) and gradgradcheck(f, w)


def test_float32_stays_float32_and_empty_inputs():
    w = ad.tensor(W.astype(np.float32), requires_grad=True)
    for mode in ("sum", "mean", "max"):
        y = F.embedding_bag([[0, 1]], w, mode=mode)
        y.sum().backward()
        assert y.dtype == np.float32 and w.grad.dtype == np.float32
    assert F.embedding_bag(np.zeros(0, int), w, [0, 0]).tolist() == [[0, 0], [0, 0]]
    assert F.embedding_bag(np.zeros((0, 3), int), w).shape == (0, 2)
    assert F.embedding_bag(np.zeros((2, 0), int), w, mode="max").tolist() == [[0, 0], [0, 0]]
    assert F.embedding_bag(np.zeros(0, int), w, [0], include_last_offset=True).shape == (0, 2)


def test_layer_weight_padding_and_from_pretrained():
    ad.manual_seed(0)
    bags = nn.EmbeddingBag(6, 4, padding_idx=-2)
    assert bags.padding_idx == 4 and not bags.weight.data[4].any() and bags.weight.requires_grad
    assert repr(bags) == "EmbeddingBag(6, 4, mode='mean', padding_idx=4)"
    frozen = nn.EmbeddingBag.from_pretrained(W, mode="sum")
    assert not frozen.weight.requires_grad and frozen.weight.data is not W
    np.testing.assert_array_equal(frozen([[0, 1]]).data, [W[0] + W[1]])
    assert nn.EmbeddingBag.from_pretrained(W, freeze=False).weight.requires_grad
    y = nn.EmbeddingBag(3, 2, mode="sum", dtype="float64")([0, 2], [0], np.array([1.0, 2.0]))
    assert y.shape == (1, 2) and y.dtype == np.float64


@pytest.mark.parametrize("call, error, message", [
    (lambda w: F.embedding_bag([0], w, [0], mode="prod"), ValueError,
     "mode must be 'sum', 'mean' or 'max', got 'prod'"),
    (lambda w: F.embedding_bag([0], w, [0], sparse=True), ValueError, "sparse gradients"),
    (lambda w: F.embedding_bag([0], w, [0], mode="mean", per_sample_weights=[1.0]), ValueError,
     "per_sample_weights is only supported for mode='sum', got mode='mean'"),
    (lambda w: F.embedding_bag([0], w, [0], mode="max", scale_grad_by_freq=True), ValueError,
     "mode='max' does not support scale_grad_by_freq=True"),
    (lambda w: F.embedding_bag([0], ad.tensor([1.0]), [0]), ValueError,
     r"weight must be a 2-d Tensor .* got \(1,\)"),
    (lambda w: F.embedding_bag([[0]], w, [0]), ValueError,
     r"a 2-d input \(shape \(1, 1\)\) .* offsets must be None"),
    (lambda w: F.embedding_bag(np.zeros((1, 1, 1), int), w), ValueError,
     r"input must be 1-d \(with offsets\) or 2-d, got shape \(1, 1, 1\)"),
    (lambda w: F.embedding_bag([0], w), ValueError, "a 1-d input needs offsets"),
    (lambda w: F.embedding_bag([0], w, [[0]]), ValueError, r"offsets must be 1-d, got shape"),
    (lambda w: F.embedding_bag([0, 1], w, [1]), ValueError, r"offsets\[0\] must be 0 .*got 1"),
    (lambda w: F.embedding_bag([0, 1], w, [0, 3]), ValueError,
     r"offsets\[-1\] must not be greater than input's length 2, got 3"),
    (lambda w: F.embedding_bag([0, 1, 2], w, [0, 2, 1]), ValueError,
     r"offsets must not decrease, got \[0, 2, 1\]"),
    (lambda w: F.embedding_bag([0, 1, 2], w, [0, 2], include_last_offset=True), ValueError,
     r"offsets\[-1\] must be input's length 3 \(the end of the last bag\), got 2"),
    (lambda w: F.embedding_bag([0, 4], w, [0]), IndexError,
     r"index 4 is out of range for 4 embeddings"),
    (lambda w: F.embedding_bag([-1], w, [0]), IndexError, "index -1 is out of range"),
    (lambda w: F.embedding_bag([0.5], w, [0]), TypeError, "indices must be integers"),
    (lambda w: F.embedding_bag([0], w, [0], padding_idx=4), ValueError,
     r"padding_idx 4 is out of range for 4 embeddings \(-4 to 3\)"),
    (lambda w: F.embedding_bag([0, 1], w, [0], mode="sum", per_sample_weights=[1.0]),
     ValueError, r"per_sample_weights must have input's shape \(2,\), got \(1,\)"),
    (lambda w: F.embedding_bag([0], w, [0], mode="sum",
                               per_sample_weights=ad.tensor(np.ones(1, np.float32))),
     TypeError, "per_sample_weights must have weight's dtype float64, got float32"),
    (lambda w: nn.EmbeddingBag(0, 2), ValueError, "EmbeddingBag: sizes must be positive"),
    (lambda w: nn.EmbeddingBag(3, 2, mode="min"), ValueError,
     "EmbeddingBag: mode must be 'sum', 'mean' or 'max', got 'min'"),
    (lambda w: nn.EmbeddingBag(3, 2, sparse=True), ValueError, "EmbeddingBag: sparse"),
    (lambda w: nn.EmbeddingBag(3, 2, padding_idx=3), ValueError,
     "EmbeddingBag: padding_idx 3 is out of range for 3 embeddings"),
    (lambda w: nn.EmbeddingBag(3, 2, _weight=np.ones((2, 2))), ValueError,
     r"EmbeddingBag: _weight must have shape \(3, 2\), got \(2, 2\)"),
    (lambda w: nn.EmbeddingBag.from_pretrained(np.ones(3)), ValueError,
     r"EmbeddingBag.from_pretrained: embeddings must be 2-d, got shape \(3,\)"),
])
def test_errors_name_the_argument_and_value(call, error, message):
    with pytest.raises(error, match=message):
        call(ad.tensor(W))


def test_scale_grad_by_freq_matches_pytorch_2_14():
    """PyTorch 2.13's CPU kernel divides some rows by another index's count ([3, 3, 5, 5, 5]:
    row 5 gets 3/2); 2.14 divides each row by its own count, as `embedding` does, and so do
    we (the closed form is in test_gradients_closed_form)."""
    torch = pytest.importorskip("torch", minversion="2.14",
                                reason="PyTorch >= 2.14 (2.13's scale_grad_by_freq is wrong)")
    rng = np.random.default_rng(7)
    for mode in ("sum", "mean"):
        w = rng.standard_normal((5, 3))
        inp, offsets = rng.integers(0, 5, 12), [0, 4, 4, 9]
        tw, aw = torch.tensor(w, requires_grad=True), ad.tensor(w, requires_grad=True)
        torch.nn.functional.embedding_bag(torch.tensor(inp), tw, torch.tensor(offsets),
                                          mode=mode, scale_grad_by_freq=True).sum().backward()
        F.embedding_bag(inp, aw, offsets, mode=mode, scale_grad_by_freq=True).sum().backward()
        np.testing.assert_allclose(aw.grad.data, tw.grad.numpy(), rtol=1e-14)
