"""Conv1d / F.conv1d and the convolutions' padding_mode: against PyTorch over the argument
space (float64 values and gradients to 1e-12, state dicts loaded across), and without it:
hand-computed cases, gradcheck and gradgradcheck, float32 kept, every error."""

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


def _grads_match(ours, theirs, x, torch, params=()):
    """Values of ours(x) and theirs(x) and the gradients of <out, g> in x and `params`
    (pairs of our and PyTorch's tensors); returns the largest difference."""
    g = np.random.default_rng(7).standard_normal(theirs(torch.tensor(x)).shape)
    xa = ad.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ya, yt = ours(xa), theirs(xt)
    np.testing.assert_allclose(ya.data, yt.detach().numpy(), **TOL)
    (ya * ad.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    worst = float(np.abs(ya.data - yt.detach().numpy()).max())
    for a, t in [(xa, xt), *params]:
        np.testing.assert_allclose(a.grad.data, t.grad.numpy(), **TOL)
        worst = max(worst, float(np.abs(a.grad.data - t.grad.numpy()).max()))
    return worst


CONV1D_CASES = [
    dict(k=k, stride=s, padding=p, dilation=d, groups=g, length=n)
    for k, s, p, d, g, n in itertools.product([1, 2, 3], [1, 2, 3], [0, 1, 2, "same", "valid"],
                                              [1, 2], [1, 2], [7, 8])
    if not (p == "same" and s != 1) and n + 2 * (p if isinstance(p, int) else 0) > d * (k - 1)
]


@pytest.mark.parametrize("case", CONV1D_CASES[::3], ids=str)
def test_conv1d_matches_pytorch(case):
    torch = _torch()
    rng = np.random.default_rng(0)
    g = case["groups"]
    x = rng.standard_normal((2, 4, case["length"]))
    w = rng.standard_normal((6, 4 // g, case["k"]))
    b = rng.standard_normal(6)
    kw = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"],
              groups=g)
    wa, ba = ad.tensor(w, requires_grad=True), ad.tensor(b, requires_grad=True)
    wt, bt = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    _grads_match(lambda t: F.conv1d(t, wa, ba, **kw),
                 lambda t: torch.nn.functional.conv1d(t, wt, bt, **kw), x, torch,
                 [(wa, wt), (ba, bt)])


MODE_CASES = [(mode, padding, k, d) for mode in ["zeros", "reflect", "replicate", "circular"]
              for padding, k, d in [(1, 3, 1), (2, 3, 2), ("same", 4, 1), ("same", 3, 2),
                                    ("valid", 3, 1), ((1, 2), (3, 4), 1)]]


@pytest.mark.parametrize("mode,padding,k,d", MODE_CASES, ids=str)
def test_padding_modes_match_pytorch_with_its_state_dict(mode, padding, k, d):
    """Conv2d (and Conv1d where the arguments are 1-d) with PyTorch's weights loaded."""
    torch = _torch()
    torch.manual_seed(0)
    x = np.random.default_rng(1).standard_normal((2, 4, 5, 6))
    layers = [(nn.Conv2d, torch.nn.Conv2d, x)]
    if not isinstance(k, tuple):
        layers.append((nn.Conv1d, torch.nn.Conv1d, x[:, :, 0]))
    for ours_cls, theirs_cls, inp in layers:
        theirs = theirs_cls(4, 6, k, padding=padding, dilation=d, groups=2,
                            padding_mode=mode).double()
        ours = ours_cls(4, 6, k, padding=padding, dilation=d, groups=2, padding_mode=mode)
        ours.double().load_state_dict({n: v.numpy() for n, v in theirs.state_dict().items()})
        assert repr(ours) == repr(theirs)
        _grads_match(ours, theirs, inp, torch,
                     [(ours.weight, theirs.weight), (ours.bias, theirs.bias)])


def test_conv1d_init_is_pytorchs():
    """kaiming_uniform(a=sqrt(5)): weights and bias within 1/sqrt(fan_in), spread over it
    (PyTorch's bounds; the draws themselves come from another generator)."""
    ad.manual_seed(0)  # and 64 biases: the largest of 8 fell under 0.6 of the bound 1.7% of runs
    conv = nn.Conv1d(6, 64, 5, groups=2)
    bound = 1 / np.sqrt(3 * 5)
    assert conv.weight.shape == (64, 3, 5) and conv.bias.shape == (64,)
    for p in (conv.weight.data, conv.bias.data):
        assert np.abs(p).max() <= bound and np.abs(p).max() > 0.6 * bound
    assert nn.Conv1d(2, 3, 1, bias=False).bias is None
    assert [n for n, _ in conv.named_parameters()] == ["weight", "bias"]


def test_conv1d_hand_computed():
    x = ad.tensor([[[1.0, 2.0, 4.0, 8.0, 16.0]]])
    w = ad.tensor([[[1.0, -1.0]]])
    np.testing.assert_array_equal(F.conv1d(x, w).data, [[[-1, -2, -4, -8]]])
    np.testing.assert_array_equal(F.conv1d(x, w, stride=2, dilation=2).data, [[[-3, -12]]])
    np.testing.assert_array_equal(F.conv1d(x, w, ad.tensor([10.0]), padding=1).data,
                                  [[[9, 9, 8, 6, 2, 26]]])
    np.testing.assert_array_equal(F.conv1d(x, w, padding="same").data, [[[-1, -2, -4, -8,
                                                                          16]]])


@pytest.mark.parametrize("mode,want", [("zeros", [0, 1, 2]), ("reflect", [2, 1, 2]),
                                       ("replicate", [1, 1, 2]), ("circular", [3, 1, 2])])
def test_padding_modes_hand_computed(mode, want):
    """A kernel that picks its first tap shows the padded cell before each input cell."""
    conv = nn.Conv1d(1, 1, 3, padding=1, padding_mode=mode, bias=False)
    conv.weight.data[...] = [[[1.0, 0.0, 0.0]]]
    np.testing.assert_array_equal(conv(ad.tensor([[[1.0, 2.0, 3.0]]])).data, [[want]])
    conv2 = nn.Conv2d(1, 1, (1, 3), padding=(0, 1), padding_mode=mode, bias=False)
    conv2.weight.data[...] = [[[[1.0, 0.0, 0.0]]]]
    np.testing.assert_array_equal(conv2(ad.tensor([[[[1.0, 2.0, 3.0]]]])).data, [[[want]]])


def test_gradients_and_second_order_without_pytorch():
    rng = np.random.default_rng(3)
    x = ad.tensor(rng.standard_normal((2, 4, 7)), requires_grad=True)
    w = ad.tensor(rng.standard_normal((2, 2, 3)), requires_grad=True)
    b = ad.tensor(rng.standard_normal(2), requires_grad=True)
    f = lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=2, dilation=2, groups=2)  # noqa: E731
    assert gradcheck(f, x, w, b)
    assert gradgradcheck(f, x, w, b)
    for mode in ["reflect", "replicate", "circular"]:
        conv = nn.Conv2d(2, 2, 3, padding=(1, 2), padding_mode=mode).double()
        x2 = ad.tensor(rng.standard_normal((1, 2, 3, 4)), requires_grad=True)
        assert gradcheck(conv, x2)
        assert gradgradcheck(conv, x2)


def test_float32_stays_float32():
    x = ad.tensor(np.ones((1, 2, 6), np.float32), requires_grad=True)
    conv = nn.Conv1d(2, 3, 3, padding=1, padding_mode="reflect")
    y = conv(x)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
    assert conv.weight.grad.dtype == np.float32
    conv2 = nn.Conv2d(2, 3, 3, padding="same", padding_mode="circular")
    assert conv2(ad.ones((1, 2, 4, 4), dtype=np.float32)).dtype == np.float32


def test_conv1d_errors():
    x, w = ad.ones((1, 4, 5)), ad.ones((2, 4, 3))
    cases = [
        (lambda: F.conv1d(ad.ones(5), w), "conv1d: expected input of shape \\(N, C, L\\)"),
        (lambda: F.conv1d(x, ad.ones((2, 4, 3, 1))), "conv1d: expected weight of shape"),
        (lambda: F.conv1d(x, w, groups=3), "groups=3 must divide the 4 input channels"),
        (lambda: F.conv1d(x, w, groups=0), "groups=0 must divide"),
        (lambda: F.conv1d(x, ad.ones((2, 2, 3))), "the input has 4 channels but the weight"),
        (lambda: F.conv1d(x, ad.ones((3, 2, 3)), groups=2), "groups=2 must divide the 3 output"),
        (lambda: F.conv1d(x, w, stride=0), "stride and dilation must be positive"),
        (lambda: F.conv1d(x, w, dilation=-1), "stride and dilation must be positive"),
        (lambda: F.conv1d(x, w, stride=(1, 1)), "stride must be an int or a tuple of one int"),
        (lambda: F.conv1d(x, w, padding="full"), "padding must be an int, 'same' or 'valid'"),
        (lambda: F.conv1d(x, w, stride=2, padding="same"), "padding='same' needs stride 1"),
        (lambda: F.conv1d(x, w, padding=-1), "padding must be >= 0"),
        (lambda: F.conv1d(x, ad.ones((2, 4, 6))), "kernel 6 \\(dilation 1\\) is larger than the "
                                                  "padded input 5"),
        (lambda: F.conv1d(x, w, padding=[1, 1]), "padding must be an int or a tuple of one"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()


@pytest.mark.parametrize("cls", [nn.Conv1d, nn.Conv2d])
def test_layer_errors(cls):
    name = cls.__name__
    with pytest.raises(ValueError, match=f"{name}: padding_mode must be one of .*'zeros'.*"
                                         "but got padding_mode='zero'"):
        cls(2, 2, 3, padding_mode="zero")
    with pytest.raises(ValueError, match=f"{name}: invalid padding string 'full'"):
        cls(2, 2, 3, padding="full")
    with pytest.raises(ValueError, match=f"{name}: padding='same' is not supported for "
                                         "strided convolutions"):
        cls(2, 2, 3, stride=2, padding="same", padding_mode="reflect")
    with pytest.raises(ValueError, match=f"{name}: groups must be a positive integer"):
        cls(2, 2, 3, groups=0)
    with pytest.raises(ValueError, match=f"{name}: groups=2 must divide in_channels=3"):
        cls(3, 2, 3, groups=2)
    shape = (1, 2, 2) if cls is nn.Conv1d else (1, 2, 2, 2)
    with pytest.raises(ValueError, match=rf"{name}\(padding_mode='reflect'\): pad: mode "
                                         "'reflect' needs widths less than"):
        cls(2, 2, 3, padding=2, padding_mode="reflect")(ad.ones(shape))
    with pytest.raises(ValueError, match=rf"{name}\(padding_mode='circular'\): pad: mode "
                                         "'circular' needs widths at most"):
        cls(2, 2, 5, padding=3, padding_mode="circular")(ad.ones(shape))
    with pytest.raises(ValueError, match="Conv1d: kernel_size must be an int or a tuple of "
                                         "one int"):
        nn.Conv1d(2, 2, (3, 3))


def test_onnx_exports_conv1d_and_refuses_padding_modes(tmp_path):
    pytest.importorskip("onnx", reason="the optional extra 'export' (onnx) is not installed")
    ort = pytest.importorskip("onnxruntime",
                              reason="the optional extra 'export' (onnxruntime) is not installed")
    model = nn.Sequential(nn.Conv1d(3, 4, 3, padding=1, groups=1), nn.ReLU()).eval()
    rng = np.random.default_rng(0)
    path = nn.onnx.export(model, rng.standard_normal((2, 3, 9)).astype(np.float32),
                          tmp_path / "conv1d.onnx")
    x = rng.standard_normal((5, 3, 9)).astype(np.float32)
    (got,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"input": x})
    with ad.no_grad():
        np.testing.assert_allclose(got, model(ad.tensor(x)).data, rtol=1e-5, atol=1e-6)
    for layer, shape in [(nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"), (3, 5, 5)),
                         (nn.Conv1d(3, 4, 3, padding=1, padding_mode="circular"), (3, 5))]:
        name = type(layer).__name__
        with pytest.raises(NotImplementedError, match=rf"module '0' \({name}\): padding_mode="
                                                      r"'\w+' is not exported"):
            nn.onnx.export(nn.Sequential(layer), np.ones((2, *shape), np.float32),
                           tmp_path / "refused.onnx")
