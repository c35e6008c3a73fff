"""adaptive_max_pool3d and AdaptiveMaxPool3d: against PyTorch over random sizes (values, flat
indices, gradients; ties, NaN and -inf), and without it: a brute-force NumPy loop over
PyTorch's bins, hand cases, gradcheck and gradgradcheck in both modes, unbatched input,
float32 kept, every error."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck


def _input(rng, t):
    x = rng.standard_normal((2, 3, *(int(v) for v in rng.integers(1, 8, 3))))
    if t % 3 == 0:
        x = np.round(x)  # ties
    if t % 5 == 0:
        x[rng.random(x.shape) < 0.1] = np.nan
    if t % 7 == 0:
        x[rng.random(x.shape) < 0.5] = -np.inf
    return x


def _size(rng, x):
    return tuple(None if rng.random() < 0.2 else int(rng.integers(1, 2 * n + 1))
                 for n in x.shape[2:])


def _reference(x, size):
    """PyTorch's loop: bins [floor(i n / o), ceil((i + 1) n / o)), (d, h, w) order, a value
    taken when greater or NaN."""
    n, c, *dims = x.shape
    size = [d if o is None else o for o, d in zip(size, dims)]
    out, where = np.empty((n, c, *size)), np.empty((n, c, *size), np.int64)
    bins = [[(i * d // o, -(-(i + 1) * d // o)) for i in range(o)] for d, o in zip(dims, size)]
    for a in range(n):
        for b in range(c):
            for i, (d0, d1) in enumerate(bins[0]):
                for j, (h0, h1) in enumerate(bins[1]):
                    for k, (w0, w1) in enumerate(bins[2]):
                        best, at = -np.inf, d0 * dims[1] * dims[2] + h0 * dims[2] + w0
                        for dd in range(d0, d1):
                            for hh in range(h0, h1):
                                for ww in range(w0, w1):
                                    v = x[a, b, dd, hh, ww]
                                    if v > best or np.isnan(v):
                                        best, at = v, (dd * dims[1] + hh) * dims[2] + ww
                        out[a, b, i, j, k], where[a, b, i, j, k] = best, at
    return out, where


def test_matches_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    rng = np.random.default_rng(0)
    for t in range(120):
        x = _input(rng, t)
        size = _size(rng, x) if t % 4 else int(rng.integers(1, 5))
        tx, xa = torch.tensor(x, requires_grad=True), ad.tensor(x, requires_grad=True)
        ty, ti = torch.nn.functional.adaptive_max_pool3d(tx, size, return_indices=True)
        y, i = F.adaptive_max_pool3d(xa, size, return_indices=True)
        np.testing.assert_array_equal(y.data, ty.detach().numpy())
        np.testing.assert_array_equal(i.data, ti.numpy())
        assert i.dtype == np.int64
        g = rng.standard_normal(y.shape)
        y.backward(ad.tensor(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(xa.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_second_gradient_matches_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    rng = np.random.default_rng(1)
    for _ in range(10):
        x = rng.standard_normal((2, 2, 5, 4, 6))
        size = _size(rng, x)
        tx, xa = torch.tensor(x, requires_grad=True), ad.tensor(x, requires_grad=True)
        g = rng.standard_normal(F.adaptive_max_pool3d(xa, size).shape)
        ty = torch.nn.functional.adaptive_max_pool3d(tx, size)
        (tgx,) = torch.autograd.grad((ty ** 2 * torch.tensor(g)).sum(), tx, create_graph=True)
        (tgx ** 2).sum().backward()

        def energy(v, size=size, g=g):
            return (F.adaptive_max_pool3d(v, size) ** 2 * ad.tensor(g)).sum()

        second = ad.grad(lambda v: (ad.grad(energy)(v) ** 2).sum())(xa)
        np.testing.assert_allclose(second.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_layer_matches_pytorch_unbatched_and_printed():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    x = np.random.default_rng(2).standard_normal((3, 4, 5, 6))  # unbatched (C, D, H, W)
    for size in (2, (3, None, 2), (None, None, None)):
        ours, theirs = nn.AdaptiveMaxPool3d(size, True), torch.nn.AdaptiveMaxPool3d(size, True)
        (y, i), (ty, ti) = ours(ad.tensor(x)), theirs(torch.tensor(x))
        np.testing.assert_array_equal(y.data, ty.numpy())
        np.testing.assert_array_equal(i.data, ti.numpy())
        assert repr(ours) == repr(theirs)
        assert ours.state_dict() == {} and not theirs.state_dict()


def test_matches_brute_force():
    rng = np.random.default_rng(3)
    for t in range(40):
        x = _input(rng, t)[:1, :2, :5, :5, :5]
        size = _size(rng, x)
        y, i = F.adaptive_max_pool3d(ad.tensor(x), size, return_indices=True)
        want, where = _reference(x, size)
        np.testing.assert_array_equal(y.data, want)
        np.testing.assert_array_equal(i.data, where)


def test_hand_computed():
    x = ad.arange(27.0).reshape(1, 1, 3, 3, 3)  # each value is its own flat index
    y, i = F.adaptive_max_pool3d(x, 2, return_indices=True)
    # bins along each axis of 3 to 2: [0, 2) and [1, 3), so the maxima sit at offsets 1, 2
    want = np.array([[[y9 + y3 + y1 for y1 in (1, 2)] for y3 in (3, 6)] for y9 in (9, 18)],
                    dtype=np.float64)
    np.testing.assert_array_equal(y.data[0, 0], want)
    np.testing.assert_array_equal(i.data[0, 0], want.astype(np.int64))
    # a tie: every cell 1, so each bin's first cell in (d, h, w) order takes the gradient
    xt = ad.ones((1, 1, 2, 2, 2), dtype=np.float64, requires_grad=True)
    F.adaptive_max_pool3d(xt, 1).sum().backward()
    assert xt.grad.data.ravel().tolist() == [1.0] + [0.0] * 7
    # overlapping bins sharing one maximum: its gradient is the sum of both
    xo = ad.tensor(np.array([0.0, 5.0, 1.0]).reshape(1, 1, 3, 1, 1), requires_grad=True)
    F.adaptive_max_pool3d(xo, (2, 1, 1)).sum().backward()
    assert xo.grad.data.ravel().tolist() == [0.0, 2.0, 0.0]
    # two NaN: the last in (d, h, w) order wins
    xn = np.zeros((1, 1, 2, 1, 2))
    xn[0, 0, 0, 0, 1] = xn[0, 0, 1, 0, 0] = np.nan
    assert F.adaptive_max_pool3d(ad.tensor(xn), 1, return_indices=True)[1].item() == 2


@pytest.mark.parametrize("size", [(2, None, 3), 1, (3, 2, 4)])
def test_gradcheck_and_gradgradcheck(size):
    rng = np.random.default_rng(5)  # distinct values: no ties to break the max's derivative
    x = ad.tensor(rng.permutation(2 * 3 * 4 * 5).reshape(2, 3, 4, 5) / 7.0, requires_grad=True)

    def pool(v):
        return F.adaptive_max_pool3d(v, size)

    assert gradcheck(pool, x[None], modes=("rev", "fwd"))
    assert gradgradcheck(pool, x[None], modes=("rev", "fwd"))
    assert gradcheck(pool, x)  # unbatched (C, D, H, W)


def test_float32_and_unbatched():
    x = ad.ones((2, 4, 4, 4), dtype=np.float32, requires_grad=True)
    y, i = nn.AdaptiveMaxPool3d(2, return_indices=True)(x)
    assert y.shape == i.shape == (2, 2, 2, 2) and y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_errors():
    x = ad.ones((1, 2, 4, 4, 4))
    with pytest.raises(ValueError, match=r"adaptive_max_pool3d: expected input of shape "
                                         r"\(N, C, D, H, W\)"):
        F.adaptive_max_pool3d(ad.ones((4, 4, 4)), 2)
    with pytest.raises(ValueError, match="output_size must be an int or a tuple of 3"):
        F.adaptive_max_pool3d(x, (2, 2))
    with pytest.raises(TypeError, match="output_size must be an int or a tuple of 3"):
        F.adaptive_max_pool3d(x, "2")
    with pytest.raises(ValueError, match="adaptive_max_pool3d: output size must be positive"):
        F.adaptive_max_pool3d(x, (2, 0, 2))


class _ValuesOnly(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.AdaptiveMaxPool3d(2, return_indices=True)

    def forward(self, x):
        return self.pool(x)[0]


@pytest.mark.parametrize(("size", "op"), [(1, "GlobalMaxPool"), ((2, 3, None), "MaxPool")])
def test_onnx_export(size, op, tmp_path):
    onnx = pytest.importorskip("onnx", reason="the optional extra 'export' (onnx) is not "
                                              "installed")
    ort = pytest.importorskip("onnxruntime",
                              reason="the optional extra 'export' (onnxruntime) is not installed")
    model = nn.AdaptiveMaxPool3d(size)
    rng = np.random.default_rng(6)
    path = nn.onnx.export(model, rng.standard_normal((2, 2, 4, 6, 5)).astype(np.float32),
                          tmp_path / "m.onnx")
    assert [n.op_type for n in onnx.load(str(path)).graph.node] == [op]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for n in (1, 3):
        x = rng.standard_normal((n, 2, 4, 6, 5)).astype(np.float32)
        np.testing.assert_array_equal(session.run(None, {"input": x})[0],
                                      model(ad.tensor(x)).numpy())


@pytest.mark.parametrize(("model", "msg"), [
    (nn.AdaptiveMaxPool3d((3, None, 2)), r"\(AdaptiveMaxPool3d\): output_size=\(3, None, 2\) "
                                         r"for input sizes \(4, 6, 5\) \(uneven bins\) is not "
                                         "exported"),
    (_ValuesOnly(), r"module 'pool' \(AdaptiveMaxPool3d\): return_indices=True is not exported"),
])
def test_onnx_refusals_name_the_option(model, msg, tmp_path):
    pytest.importorskip("onnx", reason="the optional extra 'export' (onnx) is not installed")
    with pytest.raises(NotImplementedError, match=msg):
        nn.onnx.export(model, np.ones((2, 2, 4, 6, 5), np.float32), tmp_path / "m.onnx")
