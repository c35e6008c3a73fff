"""Conv3d / F.conv3d: against PyTorch over random configurations (float64 values and
gradients in input, weight and bias; second derivatives; padding modes with PyTorch's state
dict), and without it: a hand-computed case, the sum over depth of 2-d convolutions (NumPy),
gradcheck and gradgradcheck in both modes, float32 kept, every error."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck

TOL = dict(rtol=1e-11, atol=1e-11)


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


def _config(rng, t):
    """A random conv3d configuration: shapes, stride, padding, dilation, groups."""
    g = int(rng.choice([1, 2, 3]))
    c, o = g * int(rng.integers(1, 3)), g * int(rng.integers(1, 3))
    k = tuple(int(v) for v in rng.integers(1, 4, 3))
    s = tuple(int(v) for v in rng.integers(1, 3, 3))
    d = tuple(int(v) for v in rng.integers(1, 3, 3))
    p = tuple(int(v) for v in rng.integers(0, 3, 3))
    if t % 6 == 0:
        p, s = "same", (1, 1, 1)
    elif t % 6 == 1:
        p = "valid"
    elif t % 6 == 2:  # plain ints, as most callers write them
        k, s, d, p = k[0], s[0], d[0], p[0]
    size = tuple(int(v) for v in rng.integers(5, 9, 3))
    kk = (k,) * 3 if isinstance(k, int) else k
    return (2, c, *size), (o, c // g, *kk), dict(stride=s, padding=p, dilation=d, groups=g)


@pytest.mark.filterwarnings("ignore::UserWarning")  # PyTorch's note on even 'same' kernels
def test_conv3d_matches_pytorch_values_and_gradients():
    torch = _torch()
    rng = np.random.default_rng(0)
    worst = 0.0
    for t in range(60):
        xs, ws, kw = _config(rng, t)
        x, w = rng.standard_normal(xs), rng.standard_normal(ws)
        b = rng.standard_normal(ws[0])
        xa, wa, ba = (ad.tensor(a, requires_grad=True) for a in (x, w, b))
        xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        ya, yt = F.conv3d(xa, wa, ba, **kw), torch.nn.functional.conv3d(xt, wt, bt, **kw)
        g = rng.standard_normal(yt.shape)
        (ya * ad.tensor(g)).sum().backward()
        (yt * torch.tensor(g)).sum().backward()
        for a, b_ in ((ya, yt), (xa.grad, xt.grad), (wa.grad, wt.grad), (ba.grad, bt.grad)):
            np.testing.assert_allclose(a.data, b_.detach().numpy(), **TOL, err_msg=str(kw))
            worst = max(worst, float(np.abs(a.data - b_.detach().numpy()).max()))
    assert worst < 1e-11


def test_conv3d_second_derivatives_match_pytorch():
    torch = _torch()
    rng = np.random.default_rng(1)
    for t in range(8):
        xs, ws, kw = _config(rng, t + 3)  # no 'same' here: PyTorch warns on even kernels
        x, w = rng.standard_normal(xs), rng.standard_normal(ws)
        xa, wa = ad.tensor(x, requires_grad=True), ad.tensor(w, requires_grad=True)
        xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
        yt = torch.nn.functional.conv3d(xt, wt, **kw)

        def energy(x_, w_, kw=kw):  # |conv|^2, and |its gradients|^2 of it below
            return (F.conv3d(x_, w_, **kw) ** 2).sum()

        def grad_energy(x_, w_):
            return sum((g_ ** 2).sum() for g_ in ad.grad(energy, argnums=(0, 1))(x_, w_))

        gxa, gwa = ad.grad(energy, argnums=(0, 1))(xa, wa)
        sa = ad.grad(grad_energy, argnums=(0, 1))(xa, wa)
        gxt, gwt = torch.autograd.grad((yt ** 2).sum(), (xt, wt), create_graph=True)
        st = torch.autograd.grad((gxt ** 2).sum() + (gwt ** 2).sum(), (xt, wt))
        np.testing.assert_allclose(gxa.data, gxt.detach().numpy(), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(gwa.data, gwt.detach().numpy(), rtol=1e-10, atol=1e-10)
        for a, b_ in zip(sa, st):
            np.testing.assert_allclose(a.data, b_.numpy(), rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (0, 1, 2), "same"])
def test_conv3d_layer_padding_modes_match_pytorch_with_its_state_dict(mode, padding):
    torch = _torch()
    layer_t = torch.nn.Conv3d(2, 4, 3, padding=padding, padding_mode=mode).double()
    layer = nn.Conv3d(2, 4, 3, padding=padding, padding_mode=mode, dtype=np.float64)
    layer.load_state_dict({k: ad.tensor(v.detach().numpy()) for k, v in
                           layer_t.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((2, 2, 4, 5, 6))
    xa, xt = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya, yt = layer(xa), layer_t(xt)
    np.testing.assert_allclose(ya.data, yt.detach().numpy(), **TOL)
    ya.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(xa.grad.data, xt.grad.numpy(), **TOL)
    np.testing.assert_allclose(layer.weight.grad.data, layer_t.weight.grad.numpy(), **TOL)
    np.testing.assert_allclose(layer.bias.grad.data, layer_t.bias.grad.numpy(), **TOL)
    # unbatched (C, D, H, W), and the printed form
    np.testing.assert_allclose(layer(ad.tensor(x[0])).data, layer_t(torch.tensor(x[0]))
                               .detach().numpy(), **TOL)
    assert repr(layer) == repr(layer_t)


def test_conv3d_layer_init_and_repr_are_pytorchs():
    torch = _torch()
    for args, kw in [((4, 8, 3), {}), ((4, 8, (1, 3, 3)), dict(stride=(1, 2, 2), bias=False)),
                     ((4, 8, 2), dict(dilation=2, groups=2, padding="valid"))]:
        ours, theirs = nn.Conv3d(*args, **kw), torch.nn.Conv3d(*args, **kw)
        assert repr(ours) == repr(theirs)
        assert ours.weight.shape == tuple(theirs.weight.shape)
        fan_in = np.prod(theirs.weight.shape[1:])
        assert np.abs(ours.weight.data).max() <= 1 / np.sqrt(fan_in)  # kaiming_uniform(a=√5)


def test_conv3d_hand_computed():
    # all-ones input and kernel: each output counts the kernel cells inside the input
    y = F.conv3d(ad.ones((1, 1, 3, 3, 3), dtype=np.float64),
                 ad.ones((1, 1, 3, 3, 3), dtype=np.float64), padding=1)
    counts = np.array([2.0, 3.0, 2.0])
    want = counts[:, None, None] * counts[None, :, None] * counts[None, None, :]
    np.testing.assert_array_equal(y.data[0, 0], want)
    # a stride-2, dilation-2 single tap pair: y[d, h, w] = x[2d, 2h, 2w] + 10 x[2d + 2, ...]
    x = np.arange(5 * 5 * 5, dtype=np.float64).reshape(1, 1, 5, 5, 5)
    w = np.zeros((1, 1, 2, 1, 1))
    w[0, 0, :, 0, 0] = [1.0, 10.0]
    y = F.conv3d(ad.tensor(x), ad.tensor(w), ad.tensor([0.5]), stride=2, dilation=2)
    want = x[0, 0, 0:3:2, ::2, ::2] + 10 * x[0, 0, 2:5:2, ::2, ::2] + 0.5
    np.testing.assert_array_equal(y.data[0, 0], want)


def _reference(x, w, s, p, d, g):
    """conv3d in NumPy: a sum over every kernel offset of strided slices of the padded
    input, group by group."""
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1]), (p[2], p[2])))
    n = x.shape[0]
    o, cg, *k = w.shape
    out_size = [(xp.shape[2 + a] - d[a] * (k[a] - 1) - 1) // s[a] + 1 for a in range(3)]
    y = np.zeros((n, o, *out_size))
    og = o // g
    for gi in range(g):
        xg = xp[:, gi * cg:(gi + 1) * cg]
        for i in range(k[0]):
            for j in range(k[1]):
                for m in range(k[2]):
                    v = xg[:, :, i * d[0]::s[0], j * d[1]::s[1], m * d[2]::s[2]]
                    v = v[:, :, :out_size[0], :out_size[1], :out_size[2]]
                    y[:, gi * og:(gi + 1) * og] += np.einsum(
                        "oc,ncdhw->nodhw", w[gi * og:(gi + 1) * og, :, i, j, m], v)
    return y




def test_conv3d_matches_numpy_reference():
    rng = np.random.default_rng(3)
    for t in range(20):
        xs, ws, kw = _config(rng, t * 6 + 3)  # integer triples only
        kw = {k: (v,) * 3 if isinstance(v, int) and k != "groups" else v for k, v in kw.items()}
        x, w = rng.standard_normal(xs), rng.standard_normal(ws)
        y = F.conv3d(ad.tensor(x), ad.tensor(w), **kw)
        want = _reference(x, w, kw["stride"], kw["padding"], kw["dilation"], kw["groups"])
        np.testing.assert_allclose(y.data, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kw", [dict(), dict(stride=(2, 1, 2), padding=(1, 0, 1)),
                                dict(dilation=(2, 1, 1), padding="same"), dict(groups=2)])
def test_conv3d_gradcheck_and_gradgradcheck(kw):
    rng = np.random.default_rng(4)
    x = ad.tensor(rng.standard_normal((2, 2, 4, 3, 4)), requires_grad=True)
    w = ad.tensor(rng.standard_normal((2, 2 // kw.get("groups", 1), 2, 2, 2)),
                  requires_grad=True)
    b = ad.tensor(rng.standard_normal(2), requires_grad=True)

    def f(x_, w_, b_):
        return F.conv3d(x_, w_, b_, **kw)

    assert gradcheck(f, x, w, b, modes=("rev", "fwd"))
    assert gradgradcheck(f, x, w, b, modes=("rev", "fwd"))


def test_conv3d_float32_stays_float32():
    x = ad.ones((1, 2, 4, 4, 4), dtype=np.float32, requires_grad=True)
    layer = nn.Conv3d(2, 3, 3, padding=1, padding_mode="reflect")
    y = layer(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and layer.weight.grad.dtype == np.float32
    assert F.conv3d(ad.ones((2, 3, 3, 3), dtype=np.float32), layer.weight).shape == (3, 1, 1, 1)


def test_conv3d_errors():
    x, w = ad.ones((1, 2, 4, 4, 4)), ad.ones((4, 2, 3, 3, 3))
    cases = [
        ((ad.ones((2, 4, 4)), w), {}, "expected input of shape \\(N, C, D, H, W\\)"),
        ((x, ad.ones((4, 2, 3, 3))), {}, "expected weight of shape"),
        ((x, ad.ones((4, 3, 3, 3, 3))), {}, "the input has 2 channels but the weight expects 3"),
        ((x, w), dict(groups=3), "groups=3 must divide the 2 input channels"),
        ((x, ad.ones((3, 1, 3, 3, 3))), dict(groups=2), "must divide the 3 output channels"),
        ((x, w), dict(stride=0), "stride and dilation must be positive"),
        ((x, w), dict(stride=(1, 2)), "stride must be an int or a tuple of three ints"),
        ((x, w), dict(stride=1.5), "stride must be an int or a tuple of three ints"),
        ((x, w), dict(padding=-1), "padding must be >= 0"),
        ((x, w), dict(padding="full"), "padding must be an int, a triple, 'same' or 'valid'"),
        ((x, w), dict(padding="same", stride=2), "padding='same' needs stride 1"),
        ((x, ad.ones((4, 2, 5, 3, 3))), {}, "kernel \\(5, 3, 3\\) .* larger than the padded"),
        ((x, w, ad.ones(3)), {}, "bias must have shape \\(4,\\)"),
    ]
    for args, kw, msg in cases:
        with pytest.raises(ValueError, match=msg):
            F.conv3d(*args, **kw)
    for kw, msg in [(dict(groups=3), "groups=3 must divide"), (dict(groups=0), "positive"),
                    (dict(padding="full"), "invalid padding string"),
                    (dict(padding="same", stride=2), "not supported for strided"),
                    (dict(padding_mode="mirror"), "padding_mode must be one of")]:
        with pytest.raises(ValueError, match=msg):
            nn.Conv3d(2, 4, 3, **kw)
    with pytest.raises(ValueError, match=r"Conv3d: expected input of shape \(N, C, D, H, W\)"):
        nn.Conv3d(2, 4, 3)(ad.ones((2, 4, 4)))
    with pytest.raises(ValueError, match="Conv3d\\(padding_mode='reflect'\\)"):
        nn.Conv3d(2, 4, 3, padding=3, padding_mode="reflect")(ad.ones((1, 2, 3, 3, 3)))
