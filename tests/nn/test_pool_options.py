"""The pools' options and the new pools: max_pool2d's dilation and ceil_mode, avg_pool2d's
ceil_mode and divisor_override, max_pool1d, avg_pool1d, adaptive_avg_pool1d,
adaptive_max_pool1d/2d. Against PyTorch over the argument space (float64; values and
gradients to 1e-12), and without it: a naive reference that states PyTorch's ceil_mode rule
its own way, hand-computed cases, gradcheck and gradgradcheck, float32 kept, every error."""

import itertools

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck

TOL = dict(rtol=1e-12, atol=1e-12)


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


def starts(n, k, s, p, d, ceil_mode):
    """Window starts along one axis, in padded coordinates: every window that fits in the
    padded input; with ceil_mode one more when the one before it (or, when none fits, a
    window one stride before the first) misses the padded end, if it starts before the right
    padding (PyTorch's rule)."""
    span, padded = d * (k - 1) + 1, n + 2 * p
    out = [i * s for i in range(padded) if i * s + span <= padded]
    before = out[-1] if out else -s
    if ceil_mode and before + span < padded and before + s < n + p:
        out.append(before + s)
    return out


def naive_pool(x, k, s, p, d, ceil_mode, kind, count_include_pad=True, divisor=None):
    """Max or mean over each window, cell by cell, from the window starts above."""
    n, c, h, w = x.shape
    rows, cols = starts(h, k[0], s[0], p[0], d[0], ceil_mode), starts(w, k[1], s[1], p[1],
                                                                      d[1], ceil_mode)
    out = np.zeros((n, c, len(rows), len(cols)))
    for i, j in itertools.product(range(len(rows)), range(len(cols))):
        cells, padded = [], 0
        for a, b in itertools.product(range(k[0]), range(k[1])):
            r, q = rows[i] + a * d[0] - p[0], cols[j] + b * d[1] - p[1]
            if 0 <= r < h and 0 <= q < w:
                cells.append(x[:, :, r, q])
            elif -p[0] <= r < h + p[0] and -p[1] <= q < w + p[1]:
                padded += 1
        stack = np.stack(cells)
        if kind == "max":
            out[:, :, i, j] = stack.max(axis=0)
        else:
            count = divisor or (len(cells) + padded if count_include_pad else len(cells))
            out[:, :, i, j] = stack.sum(axis=0) / count
    return out


MAX_CASES = [c for c in itertools.product([1, 2, 3], [1, 2, 3], [0, 1], [1, 2], [False, True],
                                          [(5, 7), (6, 4)]) if c[2] <= c[0] // 2]


@pytest.mark.parametrize("k,s,p,d,ceil_mode,hw", MAX_CASES, ids=str)
def test_max_pool2d_matches_naive(k, s, p, d, ceil_mode, hw):
    x = np.random.default_rng(0).standard_normal((2, 2, *hw))
    if not all(starts(n, k, s, p, d, ceil_mode) for n in hw):
        with pytest.raises(ValueError, match="larger than the padded input"):
            F.max_pool2d(ad.tensor(x), k, s, p, d, ceil_mode)
        return
    got = F.max_pool2d(ad.tensor(x), k, s, p, d, ceil_mode).data
    np.testing.assert_array_equal(got, naive_pool(x, (k, k), (s, s), (p, p), (d, d), ceil_mode,
                                                  "max"))


@pytest.mark.parametrize("k,s,p,ceil_mode,count_include_pad,divisor",
                         [c for c in itertools.product([2, 3], [1, 2, 3], [0, 1], [False, True],
                                                       [False, True], [None, 2, -3])
                          if c[2] <= c[0] // 2])
def test_avg_pool2d_matches_naive(k, s, p, ceil_mode, count_include_pad, divisor):
    x = np.random.default_rng(1).standard_normal((1, 2, 5, 6))
    got = F.avg_pool2d(ad.tensor(x), k, s, p, ceil_mode, count_include_pad, divisor).data
    want = naive_pool(x, (k, k), (s, s), (p, p), (1, 1), ceil_mode, "avg", count_include_pad,
                      divisor)
    np.testing.assert_allclose(got, want, **TOL)


def test_hand_computed():
    x = ad.tensor([[[1.0, 2.0, 3.0, 4.0]]])
    # windows (pad, 1, 2), (2, 3, 4), (4, pad, past the end): ceil_mode keeps the third
    np.testing.assert_allclose(F.avg_pool1d(x, 3, 2, 1).data, [[[1.0, 3.0]]])
    np.testing.assert_allclose(F.avg_pool1d(x, 3, 2, 1, ceil_mode=True).data,
                               [[[1.0, 3.0, 2.0]]])
    np.testing.assert_allclose(F.avg_pool1d(x, 3, 2, 1, True, count_include_pad=False).data,
                               [[[1.5, 3.0, 4.0]]])
    x4 = x.reshape(1, 1, 1, 4)
    np.testing.assert_allclose(F.avg_pool2d(x4, (1, 3), (1, 2), (0, 1), True,
                                            divisor_override=2).data, [[[[1.5, 4.5, 2.0]]]])
    np.testing.assert_array_equal(F.max_pool1d(x, 3, 2, 1, ceil_mode=True).data,
                                  [[[2.0, 4.0, 4.0]]])
    np.testing.assert_array_equal(F.max_pool1d(x, 2, 1, dilation=2).data, [[[3.0, 4.0]]])
    y = ad.tensor([[[3.0, 1.0, 4.0, 1.0, 5.0]]])
    # bins of 5 cells into 3: [0, 2), [1, 4), [3, 5)
    np.testing.assert_array_equal(F.adaptive_max_pool1d(y, 3).data, [[[3.0, 4.0, 5.0]]])
    np.testing.assert_allclose(F.adaptive_avg_pool1d(y, 3).data, [[[2.0, 2.0, 3.0]]])
    # the bins [0, 2) and [1, 3) of 3 cells into 2 share the maximum: its gradient adds up
    z = ad.tensor([[[[1.0, 9.0, 2.0]]]], requires_grad=True)
    F.adaptive_max_pool2d(z, (1, 2)).sum().backward()
    np.testing.assert_array_equal(z.grad.data, [[[[0.0, 2.0, 0.0]]]])


def test_max_ties_and_nan_as_pytorch():
    x = ad.tensor(np.ones((1, 1, 3, 3)), requires_grad=True)
    F.max_pool2d(x, 2, 1, dilation=2).sum().backward()  # one window: cells (0,0) (0,2) ...
    np.testing.assert_array_equal(x.grad.data[0, 0], [[1, 0, 0], [0, 0, 0], [0, 0, 0]])
    x.grad = None
    F.adaptive_max_pool2d(x, 1).sum().backward()  # the first maximum
    np.testing.assert_array_equal(x.grad.data[0, 0], [[1, 0, 0], [0, 0, 0], [0, 0, 0]])
    nan = ad.tensor([[[[np.nan, 1.0, np.nan]]]], requires_grad=True)
    y = F.adaptive_max_pool2d(nan, 1)
    y.sum().backward()  # PyTorch's loop keeps the last NaN
    assert np.isnan(y.data).all()
    np.testing.assert_array_equal(nan.grad.data, [[[[0.0, 0.0, 1.0]]]])


def _check(ours, theirs, x, torch):
    """Values, and the gradient of <out, g>, of ours and PyTorch's on float64 x."""
    xa, xt = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya, yt = ours(xa), theirs(xt)
    assert ya.shape == tuple(yt.shape)
    np.testing.assert_allclose(ya.data, yt.detach().numpy(), **TOL)
    g = np.random.default_rng(5).standard_normal(ya.shape)
    (ya * ad.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xa.grad.data, xt.grad.numpy(), **TOL)


POOL_CASES = [c for c in itertools.product([1, 2, 3, (3, 2)], [None, 1, 2, (3, 1)], [0, 1],
                                           [1, 2], [False, True]) if c[2] <= 1 or c[0] != 1]


@pytest.mark.parametrize("k,s,p,d,ceil_mode", POOL_CASES, ids=str)
def test_pools_match_pytorch(k, s, p, d, ceil_mode):
    torch = _torch()
    T = torch.nn.functional
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 6))
    if min(np.atleast_1d(k)) // 2 < p:
        return  # padding over half the kernel: refused by both (test_errors)
    _check(lambda t: F.max_pool2d(t, k, s, p, d, ceil_mode),
           lambda t: T.max_pool2d(t, k, s, p, d, ceil_mode), x, torch)
    k1, s1 = np.atleast_1d(k)[0], None if s is None else np.atleast_1d(s)[0]
    _check(lambda t: F.max_pool1d(t, k1, s1, p, d, ceil_mode),
           lambda t: T.max_pool1d(t, int(k1), None if s1 is None else int(s1), p, d,
                                  ceil_mode), x[:, :, 0], torch)
    if d == 1:
        for cip, div in [(True, None), (False, None), (True, 3)]:
            avg = dict(ceil_mode=ceil_mode, count_include_pad=cip)
            _check(lambda t, a=avg, v=div: F.avg_pool2d(t, k, s, p, **a, divisor_override=v),
                   lambda t, a=avg, v=div: T.avg_pool2d(t, k, s, p, **a, divisor_override=v),
                   x, torch)
            _check(lambda t, a=avg: F.avg_pool1d(t, k1, s1, p, **a),
                   lambda t, a=avg: T.avg_pool1d(t, int(k1), None if s1 is None else int(s1),
                                                 p, **a), x[:, :, 0], torch)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, (2, 5), (None, 3), (4, None)], ids=str)
def test_adaptive_pools_match_pytorch(size):
    torch = _torch()
    T = torch.nn.functional
    x = np.random.default_rng(3).standard_normal((2, 3, 7, 5))
    _check(lambda t: F.adaptive_max_pool2d(t, size), lambda t: T.adaptive_max_pool2d(t, size),
           x, torch)
    if not isinstance(size, tuple):
        for ours, theirs in [(F.adaptive_max_pool1d, T.adaptive_max_pool1d),
                             (F.adaptive_avg_pool1d, T.adaptive_avg_pool1d)]:
            _check(lambda t, f=ours: f(t, size), lambda t, f=theirs: f(t, size), x[:, :, 0],
                   torch)


def test_layers_match_pytorch_and_print_as_it():
    torch = _torch()
    x = np.random.default_rng(4).standard_normal((2, 3, 9, 8))
    for make, inp in [(lambda n: n.MaxPool2d(3, 2, 1, 2, False, True), x),
                      (lambda n: n.AvgPool2d(3, 2, 1, True, False, None), x),
                      (lambda n: n.AvgPool2d(2, ceil_mode=True, divisor_override=3), x),
                      (lambda n: n.AdaptiveMaxPool2d((3, None)), x),
                      (lambda n: n.MaxPool1d(2, 3, 1, 1, False, True), x[:, :, 0]),
                      (lambda n: n.AvgPool1d(3, 2, 1, True), x[:, :, 0]),
                      (lambda n: n.AdaptiveAvgPool1d(4), x[:, :, 0]),
                      (lambda n: n.AdaptiveMaxPool1d(3), x[:, :, 0])]:
        ours, theirs = make(nn), make(torch.nn)
        assert repr(ours) == repr(theirs)
        _check(ours, theirs, inp, torch)


def test_second_order_without_pytorch():
    rng = np.random.default_rng(6)
    x = ad.tensor(rng.permutation(42).reshape(1, 1, 6, 7) * 0.25)  # distinct: no ties
    for f in [lambda t: F.max_pool2d(t, 2, 2, 1, 2, ceil_mode=True),
              lambda t: F.max_pool2d(t, (3, 2), (2, 3), (1, 0), ceil_mode=True),
              lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False),
              lambda t: F.avg_pool2d(t, 2, 3, ceil_mode=True, divisor_override=3),
              lambda t: F.adaptive_max_pool2d(t, (4, 3)),
              lambda t: F.max_pool1d(t[:, 0], 3, 2, 1, 2, True),
              lambda t: F.avg_pool1d(t[:, 0], 3, 2, 1, True),
              lambda t: F.adaptive_max_pool1d(t[:, 0], 4),
              lambda t: F.adaptive_avg_pool1d(t[:, 0], 4)]:
        assert gradcheck(f, x)
        assert gradgradcheck(f, x)


@pytest.mark.parametrize("f", [
    lambda t: F.max_pool2d(t, 2, dilation=2, ceil_mode=True),
    lambda t: F.avg_pool2d(t, 2, ceil_mode=True, divisor_override=2),
    lambda t: F.adaptive_max_pool2d(t, 2), lambda t: F.max_pool1d(t[:, 0], 2, ceil_mode=True),
    lambda t: F.avg_pool1d(t[:, 0], 2, ceil_mode=True), lambda t: F.adaptive_max_pool1d(t[:, 0], 2),
    lambda t: F.adaptive_avg_pool1d(t[:, 0], 2)])
def test_float32_stays_float32(f):
    x = ad.tensor(np.arange(25, dtype=np.float32).reshape(1, 1, 5, 5), requires_grad=True)
    y = f(x)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


def test_errors():
    x4, x3, x2 = ad.ones((1, 1, 5, 5)), ad.ones((1, 1, 5)), ad.ones((5, 5))  # (C, H, W) is
    cases = [  # unbatched for a 2-d pool, as in PyTorch: x2 is the wrong rank there
        (lambda: F.max_pool2d(x4, 0), "max_pool2d: kernel_size must be positive, got \\(0, 0\\)"),
        (lambda: F.max_pool2d(x4, 2, 0), "max_pool2d: stride must be positive"),
        (lambda: F.max_pool2d(x4, 2, dilation=0), "max_pool2d: dilation must be positive"),
        (lambda: F.max_pool2d(x4, 2, padding=-1), "padding \\(-1, -1\\) must be >= 0"),
        (lambda: F.max_pool2d(x4, 3, padding=2), "at most half the kernel"),
        (lambda: F.max_pool2d(x4, 3, dilation=3), "kernel \\(3, 3\\) \\(dilation \\(3, 3\\)\\) "
                                                  "is larger than the padded input"),
        (lambda: F.max_pool2d(x2, 2), "max_pool2d: expected input of shape \\(N, C, H, W\\)"),
        (lambda: F.avg_pool2d(x4, 2, ceil_mode=True, divisor_override=0),
         "avg_pool2d: divisor_override must be a nonzero integer, got 0"),
        (lambda: F.avg_pool2d(x4, 2, divisor_override=1.5), "nonzero integer, got 1.5"),
        (lambda: F.avg_pool2d(x4, 6), "avg_pool2d: kernel .* is larger than the padded input"),
        (lambda: F.max_pool1d(x4, 2), "max_pool1d: expected input of shape \\(N, C, L\\)"),
        (lambda: F.max_pool1d(x3, (2, 2)), "max_pool1d: kernel_size must be an int or a tuple"),
        (lambda: F.max_pool1d(x3, 3, padding=2), "max_pool1d: padding \\(2,\\) must be >= 0 "
                                                 "and at most half the kernel \\(3,\\)"),
        (lambda: F.max_pool1d(x3, 2, dilation=0), "max_pool1d: dilation must be positive"),
        (lambda: F.avg_pool1d(x3, 6), "avg_pool1d: kernel \\(6,\\) .* larger than the padded"),
        (lambda: F.avg_pool1d(x3, 2, stride="a"), "avg_pool1d: stride must be an int"),
        (lambda: F.adaptive_max_pool2d(x2, 2), "adaptive_max_pool2d: expected input of shape "
                                               "\\(N, C, H, W\\)"),
        (lambda: F.adaptive_max_pool2d(x4, 0), "adaptive_max_pool2d: output size must be "
                                               "positive, got 0"),
        (lambda: F.adaptive_max_pool2d(x4, (1, 2, 3)), "output_size must be an int or a tuple "
                                                       "of 2"),
        (lambda: F.adaptive_max_pool1d(x4, 2), "adaptive_max_pool1d: expected input of shape "
                                               "\\(N, C, L\\)"),
        (lambda: F.adaptive_avg_pool1d(x3, (2, 2)), "adaptive_avg_pool1d: output_size must be"),
        (lambda: F.adaptive_avg_pool1d(x3, -1), "adaptive_avg_pool1d: output size must be "
                                                "positive"),
        (lambda: nn.AvgPool1d((2, 2)), "AvgPool1d: kernel_size must be an int or a tuple"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()
    with pytest.raises(TypeError, match="adaptive_max_pool2d: output_size must be an int or a "
                                        "tuple of 2, got 'a'"):
        F.adaptive_max_pool2d(x4, "a")


def test_onnx_exports_the_options_exactly(tmp_path):
    pytest.importorskip("onnx", reason="the optional extra 'export' (onnx) is not installed")
    ort = pytest.importorskip("onnxruntime",
                              reason="the optional extra 'export' (onnxruntime) is not installed")
    rng = np.random.default_rng(0)
    for i, (layer, shape) in enumerate([
            (nn.MaxPool2d(2, 1, dilation=2), (3, 7, 7)), (nn.MaxPool2d(2, ceil_mode=True),
                                                          (3, 7, 7)),
            (nn.AvgPool2d(2, ceil_mode=True), (3, 7, 7)),
            (nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False), (3, 8, 8)),
            (nn.AvgPool2d(2, divisor_override=3), (3, 8, 8)),
            (nn.MaxPool1d(3, 2, 1, ceil_mode=True), (3, 8)), (nn.AvgPool1d(3, 2), (3, 9)),
            (nn.AdaptiveAvgPool1d(4), (3, 9))]):
        model = nn.Sequential(layer).eval()
        path = nn.onnx.export(model, rng.standard_normal((2, *shape)).astype(np.float32),
                              tmp_path / f"{i}.onnx")
        x = rng.standard_normal((3, *shape)).astype(np.float32)
        (got,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
            None, {"input": x})
        with ad.no_grad():
            np.testing.assert_allclose(got, model(ad.tensor(x)).data, rtol=1e-5, atol=1e-6)
    for layer, shape in [(nn.AdaptiveMaxPool2d(2), (3, 5, 5)), (nn.AdaptiveMaxPool1d(2), (3, 5))]:
        with pytest.raises(NotImplementedError, match=r"no ONNX mapping for "
                           rf"'adaptive_max_pool2d' made in module '0' \({type(layer).__name__}"):
            nn.onnx.export(nn.Sequential(layer), np.ones((2, *shape), np.float32),
                           tmp_path / "refused.onnx")


def test_size_arguments_name_their_own_op_and_refuse_floats():
    x = ad.ones((1, 1, 4, 4))
    for call, match in [
        (lambda: F.max_pool2d(x, (2, 2, 2)), "max_pool2d: kernel_size must be an int or a pair"),
        (lambda: F.avg_pool2d(x, 2, stride=(1, 1, 1)), "avg_pool2d: stride must be an int or"),
        (lambda: F.conv_transpose2d(x, ad.ones((1, 1, 2, 2)), stride=(1, 2, 3)),
         "conv_transpose2d: stride must be an int or a pair"),
        (lambda: F.conv2d(x, ad.ones((1, 1, 2, 2)), stride=1.5),
         r"conv2d: stride must be an int or a pair of ints, got 1.5"),
        (lambda: F.max_pool2d(x, (2.0, 2)), "max_pool2d: kernel_size must be"),
    ]:
        with pytest.raises(ValueError, match=match):
            call()
