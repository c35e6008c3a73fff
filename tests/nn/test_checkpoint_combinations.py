"""Checkpointing combined with the other features: parametrizations (spectral_norm's power
iteration must run once, and the recomputation must see the vectors of the first run)."""

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff.checkpoint import checkpoint, checkpoint_sequential
from autodiff.replay import replayed
from nn.utils.parametrizations import spectral_norm, weight_norm


def _step(wrap, ck: bool, build):
    """One forward/backward of `build()` wrapped in spectral_norm/weight_norm, checkpointed
    or not: (output, parameter gradients, input gradient, buffers after)."""
    ad.manual_seed(0)
    m = build(wrap)
    x = ad.tensor(np.random.default_rng(3).standard_normal((2, 4)), requires_grad=True)
    y = ck(m, x) if ck else m(x)
    (y * y).sum().backward()
    grads = {k: p.grad.copy() for k, p in m.named_parameters()}
    return y.data.copy(), grads, x.grad.copy(), {k: b.data.copy() for k, b in m.named_buffers()}


def _linear(wrap):
    return wrap(nn.Linear(4, 3))


def _shared(wrap):  # the same spectral-normed layer twice: two power steps per forward
    layer = wrap(nn.Linear(4, 4))
    return nn.Sequential(layer, nn.Tanh(), layer)


def _sequential(wrap):
    return nn.Sequential(wrap(nn.Linear(4, 5)), nn.Tanh(), wrap(nn.Linear(5, 5)), nn.Tanh(),
                         wrap(nn.Linear(5, 3)))


def _nested(m, x):  # a checkpoint inside a checkpoint
    inner = lambda s: m[1](m[0](s))  # noqa: E731
    return checkpoint(lambda t: m[4](m[3](m[2](checkpoint(inner, t)))), x)


@pytest.mark.parametrize("wrap", [spectral_norm, weight_norm])
@pytest.mark.parametrize("build,ck", [
    (_linear, checkpoint),
    (_shared, checkpoint),
    (_sequential, lambda m, x: checkpoint_sequential(m, 2, x)),
    (_sequential, _nested),
])
def test_checkpointed_parametrization_is_the_plain_computation(wrap, build, ck):
    # main ran spectral_norm's power step again in the recomputation: the buffers advanced
    # twice and the gradient was that of a different sigma than the returned output's
    plain = _step(wrap, None, build)
    got = _step(wrap, ck, build)
    np.testing.assert_array_equal(got[0], plain[0])
    assert got[1].keys() == plain[1].keys()
    for k in plain[1]:
        np.testing.assert_array_equal(got[1][k], plain[1][k], err_msg=k)
    np.testing.assert_array_equal(got[2], plain[2])
    assert got[3].keys() == plain[3].keys()
    for k in plain[3]:
        np.testing.assert_array_equal(got[3][k], plain[3][k], err_msg=k)


def test_spectral_norm_checkpoint_create_graph_and_eval():
    # second derivatives through the recomputation, and eval mode (no power step at all)
    for training in (True, False):
        results = []
        for ck in (False, True):
            ad.manual_seed(0)
            m = spectral_norm(nn.Linear(3, 3)).train(training)
            x = ad.tensor(np.random.default_rng(1).standard_normal((2, 3)), requires_grad=True)
            y = checkpoint(m, x) if ck else m(x)
            g, = ad.gradients((y.tanh() ** 2).sum(), [x], create_graph=True)
            gg, = ad.gradients((g * g).sum(), [x])
            results.append((g.data, gg.data, m.parametrizations.weight[0]._u.data.copy()))
        for a, b in zip(*results):
            np.testing.assert_array_equal(a, b)


def test_replayed_outside_checkpoint_calls_every_time():
    calls = []
    assert [replayed(lambda: calls.append(1) or len(calls)) for _ in range(3)] == [1, 2, 3]


def test_replayed_values_in_call_order():
    calls = []

    def f(t):
        a = replayed(lambda: calls.append("a") or 2.0)
        b = replayed(lambda: calls.append("b") or 5.0)
        return t * a + t * t * b

    x = ad.tensor([1.0, -2.0], requires_grad=True)
    checkpoint(f, x).sum().backward()
    assert calls == ["a", "b"]
    np.testing.assert_array_equal(x.grad.data, 2.0 + 2 * 5.0 * np.array([1.0, -2.0]))


def test_replayed_more_calls_in_recomputation_raises():
    state = {"n": 1}

    def f(t):
        for _ in range(state["n"]):
            replayed(lambda: 1.0)
        return t * 2.0

    x = ad.tensor([1.0], requires_grad=True)
    y = checkpoint(f, x)
    state["n"] = 2
    with pytest.raises(RuntimeError, match=r"replayed\(.*\) was called 2 times .* only 1"):
        y.sum().backward()


def test_spectral_norm_checkpoint_against_pytorch():
    # our checkpointed step equals PyTorch's un-checkpointed one (PyTorch's own checkpoint
    # runs the power step twice, so its gradient is that of a later sigma)
    torch = pytest.importorskip("torch", reason="PyTorch reference")
    from torch.nn.utils.parametrizations import spectral_norm as torch_sn
    ad.manual_seed(0)
    m = spectral_norm(nn.Linear(4, 3, dtype=np.float64))
    t = torch_sn(torch.nn.Linear(4, 3).double())
    sn = m.parametrizations.weight
    with torch.no_grad():
        t.parametrizations.weight.original.copy_(torch.from_numpy(sn.original.data))
        t.bias.copy_(torch.from_numpy(m.bias.data))
        t.parametrizations.weight[0]._u.copy_(torch.from_numpy(sn[0]._u.data))
        t.parametrizations.weight[0]._v.copy_(torch.from_numpy(sn[0]._v.data))
    xs = np.random.default_rng(2).standard_normal((5, 4))
    x = ad.tensor(xs, requires_grad=True)
    (checkpoint(m, x) ** 2).sum().backward()
    xt = torch.tensor(xs, requires_grad=True)
    (t(xt) ** 2).sum().backward()
    np.testing.assert_allclose(sn.original.grad.data,
                               t.parametrizations.weight.original.grad.numpy(), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sn[0]._u.data, t.parametrizations.weight[0]._u.numpy(),
                               rtol=1e-10, atol=1e-12)


def _sn_model():
    ad.manual_seed(0)
    return nn.Sequential(spectral_norm(nn.Linear(4, 5, dtype=np.float64)), nn.Tanh(),
                         spectral_norm(nn.Linear(5, 3, dtype=np.float64)))


def _buffers(m):
    return [b.data.copy() for b in m.buffers()]


@pytest.mark.parametrize("how", ["vmap", "vmap of checkpoint", "checkpoint of vmap",
                                 "vmap of grad"])
def test_spectral_norm_under_vmap_steps_once_per_call(how):
    # main ran the power step once per sample: the buffers advanced B steps and every sample
    # saw another sigma (torch.func.vmap calls the module once: one step, one sigma)
    xs = np.random.default_rng(4).standard_normal((6, 4))
    plain, mapped = _sn_model(), _sn_model()
    x = ad.tensor(xs, requires_grad=True)
    xm = ad.tensor(xs, requires_grad=True)
    loss = lambda t: (t.tanh() ** 2).sum()  # noqa: E731
    if how == "vmap of grad":
        want, = ad.gradients(loss(plain(x)), [x])
        got = ad.vmap(ad.grad(lambda xi: loss(mapped(xi))))(xm)
        np.testing.assert_allclose(got.data, want.data, rtol=1e-13, atol=1e-15)
    else:
        f = {"vmap": ad.vmap(mapped),
             "vmap of checkpoint": ad.vmap(lambda xi: checkpoint(mapped, xi)),
             "checkpoint of vmap": lambda t: checkpoint(ad.vmap(mapped), t)}[how]
        y, want = f(xm), plain(x)
        np.testing.assert_allclose(y.data, want.data, rtol=1e-13, atol=1e-15)
        loss(want).backward()
        loss(y).backward()
        np.testing.assert_allclose(xm.grad.data, x.grad.data, rtol=1e-13, atol=1e-15)
        for p, q in zip(mapped.parameters(), plain.parameters()):
            np.testing.assert_allclose(p.grad.data, q.grad.data, rtol=1e-12, atol=1e-14)
    for a, b in zip(_buffers(mapped), _buffers(plain)):
        np.testing.assert_array_equal(a, b)


def test_spectral_norm_vmap_against_torch_func_vmap():
    torch = pytest.importorskip("torch", reason="PyTorch reference")
    from torch.nn.utils.parametrizations import spectral_norm as torch_sn
    ad.manual_seed(0)
    m = spectral_norm(nn.Linear(4, 3, dtype=np.float64))
    t = torch_sn(torch.nn.Linear(4, 3).double())
    sn, tsn = m.parametrizations.weight, t.parametrizations.weight
    with torch.no_grad():
        tsn.original.copy_(torch.from_numpy(sn.original.data))
        t.bias.copy_(torch.from_numpy(m.bias.data))
        tsn[0]._u.copy_(torch.from_numpy(sn[0]._u.data))
        tsn[0]._v.copy_(torch.from_numpy(sn[0]._v.data))
    xs = np.random.default_rng(5).standard_normal((7, 4))
    for _ in range(3):  # three calls: three steps each side
        y = ad.vmap(m)(ad.tensor(xs))
        yt = torch.func.vmap(t)(torch.from_numpy(xs))
        np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(sn[0]._u.data, tsn[0]._u.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(sn[0]._v.data, tsn[0]._v.numpy(), rtol=1e-12, atol=1e-14)


def _frozen_step(ck: bool, when: str):
    ad.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    if when == "before":
        m[0].weight.requires_grad = False
    x = ad.tensor(np.random.default_rng(6).standard_normal((5, 3)), requires_grad=True)
    y = checkpoint(m, x) if ck else m(x)
    if when == "after":
        m[0].weight.requires_grad = False
    (y ** 2).sum().backward()
    return {k: None if p.grad is None else p.grad.data.copy()
            for k, p in m.named_parameters()}, x.grad.data.copy()


@pytest.mark.parametrize("when", ["before", "after"])
def test_frozen_parameter_checkpointed_as_plain(when):
    # main: a parameter frozen between the forward and the backward got a .grad from the plain
    # backward but none through checkpoint (PyTorch's AccumulateGrad writes none)
    plain, got = _frozen_step(False, when), _frozen_step(True, when)
    assert plain[0]["0.weight"] is None and got[0]["0.weight"] is None
    for k in plain[0]:
        if plain[0][k] is not None:
            np.testing.assert_array_equal(got[0][k], plain[0][k], err_msg=k)
    np.testing.assert_array_equal(got[1], plain[1])


def test_frozen_after_forward_against_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch reference")
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    wt = torch.tensor([1.0, 2.0], requires_grad=True)
    x = ad.tensor([3.0, 4.0], requires_grad=True)
    xt = torch.tensor([3.0, 4.0], requires_grad=True)
    y, yt = (w * x).sum(), (wt * xt).sum()
    w.requires_grad = False
    wt.requires_grad_(False)
    y.backward()
    yt.backward()
    assert w.grad is None and wt.grad is None
    np.testing.assert_array_equal(x.grad.data, xt.grad.numpy())
