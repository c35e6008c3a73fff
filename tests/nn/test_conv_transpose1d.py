"""conv_transpose1d and ConvTranspose1d: the adjoint of conv1d, PyTorch's sizes, arguments,
initialization and printed form."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck


@pytest.mark.parametrize("s, p, d, g", [(1, 0, 1, 1), (2, 1, 1, 1), (3, 2, 2, 2), (2, 0, 3, 2)])
def test_adjoint_of_conv1d(s, p, d, g):
    """<conv1d(u, w), v> = <u, conv_transpose1d(v, w)> for every u, v: the defining identity."""
    rng = np.random.default_rng(0)
    w = ad.tensor(rng.standard_normal((4, 4 // g, 3)))  # conv1d: (out 4, in/g, k)
    u = ad.tensor(rng.standard_normal((2, 4, 11)))
    y = F.conv1d(u, w, None, s, p, d, g)
    v = ad.tensor(rng.standard_normal(y.shape))
    length = (y.shape[2] - 1) * s - 2 * p + d * 2 + 1
    op = 11 - length  # what it takes to reach the conv's input length again
    back = F.conv_transpose1d(v, w, None, s, p, op, g, d)
    assert back.shape == u.shape
    np.testing.assert_allclose((y * v).sum().item(), (u * back).sum().item(), rtol=1e-12)


def test_closed_form_and_unbatched():
    x, w = ad.tensor([[[1.0, 2.0]]]), ad.tensor([[[1.0, 10.0, 100.0]]])
    np.testing.assert_allclose(F.conv_transpose1d(x, w, ad.tensor([0.5]), stride=2).data,
                               [[[1.5, 10.5, 102.5, 20.5, 200.5]]])
    np.testing.assert_allclose(F.conv_transpose1d(x[0], w, stride=2, padding=1).data,
                               [[10.0, 102.0, 20.0]])


def test_second_order():
    rng = np.random.default_rng(1)
    x, w, b = (ad.tensor(rng.standard_normal(s)) for s in ((2, 4, 5), (4, 3, 3), (6,)))

    def f(u, v, c):
        return F.conv_transpose1d(u, v, c, stride=2, padding=1, output_padding=1, groups=2)

    assert gradcheck(f, x, w, b) and gradgradcheck(f, x, w, b)


def test_layer():
    layer = nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)
    assert layer.weight.shape == (4, 3, 3) and layer.bias.shape == (6,)
    assert np.abs(layer.weight.data).max() <= 1 / np.sqrt(3 * 3)  # fan_in = (out / g) k
    assert layer(ad.ones((1, 4, 5))).shape == (1, 6, 10)
    assert layer(ad.ones((4, 5))).shape == (6, 10)
    assert repr(layer) == ("ConvTranspose1d(4, 6, kernel_size=(3,), stride=(2,), padding=(1,), "
                           "output_padding=(1,), groups=2)")
    assert nn.ConvTranspose1d(2, 2, 1, bias=False).bias is None
    assert nn.ConvTranspose1d(2, 2, 1, dtype=np.float64).weight.dtype == np.float64


def test_errors():
    w = ad.ones((2, 1, 3))
    with pytest.raises(ValueError, match=r"conv_transpose1d: expected input \(N, C_in, L\)"):
        F.conv_transpose1d(ad.ones((1, 2, 3, 4)), w)
    with pytest.raises(ValueError, match="conv_transpose1d: conv_transpose2d: output_padding"):
        F.conv_transpose1d(ad.ones((1, 2, 3)), w, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="conv_transpose1d: conv_transpose2d: the input has 3 "
                                         "channels"):
        F.conv_transpose1d(ad.ones((1, 3, 3)), w)
    with pytest.raises(ValueError, match="ConvTranspose1d: only padding_mode='zeros'"):
        nn.ConvTranspose1d(2, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="ConvTranspose1d: groups=2 must divide"):
        nn.ConvTranspose1d(3, 2, 3, groups=2)


@pytest.mark.parametrize("seed", range(10))
def test_match_pytorch(seed):
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    rng = np.random.default_rng(seed)
    g = int(rng.choice([1, 2]))
    cin, cout = 2 * g, g * int(rng.integers(1, 3))
    k, s, d, p = int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 3)), 1
    op = int(rng.integers(0, max(s, d)))
    theirs = torch.nn.ConvTranspose1d(cin, cout, k, s, p, op, g, True, d, dtype=torch.float64)
    mine = nn.ConvTranspose1d(cin, cout, k, s, p, op, g, True, d, dtype=np.float64)
    assert repr(mine) == repr(theirs)
    mine.weight.data[...] = theirs.weight.detach().numpy()
    mine.bias.data[...] = theirs.bias.detach().numpy()
    x = rng.standard_normal((2, cin, int(rng.integers(2, 7))))
    a, b = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    got, expected = mine(a), theirs(b)
    np.testing.assert_allclose(got.data, expected.detach().numpy(), rtol=1e-12, atol=1e-13)
    gy = rng.standard_normal(got.shape)
    ga = ad.gradients(got, [a, mine.weight, mine.bias], ad.tensor(gy))
    gb = torch.autograd.grad(expected, [b, theirs.weight, theirs.bias], torch.tensor(gy))
    for u, v in zip(ga, gb):
        np.testing.assert_allclose(u.data, v.numpy(), rtol=1e-12, atol=1e-13)
