"""ConvTranspose3d / F.conv_transpose3d: against PyTorch over random configurations (float64
values and gradients in input, weight and bias; the layer with PyTorch's state dict and
printed form), and without it: the adjoint identity <conv3d(x), y> = <x, conv_transpose3d(y)>,
a hand-computed case, gradcheck and gradgradcheck in both modes, float32 kept, every error."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck

TOL = dict(rtol=1e-11, atol=1e-11)


def _config(rng):
    g = int(rng.choice([1, 2]))
    cin, cout = g * int(rng.integers(1, 3)), g * int(rng.integers(1, 3))
    k = tuple(int(v) for v in rng.integers(1, 4, 3))
    s = tuple(int(v) for v in rng.integers(1, 4, 3))
    d = tuple(int(v) for v in rng.integers(1, 3, 3))
    p = tuple(int(v) for v in rng.integers(0, 3, 3))
    op = tuple(int(rng.integers(0, max(si, di))) for si, di in zip(s, d))
    x_shape = (2, cin, *(int(v) for v in rng.integers(1, 5, 3)))
    return x_shape, (cin, cout // g, *k), (s, p, op, g, d)


def test_conv_transpose3d_matches_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(120):
        xs, ws, args = _config(rng)
        x, w = rng.standard_normal(xs), rng.standard_normal(ws)
        b = rng.standard_normal(ws[1] * args[3])
        tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        try:
            ty = torch.nn.functional.conv_transpose3d(tx, tw, tb, *args)
        except RuntimeError:  # a non-positive output size: refused here too
            with pytest.raises(ValueError, match="is not positive"):
                F.conv_transpose3d(ad.tensor(x), ad.tensor(w), ad.tensor(b), *args)
            continue
        xa, wa, ba = (ad.tensor(a, requires_grad=True) for a in (x, w, b))
        y = F.conv_transpose3d(xa, wa, ba, *args)
        g = rng.standard_normal(y.shape)
        y.backward(ad.tensor(g))
        ty.backward(torch.tensor(g))
        for a, t in ((y, ty), (xa.grad, tx.grad), (wa.grad, tw.grad), (ba.grad, tb.grad)):
            np.testing.assert_allclose(a.data, t.detach().numpy(), **TOL, err_msg=str(args))
        checked += 1
    assert checked > 60


def test_conv_transpose3d_layer_matches_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    for args, kw in [((2, 4, 3), dict(stride=2, output_padding=1)),
                     ((2, 4, (1, 2, 3)), dict(groups=2, bias=False, dilation=2, padding=1))]:
        ours = nn.ConvTranspose3d(*args, **kw, dtype=np.float64)
        theirs = torch.nn.ConvTranspose3d(*args, **kw).double()
        assert repr(ours) == repr(theirs)
        ours.load_state_dict({k: ad.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
        x = np.random.default_rng(1).standard_normal((2, 3, 4, 5))  # unbatched (C, D, H, W)
        np.testing.assert_allclose(ours(ad.tensor(x)).data,
                                   theirs(torch.tensor(x)).detach().numpy(), **TOL)


def test_conv_transpose3d_is_the_adjoint_of_conv3d():
    rng = np.random.default_rng(2)
    checked = 0
    for _ in range(40):
        _, ws, (s, p, _, g, d) = _config(rng)
        x_shape = (2, ws[1] * g, *(int(v) for v in rng.integers(4, 8, 3)))  # conv3d's input
        try:
            y_shape = F.conv3d(ad.ones(x_shape), ad.ones(ws), stride=s, padding=p,
                               dilation=d, groups=g).shape
        except ValueError:  # the kernel does not fit
            continue
        op = tuple(n - ((m - 1) * si - 2 * pi + di * (ki - 1) + 1)
                   for n, m, si, pi, di, ki in zip(x_shape[2:], y_shape[2:], s, p, d, ws[2:]))
        if any(o >= max(si, di) for o, si, di in zip(op, s, d)):
            continue  # that input size is not reachable with a legal output_padding
        x, y, w = (rng.standard_normal(sh) for sh in (x_shape, y_shape, ws))
        # conv3d's weight (O, C/g, ...) is the transposed convolution's (C_in, C_out/g, ...)
        lhs = (F.conv3d(ad.tensor(x), ad.tensor(w), stride=s, padding=p, dilation=d,
                        groups=g).data * y).sum()
        rhs = (x * F.conv_transpose3d(ad.tensor(y), ad.tensor(w), None, s, p, op, g,
                                      d).data).sum()
        np.testing.assert_allclose(lhs, rhs, rtol=1e-11)
        checked += 1
    assert checked >= 10


def test_conv_transpose3d_hand_computed():
    # stride 2 spreads the two input cells apart; the kernel (1, 2, 3) overlaps them at one
    # cell, where the two contributions add
    x = ad.tensor([[[[[1.0, 10.0]]]]])
    w = ad.tensor([[[[[1.0, 2.0, 3.0]]]]])
    y = F.conv_transpose3d(x, w, ad.tensor([0.5]), stride=(1, 1, 2))
    assert y.data.ravel().tolist() == [1.5, 2.5, 13.5, 20.5, 30.5]
    # depth: stride 2, padding 1 crops the first and last depth, output_padding adds one zero
    x = ad.tensor(np.array([1.0, 2.0, 3.0]).reshape(1, 1, 3, 1, 1))
    y = F.conv_transpose3d(x, ad.ones((1, 1, 2, 1, 1)), stride=(2, 1, 1), padding=(1, 0, 0),
                           output_padding=(1, 0, 0))
    assert y.data.ravel().tolist() == [1.0, 2.0, 2.0, 3.0, 3.0]


@pytest.mark.parametrize("kw", [dict(stride=2, output_padding=1), dict(padding=(1, 0, 1)),
                                dict(dilation=(2, 1, 1), groups=2)])
def test_conv_transpose3d_gradcheck_and_gradgradcheck(kw):
    rng = np.random.default_rng(3)
    x = ad.tensor(rng.standard_normal((1, 2, 2, 3, 2)), requires_grad=True)
    w = ad.tensor(rng.standard_normal((2, 2, 2, 2, 2)), requires_grad=True)
    b = ad.tensor(rng.standard_normal(2 * kw.get("groups", 1)), requires_grad=True)

    def f(x_, w_, b_):
        return F.conv_transpose3d(x_, w_, b_, **kw)

    assert gradcheck(f, x, w, b, modes=("rev", "fwd"))
    assert gradgradcheck(f, x, w, b, modes=("rev", "fwd"))


def test_conv_transpose3d_float32_stays_float32():
    layer = nn.ConvTranspose3d(2, 3, 3, stride=2)
    x = ad.ones((1, 2, 2, 2, 2), dtype=np.float32, requires_grad=True)
    y = layer(x)
    assert y.dtype == np.float32 and y.shape == (1, 3, 5, 5, 5)
    y.sum().backward()
    assert x.grad.dtype == np.float32 and layer.weight.grad.dtype == np.float32


def test_conv_transpose3d_errors():
    x, w = ad.ones((1, 2, 3, 3, 3)), ad.ones((2, 4, 3, 3, 3))
    cases = [
        ((ad.ones((2, 3, 3)), w), {}, r"expected input \(N, C_in, D, H, W\)"),
        ((x, ad.ones((2, 4, 3, 3))), {}, r"expected input \(N, C_in, D, H, W\)"),
        ((x, ad.ones((3, 4, 3, 3, 3))), {}, "the input has 2 channels but the weight expects 3"),
        ((x, w), dict(groups=4), "groups=4 must divide the 2 input channels"),
        ((x, w), dict(stride=0), "stride and dilation must be positive"),
        ((x, w), dict(padding=(1, 1)), "padding must be an int or a tuple of three ints"),
        ((x, w), dict(padding=-1), "must be >= 0"),
        ((x, w), dict(stride=2, output_padding=2), "output_padding .* must be smaller"),
        ((x, w), dict(padding=4), "is not positive"),
        ((x, w, ad.ones(3)), {}, r"bias must have shape \(4,\)"),
    ]
    for args, kw, msg in cases:
        with pytest.raises(ValueError, match=msg):
            F.conv_transpose3d(*args, **kw)
    with pytest.raises(ValueError, match="only padding_mode='zeros'"):
        nn.ConvTranspose3d(2, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="groups=3 must divide"):
        nn.ConvTranspose3d(2, 4, 3, groups=3)
