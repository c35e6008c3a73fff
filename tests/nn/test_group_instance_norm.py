"""GroupNorm / F.group_norm, InstanceNorm1d/2d / F.instance_norm, and LayerNorm over several
trailing axes: against PyTorch (float64 values and gradients to 1e-12, running statistics over
several steps, state dicts loaded across), and without it: closed forms, hand-computed
running statistics, gradcheck and gradgradcheck, float32 kept, every error."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck

TOL = dict(rtol=1e-12, atol=1e-12)


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


def _compare(ours, theirs, x, torch, pairs=()):
    """ours(x) and theirs(x), and the gradients of <out, g> in x and in each (our, PyTorch's)
    parameter pair, to 1e-12."""
    xa, xt = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya, yt = ours(xa), theirs(xt)
    np.testing.assert_allclose(ya.data, yt.detach().numpy(), **TOL)
    g = np.random.default_rng(9).standard_normal(ya.shape)
    (ya * ad.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    for a, t in [(xa, xt), *pairs]:
        np.testing.assert_allclose(a.grad.data, t.grad.numpy(), **TOL)


@pytest.mark.parametrize("shape,groups", [((3, 6), 3), ((2, 6, 5), 1), ((2, 6, 5), 2),
                                          ((2, 6, 4, 3), 3), ((2, 6, 4, 3), 6),
                                          ((1, 4, 2, 3, 2), 2)], ids=str)
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_matches_pytorch(shape, groups, affine):
    torch = _torch()
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 3 + 1
    c = shape[1]
    if affine:
        w, b = rng.standard_normal(c), rng.standard_normal(c)
        wa, ba = ad.tensor(w, requires_grad=True), ad.tensor(b, requires_grad=True)
        wt, bt = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
        pairs = [(wa, wt), (ba, bt)]
    else:
        wa = ba = wt = bt = None
        pairs = []
    _compare(lambda t: F.group_norm(t, groups, wa, ba, eps=1e-3),
             lambda t: torch.nn.functional.group_norm(t, groups, wt, bt, eps=1e-3), x, torch,
             pairs)


def test_group_norm_layer_matches_pytorch_with_its_state_dict():
    torch = _torch()
    theirs = torch.nn.GroupNorm(2, 4).double()
    with torch.no_grad():
        theirs.weight.normal_()
        theirs.bias.normal_()
    ours = nn.GroupNorm(2, 4)
    ours.double().load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(1).standard_normal((3, 4, 5, 2))
    _compare(ours, theirs, x, torch, [(ours.weight, theirs.weight), (ours.bias, theirs.bias)])


@pytest.mark.parametrize("cls,shape", [("InstanceNorm1d", (3, 4, 5)),
                                       ("InstanceNorm2d", (3, 4, 3, 5)),
                                       ("InstanceNorm1d", (4, 5)),
                                       ("InstanceNorm2d", (4, 3, 5))], ids=str)
@pytest.mark.parametrize("affine,track", [(False, False), (True, False), (False, True),
                                          (True, True)], ids=str)
def test_instance_norm_layers_match_pytorch_over_steps(cls, shape, affine, track):
    """Training steps (running statistics updated), then evaluation, with PyTorch's state."""
    torch = _torch()
    theirs = getattr(torch.nn, cls)(4, momentum=0.3, affine=affine,
                                    track_running_stats=track).double()
    if affine:
        with torch.no_grad():
            theirs.weight.normal_()
            theirs.bias.normal_()
    ours = getattr(nn, cls)(4, momentum=0.3, affine=affine, track_running_stats=track)
    ours.double().load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(2)
    pairs = [(ours.weight, theirs.weight), (ours.bias, theirs.bias)] if affine else []
    for step in range(3):
        for p, q in pairs:
            p.grad, q.grad = None, None
        _compare(ours, theirs, rng.standard_normal(shape) * (step + 1) + step, torch, pairs)
        if track:
            np.testing.assert_allclose(ours.running_mean.data, theirs.running_mean.numpy(),
                                       **TOL)
            np.testing.assert_allclose(ours.running_var.data, theirs.running_var.numpy(), **TOL)
    ours.eval()
    theirs.eval()
    _compare(ours, theirs, rng.standard_normal(shape), torch, [])


def test_instance_norm_function_matches_pytorch():
    torch = _torch()
    T = torch.nn.functional
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 4, 2))
    rm, rv = rng.standard_normal(3), rng.random(3) + 0.5
    ours_rm, ours_rv = ad.tensor(rm.copy()), ad.tensor(rv.copy())
    theirs_rm, theirs_rv = torch.tensor(rm.copy()), torch.tensor(rv.copy())
    _compare(lambda t: F.instance_norm(t, ours_rm, ours_rv, momentum=0.2, eps=1e-3),
             lambda t: T.instance_norm(t, theirs_rm, theirs_rv, momentum=0.2, eps=1e-3), x,
             torch)
    np.testing.assert_allclose(ours_rm.data, theirs_rm.numpy(), **TOL)
    np.testing.assert_allclose(ours_rv.data, theirs_rv.numpy(), **TOL)
    _compare(lambda t: F.instance_norm(t, ours_rm, ours_rv, use_input_stats=False),
             lambda t: T.instance_norm(t, theirs_rm, theirs_rv, use_input_stats=False), x,
             torch)


@pytest.mark.parametrize("normalized_shape", [(5,), (4, 5), (3, 4, 5)], ids=str)
def test_layer_norm_over_trailing_axes_matches_pytorch(normalized_shape):
    torch = _torch()
    theirs = torch.nn.LayerNorm(normalized_shape).double()
    with torch.no_grad():
        theirs.weight.normal_()
        theirs.bias.normal_()
    ours = nn.LayerNorm(normalized_shape)
    ours.double().load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(4).standard_normal((2, 3, 4, 5)) * 2 + 1
    _compare(ours, theirs, x, torch, [(ours.weight, theirs.weight), (ours.bias, theirs.bias)])


def test_closed_forms_without_pytorch():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 6, 3, 3)) * 4 + 2
    y = F.group_norm(ad.tensor(x), 3, eps=0.0).data.reshape(2, 3, -1)
    np.testing.assert_allclose(y.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=-1), 1, rtol=1e-12)
    # GroupNorm with one channel per group is instance norm; with one group, layer norm
    np.testing.assert_allclose(F.group_norm(ad.tensor(x), 6).data,
                               F.instance_norm(ad.tensor(x)).data, **TOL)
    np.testing.assert_allclose(F.group_norm(ad.tensor(x), 1).data,
                               F.layer_norm(ad.tensor(x), (6, 3, 3)).data, **TOL)
    # hand-computed: channel values (1, 3) and (10, 30): mean 2 and 20, variance 1 and 100
    gn = nn.GroupNorm(2, 4, eps=0.0)
    gn.weight.data[...] = [1.0, 1.0, 2.0, 2.0]
    gn.bias.data[...] = [0.0, 0.0, 0.0, 5.0]
    out = gn(ad.tensor([[[1.0], [3.0], [10.0], [30.0]]]))
    np.testing.assert_allclose(out.data.ravel(), [-1.0, 1.0, -2.0, 7.0], **TOL)


def test_running_statistics_hand_computed():
    """Two instances of one channel: means 2 and 6, unbiased variances 2 and 8: the running
    mean moves by momentum toward 4, the running variance toward 5."""
    norm = nn.InstanceNorm1d(1, momentum=0.5, track_running_stats=True).double()
    x = ad.tensor([[[1.0, 3.0]], [[4.0, 8.0]]])
    y = norm(x)
    np.testing.assert_allclose(norm.running_mean.data, [0.5 * 0 + 0.5 * 4])
    np.testing.assert_allclose(norm.running_var.data, [0.5 * 1 + 0.5 * 5])
    np.testing.assert_allclose(y.data.ravel(), [-1, 1, -1, 1], atol=1e-5)
    norm.eval()
    np.testing.assert_allclose(norm(ad.tensor([[[2.0, 4.0]]])).data.ravel(),
                               (np.array([2.0, 4.0]) - 2) / np.sqrt(3 + 1e-5), **TOL)
    assert set(norm.state_dict()) == {"running_mean", "running_var"}
    assert norm.weight is None and norm.bias is None
    # without tracking, evaluation still normalizes with the input's statistics
    plain = nn.InstanceNorm1d(1).eval()
    np.testing.assert_allclose(plain(x).data, y.data, **TOL)
    assert plain.running_mean is None and plain.state_dict() == {}


def test_second_order_without_pytorch():
    rng = np.random.default_rng(6)
    x = ad.tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
    w = ad.tensor(rng.standard_normal(4), requires_grad=True)
    b = ad.tensor(rng.standard_normal(4), requires_grad=True)
    for f in [lambda x, w, b: F.group_norm(x, 2, w, b),
              lambda x, w, b: F.instance_norm(x, None, None, w, b),
              lambda x, w, b: F.instance_norm(x, ad.zeros(4, dtype=np.float64),
                                              ad.ones(4, dtype=np.float64), w, b,
                                              use_input_stats=False)]:
        assert gradcheck(f, x, w, b)
        assert gradgradcheck(f, x, w, b)


def test_float32_stays_float32():
    x = ad.tensor(np.random.default_rng(7).standard_normal((2, 4, 3, 3)).astype(np.float32),
                  requires_grad=True)
    for layer in [nn.GroupNorm(2, 4), nn.InstanceNorm2d(4, affine=True,
                                                        track_running_stats=True)]:
        y = layer(x)
        y.sum().backward()
        assert y.dtype == np.float32 and x.grad.dtype == np.float32
        assert all(t.dtype == np.float32 for t in layer.state_dict().values())
    assert F.instance_norm(x[:, :, 0]).dtype == np.float32


def test_errors():
    x = ad.ones((2, 4, 3))
    cases = [
        (lambda: nn.GroupNorm(3, 4), "GroupNorm: num_channels \\(4\\) must be divisible by "
                                     "num_groups \\(3\\)"),
        (lambda: nn.GroupNorm(0, 4), "must be divisible by num_groups \\(0\\)"),
        (lambda: nn.GroupNorm(2, 4)(ad.ones((2, 6, 3))), "GroupNorm\\(2, 4\\): expected input "
                                                         "of shape \\(N, 4, \\*\\)"),
        (lambda: F.group_norm(ad.ones(4), 2), "group_norm: expected input of shape"),
        (lambda: F.group_norm(x, 3), "group_norm: num_groups=3 must divide the 4 channels"),
        (lambda: F.group_norm(x, 2, ad.ones(3)), "group_norm: weight must have shape \\(4,\\)"),
        (lambda: F.group_norm(x, 2, None, ad.ones(5)), "group_norm: bias must have shape"),
        (lambda: F.instance_norm(ad.ones((2, 4))), "instance_norm: expected input of shape "
                                                   "\\(N, C, \\*\\) with at least one spatial"),
        (lambda: F.instance_norm(ad.ones((2, 4, 1))), "expected more than 1 spatial element"),
        (lambda: F.instance_norm(x, ad.zeros(3), ad.ones(4)), "running_mean must have shape"),
        (lambda: F.instance_norm(x, use_input_stats=False), "use_input_stats=False normalizes "
                                                           "with the running statistics"),
        (lambda: F.instance_norm(x, weight=ad.ones(2)), "instance_norm: weight must have shape"),
        (lambda: nn.InstanceNorm2d(4)(x[0]), "InstanceNorm2d\\(4\\): expected input of 3 or 4 "
                                             "dimensions"),
        (lambda: nn.InstanceNorm1d(4)(ad.ones((1, 2, 3, 4))), "InstanceNorm1d\\(4\\): expected "
                                                              "input of 2 or 3 dimensions"),
        (lambda: nn.InstanceNorm1d(3, affine=True)(x), "InstanceNorm1d\\(3\\): expected 3 "
                                                       "channels on axis 1"),
        (lambda: nn.InstanceNorm1d(3, track_running_stats=True)(x), "expected 3 channels"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()
    with pytest.warns(UserWarning, match="InstanceNorm1d\\(3\\): the input's 4 channels do not "
                                         "match num_features"):
        nn.InstanceNorm1d(3)(x)


def test_onnx_export(tmp_path):
    """GroupNorm goes op by op; InstanceNorm is ONNX's InstanceNormalization (its running
    statistics, in evaluation, op by op)."""
    pytest.importorskip("onnx", reason="the optional extra 'export' (onnx) is not installed")
    ort = pytest.importorskip("onnxruntime",
                              reason="the optional extra 'export' (onnxruntime) is not installed")
    rng = np.random.default_rng(0)
    tracked = nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    tracked(ad.tensor(rng.standard_normal((4, 3, 5, 5)).astype(np.float32)))  # move the stats
    for i, layer in enumerate([nn.GroupNorm(1, 3), nn.InstanceNorm2d(3), tracked]):
        model = nn.Sequential(nn.Conv2d(3, 3, 1), layer).eval()
        path = nn.onnx.export(model, rng.standard_normal((2, 3, 5, 5)).astype(np.float32),
                              tmp_path / f"{i}.onnx")
        x = rng.standard_normal((3, 3, 5, 5)).astype(np.float32)
        (got,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
            None, {"input": x})
        with ad.no_grad():
            np.testing.assert_allclose(got, model(ad.tensor(x)).data, rtol=1e-4, atol=1e-5)
