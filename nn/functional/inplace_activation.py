"""PyTorch's in-place activations `relu_`, `leaky_relu_`, `elu_`, `celu_`, `selu_`,
`hardtanh_`: each is its function with `inplace=True` (`activation.in_place`), writing into
x's memory and returning x.

>>> import autodiff as ad
>>> import nn.functional as F
>>> x = ad.tensor([-1.0, 2.0])
>>> F.relu_(x) is x, x.tolist()
(True, [0.0, 2.0])
"""

from __future__ import annotations

from typing import Any

from autodiff import Tensor
from nn.functional import activation as A


def relu_(input: Any) -> Tensor:
    """x <- max(x, 0) in place (`relu(x, inplace=True)`).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.relu_(ad.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    return A.in_place("relu_", input, A.relu)


def leaky_relu_(input: Any, negative_slope: float = 0.01) -> Tensor:
    """x <- leaky_relu(x, negative_slope) in place.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.leaky_relu_(ad.tensor([-2.0, 3.0]), 0.5)
    tensor([-1.,  3.])
    """
    return A.in_place("leaky_relu_", input, A.leaky_relu, negative_slope=negative_slope)


def elu_(input: Any, alpha: float = 1.0) -> Tensor:
    """x <- elu(x, alpha) in place.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.elu_(ad.tensor([0.0, 2.0]))
    tensor([0., 2.])
    """
    return A.in_place("elu_", input, A.elu, alpha=alpha)


def celu_(input: Any, alpha: float = 1.0) -> Tensor:
    """x <- celu(x, alpha) in place.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.celu_(ad.tensor([0.0, 2.0]))
    tensor([0., 2.])
    """
    return A.in_place("celu_", input, A.celu, alpha=alpha)


def selu_(input: Any) -> Tensor:
    """x <- selu(x) in place.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.selu_(ad.tensor([0.0]))
    tensor([0.])
    """
    return A.in_place("selu_", input, A.selu)


def hardtanh_(input: Any, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x <- hardtanh(x, min_val, max_val) in place.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.hardtanh_(ad.tensor([-3.0, 0.5, 3.0]))
    tensor([-1. ,  0.5,  1. ])
    """
    if min_val > max_val:  # refused before anything is written
        raise ValueError(f"hardtanh_: min_val must not be greater than max_val, got min_val="
                         f"{min_val} and max_val={max_val}")
    return A.in_place("hardtanh_", input, A.hardtanh, min_val=min_val, max_val=max_val)
