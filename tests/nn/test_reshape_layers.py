"""Identity, Flatten(start_dim, end_dim) and Unflatten(dim, unflattened_size) as PyTorch's;
the options added for PyTorch's signatures: Dropout(inplace=), BatchNorm and LayerNorm
(bias=)."""

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff.testing import gradcheck


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


SHAPE = (2, 3, 4, 5)
FLATTEN = [(1, -1), (0, -1), (0, 1), (1, 2), (2, -1), (-2, -1), (3, 3), (-3, 2)]
UNFLATTEN = [(1, (3, 1)), (-1, (5, 1)), (0, (1, 2)), (1, (-1, 1, 3)), (-2, (2, -1))]


@pytest.mark.parametrize("start, end", FLATTEN)
def test_flatten_matches_pytorch(start, end):
    torch = _torch()
    x = np.arange(120.0).reshape(SHAPE)
    want = torch.nn.Flatten(start, end)(torch.tensor(x)).numpy()
    np.testing.assert_array_equal(nn.Flatten(start, end)(ad.tensor(x)).data, want)
    np.testing.assert_array_equal(nn.Flatten(start_dim=start, end_dim=end)(x).data, want)


@pytest.mark.parametrize("dim, sizes", UNFLATTEN)
def test_unflatten_matches_pytorch(dim, sizes):
    torch = _torch()
    x = np.arange(120.0).reshape(SHAPE)
    want = torch.nn.Unflatten(dim, sizes)(torch.tensor(x)).numpy()
    np.testing.assert_array_equal(nn.Unflatten(dim, sizes)(ad.tensor(x)).data, want)


def test_flatten_unflatten_without_pytorch():
    x = ad.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    flat = nn.Flatten()(x)
    assert flat.shape == (2, 12) and nn.Flatten(0, 1)(x).shape == (6, 4)
    back = nn.Unflatten(1, (3, 4))(flat)
    np.testing.assert_array_equal(back.data, x.data)
    assert nn.Unflatten(1, [-1, 2])(flat).shape == (2, 6, 2)
    assert gradcheck(lambda t: nn.Unflatten(-1, (2, 2))(nn.Flatten(0, 1)(t)), x)
    assert nn.Flatten(start_axis=2).start_dim == 2  # the names before 0.2 still work
    assert repr(nn.Unflatten(1, [2, 5])) == "Unflatten(dim=1, unflattened_size=[2, 5])"


def test_flatten_unflatten_errors():
    with pytest.raises(TypeError, match="Flatten: got both start_dim=2 and start_axis=1"):
        nn.Flatten(2, start_axis=1)
    with pytest.raises(ValueError, match=r"unflatten: sizes \(2, 2\) do not split axis 1 of "
                                         r"size 12"):
        nn.Unflatten(1, (2, 2))(ad.ones((2, 12)))
    with pytest.raises(ValueError, match="with at most one -1"):
        nn.Unflatten(1, (-1, -1))(ad.ones((2, 12)))
    with pytest.raises(ValueError, match=r"sizes \(-1, 5\) do not split axis 1 of size 12"):
        nn.Unflatten(1, (-1, 5))(ad.ones((2, 12)))
    with pytest.raises(TypeError, match="Unflatten: dim must be an integer axis, got 'features'"):
        nn.Unflatten("features", (2, 6))
    with pytest.raises(TypeError, match="unflattened_size must be a tuple or list of integers"):
        nn.Unflatten(1, 12)


def test_identity_takes_any_arguments():
    x = ad.ones(2)
    assert nn.Identity(54, unused_argument1=0.1, unused_argument2=False)(x) is x
    assert repr(nn.Identity(3)) == "Identity()"


def test_dropout_inplace_writes_into_its_input():
    ad.manual_seed(0)
    x = ad.ones(1000)
    y = nn.Dropout(0.5, inplace=True)(x)
    assert y is x and set(np.unique(x.data)) == {0.0, 2.0} and x._version == 1
    ad.manual_seed(0)
    z = nn.Dropout(0.5)(ad.ones(1000))  # the same mask, out of place
    np.testing.assert_array_equal(z.data, x.data)
    w = ad.ones(8, requires_grad=True)
    h = w * 3  # a non-leaf: the in-place write is recorded
    out = nn.Dropout2d(0.5, inplace=True)(h.reshape(1, 8, 1, 1))
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.data, out.data.ravel())  # w = 1: out = 3 * 2 * mask
    with pytest.raises(RuntimeError, match="leaf"):
        nn.Dropout(0.5, inplace=True)(ad.ones(3, requires_grad=True))


def test_norm_layers_without_bias():
    bn = nn.BatchNorm1d(3, bias=False)
    assert bn.bias is None and [k for k, _ in bn.named_parameters()] == ["weight"]
    x = ad.tensor(np.random.default_rng(0).standard_normal((5, 3)))
    y = bn(x)
    np.testing.assert_allclose(y.data.mean(axis=0), 0, atol=1e-6)
    ln = nn.LayerNorm(3, bias=False)
    assert ln.bias is None and ln(x).shape == (5, 3)
    assert nn.LayerNorm(3, elementwise_affine=False).weight is None


def test_norm_layers_without_bias_match_pytorch():
    torch = _torch()
    x = np.random.default_rng(1).standard_normal((6, 3))
    ours, theirs = nn.BatchNorm1d(3, bias=False), torch.nn.BatchNorm1d(3, bias=False)
    ours.weight.data[...] = [0.5, 2.0, 1.0]
    with torch.no_grad():
        theirs.weight[:] = torch.tensor([0.5, 2.0, 1.0])
    np.testing.assert_allclose(ours(x.astype(np.float32)).data,
                               theirs(torch.tensor(x, dtype=torch.float32)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    ours, theirs = nn.LayerNorm(3, bias=False), torch.nn.LayerNorm(3, bias=False)
    np.testing.assert_allclose(ours(x.astype(np.float32)).data,
                               theirs(torch.tensor(x, dtype=torch.float32)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
