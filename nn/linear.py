"""Dense layers: Linear, Identity, Flatten.

>>> import autodiff as ad, nn
>>> layer = nn.Linear(3, 2)
>>> layer.weight.shape, layer(ad.ones((5, 3))).shape
((2, 3), (5, 2))
"""

from __future__ import annotations

import math
from typing import Any

import autodiff as ad
from autodiff import Tensor
from nn import init
from nn.functional.linear import linear
from nn.module import Module, Parameter


class Linear(Module):
    """y = x @ W.T + b with W of shape (out_features, in_features): rows are this layer's
    units, columns the previous layer's (the course's W). PyTorch's default initialization:
    W ~ kaiming_uniform(a=sqrt(5)), b ~ U(-1/sqrt(in), 1/sqrt(in)).

    >>> import autodiff as ad, nn
    >>> layer = nn.Linear(3, 2)
    >>> layer.weight.shape, layer.bias.shape
    ((2, 3), (2,))
    >>> layer(ad.ones((5, 3))).shape
    (5, 2)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype: Any = None) -> None:
        super().__init__()
        if in_features <= 0 or out_features <= 0:
            raise ValueError(f"Linear: features must be positive, got in_features="
                             f"{in_features}, out_features={out_features}")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(ad.zeros(out_features, in_features, dtype=dtype))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if bias:
            bound = 1 / math.sqrt(in_features)
            self.bias = Parameter(ad.zeros(out_features, dtype=dtype))
            init.uniform_(self.bias, -bound, bound)
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """Returns its input.

    >>> import autodiff as ad, nn
    >>> x = ad.ones(3)
    >>> nn.Identity()(x) is x
    True
    """

    def forward(self, x: Tensor) -> Tensor:
        return x


class Flatten(Module):
    """Flatten axes start_axis..end_axis into one (by default all but the batch axis).

    >>> import autodiff as ad, nn
    >>> nn.Flatten()(ad.ones((2, 3, 4))).shape
    (2, 12)
    """

    def __init__(self, start_axis: int = 1, end_axis: int = -1) -> None:
        super().__init__()
        self.start_axis, self.end_axis = start_axis, end_axis

    def forward(self, x: Tensor) -> Tensor:
        start = ad.normalize_axis("flatten", self.start_axis, x.ndim)
        end = ad.normalize_axis("flatten", self.end_axis, x.ndim)
        if start > end:
            raise ValueError(f"flatten: start_axis {self.start_axis} comes after end_axis "
                             f"{self.end_axis} for a tensor of shape {x.shape}")
        return x.reshape((*x.shape[:start], -1, *x.shape[end + 1:]))

    def extra_repr(self) -> str:
        return f"start_axis={self.start_axis}, end_axis={self.end_axis}"
