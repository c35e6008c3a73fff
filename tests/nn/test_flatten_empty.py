"""nn.Flatten on tensors with no elements: the merged axis has a size (reshape's -1 has none,
so an empty batch failed in every model with a Flatten); values and gradients unchanged."""

import numpy as np
import pytest

import autodiff as ad
import nn

CASES = [((0, 16, 5, 5), 1, -1, (0, 400)), ((0, 3, 5), 0, 1, (0, 5)), ((0, 3), 0, -1, (0,)),
         ((2, 0, 4), 1, -1, (2, 0)), ((3, 0, 4), 0, 1, (0, 4)), ((2, 3, 4), 1, -1, (2, 12))]


@pytest.mark.parametrize("shape, start, end, want", CASES)
def test_flatten_shapes(shape, start, end, want):
    x = ad.tensor(np.zeros(shape, np.float32), requires_grad=True)
    y = nn.Flatten(start, end)(x)
    assert y.shape == want
    y.sum().backward()
    assert x.grad.shape == shape


@pytest.mark.parametrize("shape, start, end, want", CASES)
def test_flatten_shapes_equal_pytorchs(shape, start, end, want):
    torch = pytest.importorskip("torch", reason="comparison with PyTorch's nn.Flatten")
    assert tuple(torch.nn.Flatten(start, end)(torch.zeros(shape)).shape) == want
