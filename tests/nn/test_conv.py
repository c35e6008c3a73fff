"""Convolutions against naive loops written here (hypothesis over shapes, strides, paddings,
dilations, groups), gradients to second order, PyTorch when installed, and bad input."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck


def naive_conv(x, w, s, p, d, g):
    n, _c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    ho = (h + 2 * p - d * (kh - 1) - 1) // s + 1
    wo = (wd + 2 * p - d * (kw - 1) - 1) // s + 1
    out = np.zeros((n, o, ho, wo))
    og = o // g
    for b, oc, i, j in itertools.product(range(n), range(o), range(ho), range(wo)):
        grp = oc // og
        for ci, a, e in itertools.product(range(cg), range(kh), range(kw)):
            out[b, oc, i, j] += xp[b, grp * cg + ci, i * s + a * d, j * s + e * d] * w[oc, ci, a, e]
    return out


def naive_conv_transpose(y, w, s, p, op, d, g):
    n, cin, h, wd = y.shape
    _, cog, kh, kw = w.shape
    ho = (h - 1) * s - 2 * p + d * (kh - 1) + op + 1
    wo = (wd - 1) * s - 2 * p + d * (kw - 1) + op + 1
    full = np.zeros((n, cog * g, ho + 2 * p + s, wo + 2 * p + s))
    cg = cin // g
    for b, ci, i, j in itertools.product(range(n), range(cin), range(h), range(wd)):
        grp = ci // cg
        for co, a, e in itertools.product(range(cog), range(kh), range(kw)):
            v = y[b, ci, i, j] * w[ci, co, a, e]
            full[b, grp * cog + co, i * s + a * d, j * s + e * d] += v
    return full[:, :, p:p + ho, p:p + wo]


@st.composite
def conv_case(draw):
    g = draw(st.sampled_from([1, 2]))
    cg, og = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s, p, d = draw(st.integers(1, 2)), draw(st.integers(0, 1)), draw(st.integers(1, 2))
    h = draw(st.integers(d * (max(k) - 1) + 1 - 2 * p if d * (max(k) - 1) + 1 > 2 * p else 1, 6))
    w = draw(st.integers(h, 6))
    rng = np.random.default_rng(draw(st.integers(0, 999)))
    x = rng.standard_normal((draw(st.integers(1, 2)), cg * g, max(h, 1), w))
    wt = rng.standard_normal((og * g, cg, *k))
    return x, wt, s, p, d, g


@settings(max_examples=25, deadline=None)
@given(conv_case())
def test_conv2d_matches_naive_loops(case):
    x, w, s, p, d, g = case
    out = F.conv2d(ad.tensor(x), ad.tensor(w), stride=s, padding=p, dilation=d, groups=g)
    np.testing.assert_allclose(out.data, naive_conv(x, w, s, p, d, g), atol=1e-10)


@settings(max_examples=10, deadline=None)
@given(conv_case())
def test_conv2d_gradients_match_naive_loops(case):
    """d<conv(x, W), G>/dW[e] = <naive_conv(x, E_e), G>, one basis kernel E_e per weight entry;
    d/dx likewise over a basis of inputs."""
    x, w, s, p, d, g = case
    xt, wt = ad.tensor(x, requires_grad=True), ad.tensor(w, requires_grad=True)
    out = F.conv2d(xt, wt, stride=s, padding=p, dilation=d, groups=g)
    gy = np.random.default_rng(0).standard_normal(out.shape)
    gx, gw = ad.gradients(out, [xt, wt], ad.tensor(gy))
    basis = np.zeros(w.size)
    for e in range(w.size):
        basis[e] = 1.0
        want = np.sum(naive_conv(x, basis.reshape(w.shape), s, p, d, g) * gy)
        np.testing.assert_allclose(gw.data.flat[e], want, atol=1e-9)
        basis[e] = 0.0
    ex = np.zeros(x.size)
    for e in range(0, x.size, max(1, x.size // 12)):  # a spread of input entries
        ex[e] = 1.0
        want = np.sum(naive_conv(ex.reshape(x.shape), w, s, p, d, g) * gy)
        np.testing.assert_allclose(gx.data.flat[e], want, atol=1e-9)
        ex[e] = 0.0


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_conv_transpose2d_matches_naive_loops(data):
    g = data.draw(st.sampled_from([1, 2]))
    s, p, d = data.draw(st.integers(1, 3)), data.draw(st.integers(0, 1)), data.draw(
        st.integers(1, 2))
    op = data.draw(st.integers(0, max(s, d) - 1))
    k = data.draw(st.integers(1, 3))
    rng = np.random.default_rng(data.draw(st.integers(0, 999)))
    cin = data.draw(st.integers(1, 2)) * g
    y = rng.standard_normal((data.draw(st.integers(1, 3)), cin, data.draw(st.integers(1, 4)),
                             data.draw(st.integers(1, 4))))
    w = rng.standard_normal((cin, data.draw(st.integers(1, 2)), k, k))
    ho = (y.shape[2] - 1) * s - 2 * p + d * (k - 1) + op + 1
    if ho <= 0 or (y.shape[3] - 1) * s - 2 * p + d * (k - 1) + op + 1 <= 0:
        return
    out = F.conv_transpose2d(ad.tensor(y), ad.tensor(w), stride=s, padding=p, output_padding=op,
                             dilation=d, groups=g)
    np.testing.assert_allclose(out.data, naive_conv_transpose(y, w, s, p, op, d, g), atol=1e-10)


@pytest.mark.parametrize("stride, padding, output_padding, dilation, groups, cin, cout", [
    (1, 0, 1, 2, 1, 2, 1),  # output_padding >= stride (allowed: < dilation), col2im in runs
    (1, 1, 1, 2, 1, 1, 4),  # the same through the flipped-kernel convolution
    (1, 1, 2, 3, 2, 2, 2),  # grouped, output_padding 2 > padding 1
    (2, 0, 2, 3, 1, 1, 2),  # strided col2im, output_padding == stride
    (2, 1, 1, 1, 2, 2, 4),  # output_padding < stride, grouped (as before)
])
def test_conv_transpose2d_output_padding_up_to_dilation(stride, padding, output_padding,
                                                        dilation, groups, cin, cout):
    """output_padding may reach the dilation (PyTorch's rule: smaller than the stride or the
    dilation): the output size, the values and the gradients to second order."""
    rng = np.random.default_rng(4)
    y = rng.standard_normal((2, cin, 3, 2))
    w = rng.standard_normal((cin, cout // groups, 2, 3))
    b = rng.standard_normal(cout)

    def f(y, w, b):
        return F.conv_transpose2d(y, w, b, stride=stride, padding=padding,
                                  output_padding=output_padding, groups=groups,
                                  dilation=dilation)

    out = f(ad.tensor(y), ad.tensor(w), ad.tensor(b))
    want = naive_conv_transpose(y, w, stride, padding, output_padding, dilation, groups)
    assert out.shape == want.shape
    np.testing.assert_allclose(out.data, want + b.reshape(1, -1, 1, 1), atol=1e-10)
    args = [ad.tensor(a, requires_grad=True) for a in (y, w, b)]
    assert gradcheck(f, *args) and gradgradcheck(f, *args)


@pytest.mark.parametrize("kw", [
    dict(stride=1, dilation=2, output_padding=1),
    dict(stride=1, padding=1, dilation=3, output_padding=2, groups=2),
    dict(stride=(2, 1), padding=(1, 0), dilation=(3, 2), output_padding=(2, 1)),
    dict(stride=(1, 3), padding=(0, 2), dilation=(2, 1), output_padding=(1, 2), groups=2),
    dict(stride=2, dilation=3, output_padding=2, padding=1),
    dict(stride=3, padding=1, output_padding=2),
])
def test_conv_transpose2d_against_pytorch(kw):
    """Values, first and second derivatives equal PyTorch's, output_padding up to the stride
    or the dilation (minus one)."""
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra bench)")
    rng = np.random.default_rng(5)
    groups = kw.get("groups", 1)
    y, w = rng.standard_normal((2, 4, 3, 2)), rng.standard_normal((4, 6 // groups, 2, 3))
    b = rng.standard_normal(6)
    ours = [ad.tensor(a, requires_grad=True) for a in (y, w, b)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (y, w, b)]
    out = F.conv_transpose2d(*ours, **kw)
    ref = torch.nn.functional.conv_transpose2d(*theirs, **kw)
    assert out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), atol=1e-10)
    v = rng.standard_normal(out.shape)
    grads = ad.gradients(out, ours, ad.tensor(v), create_graph=True)
    ref_grads = torch.autograd.grad(ref, theirs, torch.tensor(v), create_graph=True)
    for g, r in zip(grads, ref_grads):
        np.testing.assert_allclose(g.data, r.detach().numpy(), atol=1e-10)
    u = [rng.standard_normal(g.shape) for g in grads[:2]]
    second = ad.gradients(sum((g * ad.tensor(c)).sum() for g, c in zip(grads, u)), ours[:2])
    ref_second = torch.autograd.grad(sum((g * torch.tensor(c)).sum()
                                         for g, c in zip(ref_grads, u)), theirs[:2])
    for g, r in zip(second, ref_second):
        np.testing.assert_allclose(g.data, r.numpy(), atol=1e-10)


def test_conv_transpose2d_bad_arguments():
    """PyTorch's rules, each a ValueError naming the values."""
    y, w = ad.ones((1, 2, 3, 3)), ad.ones((2, 1, 2, 2))
    with pytest.raises(ValueError, match=r"output_padding \(2, 2\) must be smaller than stride "
                                         r"\(1, 1\) or dilation \(2, 2\)"):
        F.conv_transpose2d(y, w, dilation=2, output_padding=2)
    with pytest.raises(ValueError, match=r"output_padding \(2, 0\) must be smaller"):
        F.conv_transpose2d(y, w, stride=2, output_padding=(2, 0))
    with pytest.raises(ValueError, match=r"output_padding \(-1, -1\) must be >= 0"):
        F.conv_transpose2d(y, w, stride=2, output_padding=-1)
    with pytest.raises(ValueError, match=r"padding \(-1, 0\)"):
        F.conv_transpose2d(y, w, padding=(-1, 0))
    with pytest.raises(ValueError, match="stride and dilation must be positive"):
        F.conv_transpose2d(y, w, stride=0)
    with pytest.raises(ValueError, match=r"output size \(-2, -2\) is not positive"):
        F.conv_transpose2d(y, w, padding=3)


def test_gradients_to_second_order():
    rng = np.random.default_rng(0)
    x = ad.tensor(rng.standard_normal((1, 4, 5, 5)))
    w = ad.tensor(rng.standard_normal((2, 2, 3, 2)))
    b = ad.tensor(rng.standard_normal(2))

    def f(x, w, b):
        return F.conv2d(x, w, b, stride=2, padding=1, dilation=(1, 2), groups=2)

    assert gradcheck(f, x, w, b) and gradgradcheck(f, x, w, b)
    y = ad.tensor(rng.standard_normal((1, 2, 3, 3)))
    wt = ad.tensor(rng.standard_normal((2, 3, 3, 3)))

    def t(y, w):
        return F.conv_transpose2d(y, w, stride=2, padding=1, output_padding=1)

    assert gradcheck(t, y, wt) and gradgradcheck(t, y, wt)


@pytest.mark.parametrize("c, o, pad, dilation, groups", [
    (2, 2, 1, 1, 1),  # O H W <= C Ho Wo: the input gradient as a flipped-kernel convolution
    (4, 2, 2, 2, 2),  # the same, grouped and dilated
    (1, 3, 0, 1, 1),  # O H W > C Ho Wo: col2im, in runs of the flattened output
    (2, 4, 1, 2, 2),  # the same, grouped and dilated
])
def test_stride_one_input_gradient_either_way(c, o, pad, dilation, groups):
    """With stride 1 the input gradient is taken as a convolution or by col2im, whichever
    patch matrix is smaller; both agree with the naive loops and to second order."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, c, 6, 6))
    w = rng.standard_normal((o, c // groups, 3, 3))
    xt, wt = ad.tensor(x, requires_grad=True), ad.tensor(w, requires_grad=True)
    out = F.conv2d(xt, wt, padding=pad, dilation=dilation, groups=groups)
    gy = rng.standard_normal(out.shape)
    (gx,) = ad.gradients(out, [xt], ad.tensor(gy))
    for e in range(0, x.size, 7):
        ex = np.zeros(x.size)
        ex[e] = 1.0
        want = np.sum(naive_conv(ex.reshape(x.shape), w, 1, pad, dilation, groups) * gy)
        np.testing.assert_allclose(gx.data.flat[e], want, atol=1e-9)

    def f(x, w):
        return F.conv2d(x, w, padding=pad, dilation=dilation, groups=groups)

    assert gradcheck(f, xt, wt) and gradgradcheck(f, xt, wt)


@pytest.mark.parametrize("shape, kernel, stride", [
    ((2, 2, 3, 3), (1, 1), 1),  # the patch matrix of a 1x1 kernel at stride 1 is x itself
    ((1, 2, 1, 4), (1, 1), 2),  # one row: the strided columns are still a view
    ((2, 2, 4, 4), (2, 2), 1),  # a copy (kept, reused by the weight gradient)
])
def test_conv2d_keeps_no_view_of_its_input(shape, kernel, stride):
    """Arrays kept on ctx for backward are fresh: a view of x there would change, unseen by
    the version check (which guards what save_for_backward holds), if x were written in
    place before backward. The weight gradient is the same either way."""
    rng = np.random.default_rng(6)
    x = ad.tensor(rng.standard_normal(shape))
    w = ad.tensor(rng.standard_normal((3, shape[1], *kernel)), requires_grad=True)
    y = F.conv2d(x, w, stride=stride)
    kept = [v for v in vars(y.grad_fn).values() if isinstance(v, np.ndarray)]
    assert not any(np.shares_memory(v, x.data) for v in kept)
    gy = rng.standard_normal(y.shape)
    (gw,) = ad.gradients(y, [w], ad.tensor(gy))
    basis = np.zeros(w.size)
    for e in range(w.size):
        basis[e] = 1.0
        want = np.sum(naive_conv(x.data, basis.reshape(w.shape), stride, 0, 1, 1) * gy)
        np.testing.assert_allclose(gw.data.flat[e], want, atol=1e-9)
        basis[e] = 0.0


def test_same_and_valid_padding_and_float32():
    x = ad.randn(2, 3, 7, 6)
    w = ad.randn(4, 3, 4, 3)
    assert F.conv2d(x, w, padding="same").shape == (2, 4, 7, 6)
    assert F.conv2d(x, w, padding="valid").shape == (2, 4, 4, 4)
    assert F.conv2d(x, w, padding="same", dilation=2).shape == (2, 4, 7, 6)
    assert F.conv2d(x, w).dtype == np.float32


def test_against_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra bench)")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 9, 8))
    w = rng.standard_normal((6, 2, 3, 3))
    a = ad.tensor(x, requires_grad=True)
    aw = ad.tensor(w, requires_grad=True)
    F.conv2d(a, aw, stride=2, padding=1, groups=2).sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    torch.nn.functional.conv2d(tx, tw, stride=2, padding=1, groups=2).sum().backward()
    np.testing.assert_allclose(a.grad.data, tx.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(aw.grad.data, tw.grad.numpy(), atol=1e-10)


def test_bad_input():
    x = ad.ones((1, 3, 5, 5))
    with pytest.raises(ValueError, match="input has 3 channels but the weight expects 4"):
        F.conv2d(x, ad.ones((2, 4, 3, 3)))
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.conv2d(x, ad.ones((2, 3, 7, 7)))
    with pytest.raises(ValueError, match="stride and dilation must be positive"):
        F.conv2d(x, ad.ones((2, 3, 3, 3)), stride=0)
    with pytest.raises(ValueError, match="padding"):
        F.conv2d(x, ad.ones((2, 3, 3, 3)), padding=-1)
    with pytest.raises(ValueError, match="same"):
        F.conv2d(x, ad.ones((2, 3, 3, 3)), padding="same", stride=2)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        F.conv2d(ad.ones((5, 5)), ad.ones((2, 3, 3, 3)))
    with pytest.raises(ValueError, match="groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="output_padding"):
        F.conv_transpose2d(x, ad.ones((3, 2, 3, 3)), stride=1, output_padding=1)


def test_layers_shapes_and_init():
    conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
    assert conv(ad.ones((2, 3, 8, 8))).shape == (2, 8, 4, 4)
    bound = 1 / np.sqrt(3 * 9)
    assert np.abs(conv.weight.data).max() <= bound + 1e-7
    up = nn.ConvTranspose2d(8, 3, 2, stride=2)
    assert up(ad.ones((2, 8, 4, 4))).shape == (2, 3, 8, 8)
