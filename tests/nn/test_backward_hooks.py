"""Module backward hooks (`register_full_backward_hook`, `register_full_backward_pre_hook`),
missing before: what they see and what their results change, against hand-computed values
and PyTorch's."""

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff.testing import gradgradcheck

W, B = np.arange(6.0).reshape(2, 3) / 7, np.array([0.5, -1.0])


def _layer():
    layer = nn.Linear(3, 2, dtype=np.float64)
    layer.weight.data[...], layer.bias.data[...] = W, B
    return layer


def test_pre_hook_replaces_grad_output_and_hook_replaces_grad_input():
    layer, log = _layer(), []
    layer.register_full_backward_pre_hook(lambda m, gout: (gout[0] * 2,))
    layer.register_full_backward_hook(
        lambda m, gin, gout: log.append((gin[0].data.copy(), gout[0].data.copy()))
        or (gin[0] * 3,))
    x = ad.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = layer(x)
    (y * y).sum().backward()
    g_out = 2 * (2 * (x.data @ W.T + B))  # d(y^2)/dy, doubled by the pre-hook
    np.testing.assert_allclose(log[0][1], g_out)
    np.testing.assert_allclose(log[0][0], g_out @ W)  # grad_input before the hook's change
    np.testing.assert_allclose(x.grad.data, 3 * g_out @ W)
    np.testing.assert_allclose(layer.weight.grad.data, g_out.T @ x.data)  # the doubled one


def test_inputs_that_need_no_gradient_get_none():
    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter([2.0, 3.0])

        def forward(self, a, b, scale=1.0):
            return a * b * scale * self.w

    seen = []
    pair = Pair()
    pair.register_full_backward_hook(
        lambda m, gin, gout: seen.append([g is None for g in gin]))
    a, b = ad.ones(2, requires_grad=True), ad.ones(2)
    pair(a, b, scale=2.0).sum().backward()
    pair(ad.ones(2), b).sum().backward()  # no input needs one: the hook runs at the output
    assert seen == [[False, True], [True, True]]


def test_removal_order_and_no_grad():
    layer, log = _layer(), []
    h1 = layer.register_full_backward_hook(lambda m, gin, gout: log.append(1))
    layer.register_full_backward_hook(lambda m, gin, gout: log.append(0), prepend=True)
    x = ad.ones((1, 3), requires_grad=True)
    layer(x).sum().backward()
    h1.remove()
    layer(x).sum().backward()
    with ad.no_grad():
        layer(x)
    assert log == [0, 1, 0]


def test_a_wrong_result_is_refused():
    layer = _layer()
    layer.register_full_backward_hook(lambda m, gin, gout: (ad.ones(5),))
    with pytest.raises(RuntimeError, match=r"a backward hook returned a gradient of shape "
                                           r"\(5,\), expected \(1, 3\)"):
        layer(ad.ones((1, 3), requires_grad=True)).sum().backward()
    layer = _layer()
    layer.register_full_backward_pre_hook(lambda m, gout: (gout[0], gout[0]))
    with pytest.raises(RuntimeError, match="a backward pre-hook returned 2 gradients, "
                                           "expected 1"):
        layer(ad.ones((1, 3), requires_grad=True)).sum().backward()
    with pytest.raises(TypeError, match="expected a callable"):
        layer.register_full_backward_hook(3)


def test_second_derivatives_flow_through_the_hooks():
    layer, calls = nn.Sequential(_layer(), nn.Tanh()), []
    layer[1].register_full_backward_hook(lambda m, gin, gout: calls.append(1))
    x = ad.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    assert gradgradcheck(lambda t: layer(t), x)
    assert calls


def test_backward_hooks_equal_pytorchs():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")

    def scenario(layer, tensor):
        log = []
        layer.register_full_backward_pre_hook(
            lambda m, go: log.append(("pre", len(go))) or (go[0] * 2,))
        layer.register_full_backward_hook(
            lambda m, gi, go: log.append(("post", [g is None for g in gi],
                                          np.asarray(go[0]).round(9).tolist()))
            or (None if gi[0] is None else (gi[0] * 3,)))
        x = tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        y = layer(x)
        (y * y).sum().backward()
        layer(tensor(np.ones((2, 3)))).sum().backward()
        return log, np.asarray(x.grad), np.asarray(layer.weight.grad)

    t = torch.nn.Linear(3, 2).double()
    with torch.no_grad():
        t.weight.copy_(torch.tensor(W))
        t.bias.copy_(torch.tensor(B))
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        theirs = scenario(t, torch.tensor)
    ours = scenario(_layer(), ad.tensor)
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=0, atol=1e-13)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=0, atol=1e-13)
