"""max_pool1d/2d's return_indices and max_unpool1d/2d (PyTorch's): indices as h * W + w,
the unpool as the scatter of each value to its index, gradients, errors; against PyTorch
where it is installed."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck


def test_indices_are_flat_positions_in_the_input_plane():
    x = ad.arange(16.0).reshape(1, 1, 4, 4)
    y, i = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(i.data, [[[[5, 7], [13, 15]]]])
    assert i.dtype == np.int64 and not i.requires_grad
    np.testing.assert_array_equal(y.data, [[[[5.0, 7.0], [13.0, 15.0]]]])
    # stride 2, padding 1, dilation 2 on a 3x5 plane, W = 5 in h * W + w: the windows'
    # rows are -1 and 1, then 1 and 3 (only row 1 is in the input); columns -1 and 1, 1 and 3,
    # 3 and 5
    x = ad.tensor(np.array([[[[0.0, 9, 1, 2, 3], [4, 5, 6, 8, 7], [1, 1, 1, 1, 1]]]]))
    y, i = F.max_pool2d(x, 2, stride=2, padding=1, dilation=2, return_indices=True)
    np.testing.assert_array_equal(i.data, [[[[6, 8, 8], [6, 8, 8]]]])
    np.testing.assert_array_equal(y.data, [[[[5.0, 8.0, 8.0], [5.0, 8.0, 8.0]]]])
    # unbatched input, and the 1-d pool (the position along L)
    y3, i3 = F.max_pool2d(ad.arange(16.0).reshape(1, 4, 4), 2, return_indices=True)
    assert y3.shape == i3.shape == (1, 2, 2)
    y1, i1 = F.max_pool1d(ad.tensor([[[1.0, 3.0, 2.0, 5.0, 4.0]]]), 2, ceil_mode=True,
                          return_indices=True)
    np.testing.assert_array_equal(i1.data, [[[1, 3, 4]]])
    np.testing.assert_array_equal(y1.data, [[[3.0, 5.0, 4.0]]])


def test_a_window_of_minus_inf_at_a_pad_points_into_the_input_and_gets_the_gradient():
    """Every cell -inf: the pad cell (also -inf) came first in three windows, and their
    index and gradient went there (lost); PyTorch takes the window's first cell in the
    input."""
    x = ad.tensor(np.full((1, 1, 4, 4), -np.inf), requires_grad=True)
    y, i = F.max_pool2d(x, 3, stride=2, padding=1, return_indices=True)
    np.testing.assert_array_equal(i.data, [[[[0, 1], [4, 5]]]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data[0, 0], [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0],
                                                      [0, 0, 0, 0]])
    xi = ad.tensor(np.full((1, 1, 3, 3), np.iinfo(np.int16).min, np.int16))
    _, ii = F.max_pool2d(xi, 2, stride=1, padding=1, return_indices=True)
    np.testing.assert_array_equal(ii.data, [[[[0, 0, 1, 2], [0, 0, 1, 2], [3, 3, 4, 5],
                                               [6, 6, 7, 8]]]])


def test_unpool_puts_each_value_at_its_index():
    x = ad.tensor(np.random.default_rng(0).standard_normal((2, 3, 6, 5)))
    y, i = F.max_pool2d(x, 2, return_indices=True)
    u = F.max_unpool2d(y, i, 2, output_size=(6, 5))
    assert u.shape == (2, 3, 6, 5)
    kept = u.data != 0
    np.testing.assert_array_equal(u.data[kept], x.data[kept])
    assert kept.reshape(6, -1).sum(1).tolist() == [6] * 6  # one per window
    np.testing.assert_array_equal(np.take_along_axis(u.data.reshape(2, 3, -1),
                                                     i.data.reshape(2, 3, -1), 2),
                                  y.data.reshape(2, 3, -1))
    y4, i4 = F.max_pool2d(x[..., :4], 2, return_indices=True)
    assert F.max_unpool2d(y4, i4, 2).shape == (2, 3, 6, 4)  # the default size: (L-1) 2 + 2
    assert F.max_unpool2d(y[0], i[0], 2, output_size=(2, 3, 6, 5)).shape == (3, 6, 5)
    y1, i1 = F.max_pool1d(ad.tensor([[[1.0, 3.0, 2.0, 5.0, 4.0]]]), 2, ceil_mode=True,
                          return_indices=True)
    np.testing.assert_array_equal(F.max_unpool1d(y1, i1, 2, output_size=[5]).data,
                                  [[[0.0, 3.0, 0.0, 5.0, 4.0]]])


def test_empty_batch_float16_and_other_index_types():
    for shape in [(0, 2, 4, 4), (2, 0, 4, 4)]:
        x = ad.zeros(shape, requires_grad=True)
        y, i = F.max_pool2d(x, 2, return_indices=True)
        u = F.max_unpool2d(y, i, 2)
        assert u.shape == shape
        u.sum().backward()
        assert x.grad.shape == shape
    x16 = ad.tensor(np.arange(16, dtype=np.float16).reshape(1, 1, 4, 4), requires_grad=True)
    y, i = F.max_pool2d(x16, 2, return_indices=True)
    u = F.max_unpool2d(y, i, 2)
    assert u.dtype == np.float16
    u.sum().backward()
    assert x16.grad.dtype == np.float16 and x16.grad.data.sum() == 4
    for idx in (i.data.astype(np.int32), i.tolist()):
        np.testing.assert_array_equal(F.max_unpool2d(y, idx, 2).data, u.data)


def test_unpool_gradients_to_second_order():
    rng = np.random.default_rng(1)
    x = ad.tensor(rng.standard_normal((1, 2, 5, 5)))
    y, i = F.max_pool2d(x, 2, stride=2, padding=1, return_indices=True)
    v = ad.tensor(rng.standard_normal(y.shape), requires_grad=True)
    assert gradcheck(lambda t: F.max_unpool2d(t, i, 2, 2, 1, (5, 5)), v)
    assert gradgradcheck(lambda t: F.max_unpool2d(t * t, i, 2, 2, 1, (5, 5)), v)
    g = ad.tensor(rng.standard_normal((1, 2, 5, 5)))
    (gv,) = ad.gradients((F.max_unpool2d(v, i, 2, 2, 1, (5, 5)) * g).sum(), [v])
    np.testing.assert_array_equal(gv.data, np.take_along_axis(
        g.data.reshape(1, 2, -1), i.data.reshape(1, 2, -1), 2).reshape(v.shape))


def test_layers_return_indices_and_unpool():
    x = ad.arange(32.0).reshape(1, 2, 4, 4)
    y, i = nn.MaxPool2d(2, return_indices=True)(x)
    assert nn.MaxUnpool2d(2)(y, i).shape == (1, 2, 4, 4)
    assert repr(nn.MaxUnpool2d(3, 2, 1)) == "MaxUnpool2d(kernel_size=(3, 3), stride=(2, 2), " \
                                            "padding=(1, 1))"
    y1, i1 = nn.MaxPool1d(2, return_indices=True)(ad.arange(8.0).reshape(1, 2, 4))
    assert nn.MaxUnpool1d(2)(y1, i1).shape == (1, 2, 4)
    assert repr(nn.MaxUnpool1d(2)) == "MaxUnpool1d(kernel_size=(2,), stride=(2,), padding=(0,))"


def test_unpool_errors_name_the_op_and_the_value():
    y, i = F.max_pool2d(ad.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)
    cases = [
        (lambda: F.max_unpool2d(y, i + 1, 2), ValueError,
         r"max_unpool2d: index 16 is out of range for an output of size \(4, 4\) \(16 cells"),
        (lambda: F.max_unpool2d(y, i - 6, 2), ValueError, "max_unpool2d: index -1 is out of"),
        (lambda: F.max_unpool2d(y, i.data.astype(float), 2), TypeError,
         "max_unpool2d: indices must be integers.*float64"),
        (lambda: F.max_unpool2d(y, i[:, :, :1], 2), ValueError,
         r"indices have shape \(1, 1, 1, 2\) but the input has shape \(1, 1, 2, 2\)"),
        (lambda: F.max_unpool2d(y, i, 2, output_size=(6, 4)), ValueError,
         r"invalid output_size \(6, 4\) \(axis 0 must be between 2 and 6, both excluded\)"),
        (lambda: F.max_unpool2d(y, i, 2, output_size=(4,)), ValueError,
         "output_size must have 2 or 4 entries"),
        (lambda: F.max_unpool2d(y[0, 0, 0], i[0, 0, 0], 2), ValueError,
         r"expected input of 4 dimensions \(or 3 unbatched\)"),
        (lambda: F.max_unpool2d(y, i, 0), ValueError, "kernel_size .* must be positive"),
        (lambda: F.max_unpool2d(y, i, (2, 2, 2)), ValueError,
         "max_unpool2d: kernel_size must be an int or a pair of ints"),
        (lambda: F.max_unpool1d(y[0], i[0], 2, padding=3), ValueError,
         "max_unpool1d: the output size .* is not positive"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()


def test_against_pytorch_values_indices_and_gradients():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: the comparison "
                                                "with its max_pool2d and max_unpool2d")
    tF = torch.nn.functional
    rng = np.random.default_rng(2)
    checked = 0
    for trial in range(120):
        k, s, d = (tuple(int(v) for v in rng.integers(1, 4, 2)) for _ in range(3))
        p = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
        h, w = (int(v) for v in rng.integers(max(k) * 2, 9, 2))
        x = rng.integers(-2, 2, (2, 2, h, w)).astype(np.float64)
        x[x == -2] = -np.inf
        if trial % 3 == 0:
            x[:] = -np.inf
        if trial % 5 == 0:
            x[0, 0, 0, 0] = np.nan
        ceil = bool(trial % 2)
        try:
            tx = torch.tensor(x, requires_grad=True)
            ty, ti = tF.max_pool2d(tx, k, s, p, d, ceil_mode=ceil, return_indices=True)
        except RuntimeError:  # a window past the input: both refuse
            with pytest.raises(ValueError):
                F.max_pool2d(ad.tensor(x), k, s, p, d, ceil_mode=ceil, return_indices=True)
            continue
        ax = ad.tensor(x, requires_grad=True)
        ay, ai = F.max_pool2d(ax, k, s, p, d, ceil_mode=ceil, return_indices=True)
        g = rng.standard_normal(ty.shape)
        ty.backward(torch.tensor(g))
        ay.backward(g)
        np.testing.assert_array_equal(ay.data, ty.detach().numpy())
        np.testing.assert_array_equal(ai.data, ti.numpy())
        np.testing.assert_allclose(ax.grad.data, tx.grad.numpy(), rtol=1e-14, atol=1e-14)
        if not ceil and d == (1, 1):  # the unpool of what the pool gave
            v = rng.standard_normal(ty.shape)
            tv = torch.tensor(v, requires_grad=True)
            tu = tF.max_unpool2d(tv, ti, k, s, p, output_size=(h, w))
            av = ad.tensor(v, requires_grad=True)
            au = F.max_unpool2d(av, ai, k, s, p, output_size=(h, w))
            gu = rng.standard_normal(tu.shape)
            tu.backward(torch.tensor(gu))
            au.backward(gu)
            flat = ai.data.reshape(4, -1)
            if all(len(np.unique(r)) == len(r) for r in flat):  # a repeated index: either value
                np.testing.assert_array_equal(au.data, tu.detach().numpy())
            np.testing.assert_allclose(av.grad.data, tv.grad.numpy(), rtol=1e-14, atol=1e-14)
        checked += 1
    assert checked > 60


def test_onnx_export_refuses_return_indices_and_says_why(tmp_path):
    pytest.importorskip("onnx", reason="the optional extra 'export' (onnx) is not installed")

    class PoolUnpool(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.pool, self.unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)

        def forward(self, x: ad.Tensor) -> ad.Tensor:
            return self.unpool(*self.pool(x))

    with pytest.raises(NotImplementedError, match=r"'max_pool2d' made in module 'pool'.*"
                                                  "return_indices=True is not exported"):
        nn.onnx.export(PoolUnpool(), ad.ones((1, 1, 4, 4)), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_adaptive_max_pools_return_indices():
    x = ad.arange(15.0).reshape(1, 1, 3, 5)
    y, i = F.adaptive_max_pool2d(x, (1, 2), return_indices=True)
    np.testing.assert_array_equal(i.data, [[[[12, 14]]]])  # bins: columns 0-2 and 2-4
    assert i.dtype == np.int64
    np.testing.assert_array_equal(F.max_unpool2d(y, i, (3, 3), (2, 2), output_size=(3, 5))
                                  .data.reshape(-1).nonzero()[0], [12, 14])
    y1, i1 = nn.AdaptiveMaxPool1d(2, return_indices=True)(ad.tensor([[[1.0, 5.0, 2.0, 0.0]]]))
    np.testing.assert_array_equal(i1.data, [[[1, 2]]])
    np.testing.assert_array_equal(y1.data, [[[5.0, 2.0]]])
    y3, i3 = nn.AdaptiveMaxPool2d(1, return_indices=True)(ad.arange(8.0).reshape(2, 2, 2))
    assert y3.shape == i3.shape == (2, 1, 1) and i3.data.tolist() == [[[3]], [[3]]]


def test_adaptive_indices_against_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: the comparison "
                                                "with its adaptive max pools' indices")
    rng = np.random.default_rng(3)
    for size in [1, (2, 3), (3, None), (5, 4)]:
        x = rng.integers(0, 3, (2, 3, 7, 6)).astype(np.float64)  # ties
        x[0, 0, 1, 1] = np.nan
        ty, ti = torch.nn.functional.adaptive_max_pool2d(torch.tensor(x), size, True)
        ay, ai = F.adaptive_max_pool2d(ad.tensor(x), size, return_indices=True)
        np.testing.assert_array_equal(ai.data, ti.numpy())
        np.testing.assert_array_equal(ay.data, ty.numpy())
    t1 = torch.nn.functional.adaptive_max_pool1d(torch.tensor(x[0]), 4, True)
    a1 = F.adaptive_max_pool1d(ad.tensor(x[0]), 4, return_indices=True)
    np.testing.assert_array_equal(a1[1].data, t1[1].numpy())
