"""lp_pool3d and LPPool3d, and norm_type = +-inf in lp_pool1d/2d/3d (PyTorch's max pool of
|x|; it was x^inf before, a silent wrong answer): against PyTorch over random configurations
(values, gradients, second gradients), and without it: the window norms by definition,
the inf limits by hand, gradcheck and gradgradcheck, the printed form, errors, ONNX."""

import math

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck


def _windows_norm(x, k, s, p):
    """The p-norm of each (full) window, by its definition."""
    out = np.empty((*x.shape[:2], *((n - ki) // si + 1 for n, ki, si in zip(x.shape[2:], k, s))))
    for i, j, l in np.ndindex(*out.shape[2:]):
        win = x[..., i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1], l * s[2]:l * s[2] + k[2]]
        w = np.abs(win).reshape(*x.shape[:2], -1)
        if p == math.inf:
            out[..., i, j, l] = w.max(-1)
        elif p == -math.inf:
            out[..., i, j, l] = w.min(-1)
        else:
            out[..., i, j, l] = (win.reshape(w.shape) ** p).sum(-1) ** (1 / p)
    return out


@pytest.mark.parametrize("p", [1, 2, 3.0, 1.5, math.inf, -math.inf])
def test_window_norms(p):
    x = np.abs(np.random.default_rng(0).standard_normal((2, 3, 5, 6, 4))) + 0.1
    if math.isinf(p):
        x = x * np.random.default_rng(1).choice([-1, 1], x.shape)  # |x| for the infinite p
    np.testing.assert_allclose(F.lp_pool3d(ad.tensor(x), p, (3, 2, 2), (2, 1, 2)).data,
                               _windows_norm(x, (3, 2, 2), (2, 1, 2), p), rtol=1e-13)


def test_infinite_norm_type_in_1d_and_2d():
    x = np.array([[[3.0, -4.0, 1.0, -1.0]]])
    assert F.lp_pool1d(ad.tensor(x), math.inf, 2).tolist() == [[[4.0, 1.0]]]
    assert F.lp_pool1d(ad.tensor(x), -math.inf, 2).tolist() == [[[3.0, 1.0]]]
    assert F.lp_pool2d(ad.tensor(x[None]), math.inf, (1, 4)).tolist() == [[[[4.0]]]]
    xg = ad.tensor(x, requires_grad=True)
    F.lp_pool1d(xg, math.inf, 2).sum().backward()  # d|x|/dx at the maximum of |x|
    assert xg.grad.tolist() == [[[0.0, -1.0, 1.0, 0.0]]]


@pytest.mark.parametrize("p,ceil", [(2, False), (1.5, True), (3, True), (math.inf, True)])
def test_gradcheck_and_gradgradcheck(p, ceil):
    rng = np.random.default_rng(5)  # distinct |values| away from 0: no ties, a smooth norm
    x = rng.permutation(2 * 3 * 4 * 5).reshape(1, 2, 3, 4, 5) / 11.0 + 0.5
    xa = ad.tensor(x, requires_grad=True)

    def pool(v):
        return F.lp_pool3d(v, p, (2, 2, 3), (1, 2, 2), ceil)

    assert gradcheck(pool, xa, modes=("rev", "fwd"))
    assert gradgradcheck(pool, xa, modes=("rev", "fwd"))
    assert gradcheck(pool, xa[0])  # unbatched (C, D, H, W)


def test_match_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    rng = np.random.default_rng(0)
    worst = 0.0
    for t in range(60):
        k = tuple(int(v) for v in rng.integers(1, 4, 3))
        s = [None, tuple(int(v) for v in rng.integers(1, 3, 3)), 2][t % 3]
        x = rng.standard_normal((2, 2, *(int(ki + rng.integers(0, 4)) for ki in k)))
        p = [1, 2, 3, 1.5, 4.0, math.inf, -math.inf][t % 7]
        x = np.abs(x) + 0.1 if p == 1.5 else x
        if t % 2:
            x[..., :k[0], :k[1], :k[2]] = 0  # a zero window
        cm = bool(t % 4 == 1)
        a, b = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        got, want = F.lp_pool3d(a, p, k, s, cm), torch.nn.functional.lp_pool3d(b, p, k, s, cm)
        np.testing.assert_allclose(got.data, want.detach().numpy(), rtol=1e-12, atol=1e-14)
        g = rng.standard_normal(got.shape)
        (ga,) = ad.gradients(got, [a], ad.tensor(g))
        (gb,) = torch.autograd.grad(want, [b], torch.tensor(g))
        np.testing.assert_allclose(ga.data, gb.numpy(), rtol=1e-12, atol=1e-14)
        worst = max(worst, float(np.abs(ga.data - gb.numpy()).max()))
        for f, tf, xs in ((F.lp_pool1d, torch.nn.functional.lp_pool1d, x[:, :, 0, 0]),
                          (F.lp_pool2d, torch.nn.functional.lp_pool2d, x[:, :, 0])):
            kk = k[-xs.ndim + 2:] if xs.ndim == 4 else k[-1]
            np.testing.assert_allclose(f(ad.tensor(xs), p, kk, None, cm).data,
                                       tf(torch.tensor(xs), p, kk, None, cm).numpy(),
                                       rtol=1e-12, atol=1e-14)


def test_second_gradient_matches_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    rng = np.random.default_rng(1)
    x = np.abs(rng.standard_normal((2, 2, 4, 5, 3))) + 0.2
    for p in (2, 3, 1.5):
        b = torch.tensor(x, requires_grad=True)
        (gb,) = torch.autograd.grad((torch.nn.functional.lp_pool3d(b, p, 2, 1) ** 2).sum(), b,
                                    create_graph=True)
        (sb,) = torch.autograd.grad((gb ** 2).sum(), b)

        def energy(v, p=p):
            return (F.lp_pool3d(v, p, 2, 1) ** 2).sum()

        sa = ad.grad(lambda v: (ad.grad(energy)(v) ** 2).sum())(ad.tensor(x))
        np.testing.assert_allclose(sa.data, sb.numpy(), rtol=1e-10, atol=1e-12)


def test_module_prints_and_runs_as_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    x = np.random.default_rng(2).standard_normal((3, 4, 5, 6))  # unbatched (C, D, H, W)
    for args in [(2, 2), (1.5, (1, 2, 3), 1, True), (3, 3, (1, 2, 1))]:
        ours, theirs = nn.LPPool3d(*args), torch.nn.LPPool3d(*args)
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(ours(ad.tensor(x)).data, theirs(torch.tensor(x)).numpy(),
                                   rtol=1e-12, atol=1e-14)


def test_errors():
    x = ad.ones((1, 1, 3, 3, 3))
    with pytest.raises(ValueError, match="lp_pool3d: kernel_size must be an int or a tuple of "
                                         "three ints"):
        F.lp_pool3d(x, 2, (2, 2))
    with pytest.raises(ValueError, match="avg_pool3d: expected input of shape"):
        F.lp_pool3d(ad.ones((3, 3, 3)), 2, 2)
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.lp_pool3d(x, 2, 4)


@pytest.mark.parametrize("p,ceil,op", [(2, False, "LpPool"), (1.5, True, "AveragePool"),
                                       (math.inf, False, "MaxPool"),
                                       (-math.inf, True, "MaxPool")])
def test_onnx_export(p, ceil, op, tmp_path):
    onnx = pytest.importorskip("onnx", reason="the optional extra 'export' (onnx) is not "
                                              "installed")
    ort = pytest.importorskip("onnxruntime",
                              reason="the optional extra 'export' (onnxruntime) is not installed")
    rng = np.random.default_rng(3)
    for model in (nn.LPPool3d(p, (2, 3, 2), (1, 2, 2), ceil), nn.LPPool2d(p, 2, 1, ceil)):
        shape = (2, 3, 5, 6, 7)[:3 + (2 if isinstance(model, nn.LPPool2d) else 3) - 1]
        x = rng.standard_normal(shape).astype(np.float32)
        x = np.abs(x) + 0.1 if p == 1.5 else x
        path = nn.onnx.export(model, x, tmp_path / "m.onnx", dynamic_batch=False)
        types = [n.op_type for n in onnx.load(str(path)).graph.node]
        assert op in types, types
        got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
            None, {"input": x})[0]
        np.testing.assert_allclose(got, model(ad.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)
