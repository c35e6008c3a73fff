"""Edge cases of GroupNorm and InstanceNorm (and BatchNorm's momentum=None): an empty batch,
one value per group, momentum=None; without PyTorch and, where it is installed, against it."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def test_group_norm_of_an_empty_batch_is_empty():
    x = ad.tensor(np.zeros((0, 4, 3, 3)), requires_grad=True)
    y = nn.GroupNorm(2, 4)(x)
    assert y.shape == (0, 4, 3, 3)
    y.sum().backward()
    assert x.grad.shape == (0, 4, 3, 3)
    assert F.group_norm(ad.tensor(np.zeros((2, 4, 0))), 2).shape == (2, 4, 0)


def test_group_norm_of_one_value_per_group_is_refused_as_pytorch():
    # one example with one value in each group: every output would be 0 (PyTorch raises)
    with pytest.raises(ValueError, match=r"group_norm: expected more than 1 value per group .* "
                                         r"got input shape \(1, 4, 1, 1\) for 4 groups"):
        nn.GroupNorm(4, 4)(ad.ones((1, 4, 1, 1)))
    # two values per group in one example still normalize (PyTorch too)
    y = nn.GroupNorm(2, 4)(ad.tensor([[[[1.0]], [[3.0]], [[5.0]], [[9.0]]]]))
    np.testing.assert_allclose(y.data.ravel(), [-1, 1, -1, 1], atol=1e-5)
    x = _rand(1, 4, 1, 1)
    assert gradcheck(lambda x: F.group_norm(x, 2), x)


@pytest.mark.parametrize("cls", [nn.InstanceNorm1d, nn.InstanceNorm2d])
def test_instance_norm_momentum_none_keeps_the_running_statistics(cls):
    layer = cls(2, momentum=None, track_running_stats=True)
    shape = (3, 2, 5) if cls is nn.InstanceNorm1d else (3, 2, 3, 4)
    x = ad.tensor(_rand(*shape) * 3 + 1)
    y = layer(x)  # (before: TypeError "unsupported operand type(s) for -: 'int' and 'NoneType'")
    np.testing.assert_array_equal(layer.running_mean.data, 0.0)
    np.testing.assert_array_equal(layer.running_var.data, 1.0)
    np.testing.assert_allclose(y.data, cls(2)(x).data)  # training normalizes by the input


@pytest.mark.parametrize("cls", [nn.BatchNorm1d, nn.BatchNorm2d])
def test_batch_norm_momentum_none_is_refused_by_name(cls):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: momentum=None \(PyTorch's "
                                         r"cumulative moving average\) is not supported"):
        cls(3, momentum=None)


def test_edge_cases_match_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    x = _rand(0, 4, 3, 3)
    assert tuple(torch.nn.GroupNorm(2, 4).double()(torch.tensor(x)).shape) == \
        nn.GroupNorm(2, 4)(ad.tensor(x)).shape
    with pytest.raises(ValueError, match="more than 1 value"):
        torch.nn.GroupNorm(4, 4)(torch.ones(1, 4, 1, 1))
    for shape, groups in [((1, 4, 1, 1), 2), ((2, 4, 1), 4), ((2, 6, 3), 3)]:
        x = _rand(*shape, seed=1)
        ours = nn.GroupNorm(groups, shape[1], eps=0.5).to(np.float64)
        theirs = torch.nn.GroupNorm(groups, shape[1], eps=0.5).double()
        xt, xo = torch.tensor(x, requires_grad=True), ad.tensor(x, requires_grad=True)
        g = _rand(*shape, seed=2)
        (theirs(xt) * torch.tensor(g)).sum().backward()
        y = ours(xo)
        (y * ad.tensor(g)).sum().backward()
        np.testing.assert_allclose(y.data, theirs(xt).detach().numpy(), atol=1e-14)
        np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), atol=1e-14)
        np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), atol=1e-14)
    theirs = torch.nn.InstanceNorm2d(2, momentum=None, track_running_stats=True).double()
    ours = nn.InstanceNorm2d(2, momentum=None, track_running_stats=True)
    x = _rand(3, 2, 3, 4) * 3 + 1
    np.testing.assert_allclose(ours(ad.tensor(x)).data, theirs(torch.tensor(x)).numpy(),
                               atol=1e-14)
    np.testing.assert_array_equal(ours.running_mean.data, theirs.running_mean.numpy())
    np.testing.assert_array_equal(ours.running_var.data, theirs.running_var.numpy())


def test_instance_norm_of_an_empty_batch_is_empty():
    """An empty batch raised ZeroDivisionError (spatial cells counted as size / (N C))."""
    x = ad.tensor(np.zeros((0, 3, 4)), requires_grad=True)
    assert F.instance_norm(x).shape == (0, 3, 4)
    layer = nn.InstanceNorm1d(3, affine=True, track_running_stats=True)
    y = layer(ad.tensor(np.zeros((0, 3, 4), np.float32)))
    assert y.shape == (0, 3, 4)
    np.testing.assert_array_equal(layer.running_mean.data, np.zeros(3))
    with pytest.raises(ValueError, match="instance_norm: expected more than 1 spatial element"):
        F.instance_norm(ad.tensor(np.zeros((0, 3, 1))))
