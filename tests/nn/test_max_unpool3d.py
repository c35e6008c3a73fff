"""max_unpool3d and MaxUnpool3d (PyTorch's): each value at its flat index d H W + h W + w;
against PyTorch over random pools (values, output_size, gradients), and without it: hand
cases, the round trip with max_pool3d, gradcheck and gradgradcheck, unbatched input, every
error, and the ONNX refusal of the pool-unpool pair."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck


def test_matches_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(80):
        k = tuple(int(v) for v in rng.integers(1, 4, 3))
        s = tuple(int(v) for v in rng.integers(1, 4, 3))
        p = tuple(int(rng.integers(0, ki // 2 + 1)) for ki in k)
        x = rng.standard_normal((2, 3, *(int(v) for v in rng.integers(3, 8, 3))))
        try:
            ty, ti = torch.nn.functional.max_pool3d(torch.tensor(x), k, s, p,
                                                    return_indices=True)
        except RuntimeError:
            continue
        default = [(n - 1) * si - 2 * pi + ki for n, si, pi, ki in zip(ty.shape[2:], s, p, k)]
        out = None if rng.random() < 0.4 else [  # within a stride of the default
            d + int(rng.integers(0, si)) for d, si in zip(default, s)]
        y = ty.numpy()
        ty_ = torch.tensor(y, requires_grad=True)
        ya = ad.tensor(y, requires_grad=True)
        try:
            tu = torch.nn.functional.max_unpool3d(ty_, ti, k, s, p, output_size=out)
        except RuntimeError:  # an index past PyTorch's output (a pool input larger than it)
            with pytest.raises(ValueError):
                F.max_unpool3d(ya, ad.tensor(ti.numpy()), k, s, p, output_size=out)
            continue
        u = F.max_unpool3d(ya, ad.tensor(ti.numpy()), k, s, p, output_size=out)
        np.testing.assert_array_equal(u.data, tu.detach().numpy())
        g = rng.standard_normal(u.shape)
        (u * ad.tensor(g)).sum().backward()
        (tu * torch.tensor(g)).sum().backward()
        np.testing.assert_array_equal(ya.grad.data, ty_.grad.numpy())
        checked += 1
    assert checked > 25


def test_layer_matches_pytorch_unbatched_and_printed():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    x = np.random.default_rng(1).standard_normal((3, 4, 6, 8))  # unbatched (C, D, H, W)
    ty, ti = torch.nn.MaxPool3d(2, return_indices=True)(torch.tensor(x))
    ours, theirs = nn.MaxUnpool3d(2, stride=(2, 2, 2)), torch.nn.MaxUnpool3d(2, stride=(2, 2, 2))
    for size in (None, (5, 7, 9), (3, 3, 5, 7, 9)):
        want = theirs(ty, ti, output_size=size).numpy()
        got = ours(ad.tensor(ty.numpy()), ad.tensor(ti.numpy()), output_size=size)
        np.testing.assert_array_equal(got.data, want)
    assert repr(ours) == repr(theirs)
    assert repr(nn.MaxUnpool3d((1, 2, 3), 1, (0, 1, 1))) == repr(
        torch.nn.MaxUnpool3d((1, 2, 3), 1, (0, 1, 1)))
    assert ours.state_dict() == {} and not theirs.state_dict()


def test_hand_computed_and_round_trip():
    x = ad.arange(64.0).reshape(1, 1, 4, 4, 4)
    y, i = F.max_pool3d(x, 2, return_indices=True)
    u = F.max_unpool3d(y, i, 2)
    want = np.zeros(64)
    want[[21, 23, 29, 31, 53, 55, 61, 63]] = [21, 23, 29, 31, 53, 55, 61, 63]
    np.testing.assert_array_equal(u.data.ravel(), want)
    # output_size one bigger on the depth axis: d H W + h W + w reads H W of the output
    u5 = F.max_unpool3d(y, i, 2, output_size=(5, 4, 4))
    assert u5.shape == (1, 1, 5, 4, 4)
    np.testing.assert_array_equal(u5.data.ravel()[:64], want)
    # unbatched (C, D, H, W), with a size of 3 or 5 entries (PyTorch refuses 4)
    assert F.max_unpool3d(y[0], i[0], 2).shape == (1, 4, 4, 4)
    assert F.max_unpool3d(y[0], i[0], 2, output_size=(9, 9, 5, 4, 4)).shape == (1, 5, 4, 4)
    # padding and stride: the default size (L - 1) s - 2 p + k
    assert F.max_unpool3d(ad.ones((1, 1, 2, 2, 2)), np.zeros((1, 1, 2, 2, 2), np.int64),
                          3, stride=2, padding=1).shape == (1, 1, 3, 3, 3)


def test_gradcheck_and_gradgradcheck():
    y, i = F.max_pool3d(ad.arange(120.0).reshape(1, 2, 3, 4, 5) / 7, 2, stride=1,
                        return_indices=True)
    yv = ad.tensor(np.random.default_rng(2).standard_normal(y.shape), requires_grad=True)

    def unpool(v):
        return F.max_unpool3d(v, i, 2, stride=1)

    assert gradcheck(unpool, yv, modes=("rev", "fwd"))
    assert gradgradcheck(unpool, yv, modes=("rev", "fwd"))


def test_errors():
    y, i = F.max_pool3d(ad.arange(64.0).reshape(1, 1, 4, 4, 4), 2, return_indices=True)
    cases = [
        (lambda: F.max_unpool3d(y, i + 64, 2), ValueError,
         r"max_unpool3d: index \d+ is out of range for an output of size \(4, 4, 4\) \(64"),
        (lambda: F.max_unpool3d(y, i.data.astype(float), 2), TypeError,
         "max_unpool3d: indices must be integers.*float64"),
        (lambda: F.max_unpool3d(y, i[:, :, :1], 2), ValueError,
         r"indices have shape \(1, 1, 1, 2, 2\) but the input has shape \(1, 1, 2, 2, 2\)"),
        (lambda: F.max_unpool3d(y, i, 2, output_size=(6, 4, 4)), ValueError,
         r"invalid output_size \(6, 4, 4\) \(axis 0 must be between 2 and 6, both excluded"),
        (lambda: F.max_unpool3d(y, i, 2, output_size=(4, 4)), ValueError,
         "output_size must have 3 or 5 entries"),
        (lambda: F.max_unpool3d(y[0], i[0], 2, output_size=(1, 4, 4, 4)), ValueError,
         r"output_size must have 3 or 5 entries, got \(1, 4, 4, 4\)"),
        (lambda: F.max_unpool3d(y[0, 0], i[0, 0], 2), ValueError,
         r"max_unpool3d: expected input of 5 dimensions \(or 4 unbatched\)"),
        (lambda: F.max_unpool3d(y, i, (2, 0, 2)), ValueError, "kernel_size .* must be positive"),
        (lambda: F.max_unpool3d(y, i, (2, 2)), ValueError,
         "max_unpool3d: kernel_size must be an int or a tuple of three ints"),
        (lambda: F.max_unpool3d(y, i, 1, padding=1), ValueError,
         "max_unpool3d: the output size .* is not positive"),
        (lambda: nn.MaxUnpool3d((2, 2)), ValueError,
         "MaxUnpool3d: kernel_size must be an int or a tuple of three ints"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()


def test_onnx_export_refuses_the_pool_unpool_pair(tmp_path):
    pytest.importorskip("onnx", reason="the optional extra 'export' (onnx) is not installed")

    class PoolUnpool(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.pool, self.unpool = nn.MaxPool3d(2, return_indices=True), nn.MaxUnpool3d(2)

        def forward(self, x: ad.Tensor) -> ad.Tensor:
            return self.unpool(*self.pool(x))

    with pytest.raises(NotImplementedError, match=r"module 'pool' \(MaxPool3d\): "
                                                  "return_indices=True is not exported"):
        nn.onnx.export(PoolUnpool(), ad.ones((1, 1, 4, 4, 4)), tmp_path / "m.onnx",
                       dynamic_batch=False)
    assert not (tmp_path / "m.onnx").exists()
