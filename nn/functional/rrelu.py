"""rrelu: the randomized leaky ReLU (Xu et al., 2015), as PyTorch's `F.rrelu`.

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.rrelu(ad.tensor([-8.0, 2.0]), lower=0.25, upper=0.75)  # evaluation: slope 0.5
tensor([-4.,  2.])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor
from nn.functional.activation import in_place, leaky_relu


def rrelu(input: Any, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """x where x > 0, a * x elsewhere. In training each element gets its own slope a, drawn
    uniformly from [lower, upper) with autodiff's seeded generator (`ad.manual_seed`), and the
    gradient is that slope; in evaluation (PyTorch's default here, training=False) a is
    (lower + upper) / 2 for all. At x = 0 the gradient is a, as PyTorch's. `inplace=True`
    writes into x (see `activation.in_place`).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> ad.manual_seed(0)
    >>> y = F.rrelu(ad.tensor([-1.0, -1.0, 3.0]), 0.1, 0.3, training=True)
    >>> bool(((-0.3 < y[:2]) & (y[:2] <= -0.1)).all()), y[2].item()
    (True, 3.0)
    """
    return _rrelu("rrelu", input, lower, upper, training, inplace)


def rrelu_(input: Any, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False
           ) -> Tensor:
    """`rrelu(x, lower, upper, training, inplace=True)`: writes into x and returns it.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> x = ad.tensor([-4.0, 1.0])
    >>> F.rrelu_(x, 0.25, 0.25) is x, x.tolist()
    (True, [-1.0, 1.0])
    """
    return _rrelu("rrelu_", input, lower, upper, training, True)


def _rrelu(name: str, input: Any, lower: float, upper: float, training: bool, inplace: bool
           ) -> Tensor:
    check_bounds(name, lower, upper)
    x = input if isinstance(input, Tensor) else ad.tensor(input)
    if not training:
        fn, options = leaky_relu, {"negative_slope": (lower + upper) / 2}
    else:
        slopes = ad.generator().uniform(lower, upper, x.shape).astype(x.dtype, copy=False)
        fn, options = _times, {"noise": np.where(x.data > 0, np.ones((), x.dtype), slopes)}
    return in_place(name, x, fn, **options) if inplace else fn(x, **options)


def _times(x: Tensor, noise: np.ndarray) -> Tensor:
    return x * noise


def check_bounds(name: str, lower: float, upper: float) -> None:
    """Both bounds finite numbers and lower <= upper (PyTorch's checks), else a ValueError.

    >>> check_bounds("rrelu", 0.1, 0.3)
    """
    for arg, value in (("lower", lower), ("upper", upper)):
        if not isinstance(value, (int, float, np.floating, np.integer)) or not math.isfinite(
                value):
            raise ValueError(f"{name}: {arg} must be a finite number, got {value!r}")
    if lower > upper:
        raise ValueError(f"{name}: lower must not be greater than upper, got lower={lower} and "
                         f"upper={upper}")
