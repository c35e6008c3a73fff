"""Dense layers: Linear, Identity, Flatten, Unflatten.

>>> import autodiff as ad, nn
>>> layer = nn.Linear(3, 2)
>>> layer.weight.shape, layer(ad.ones((5, 3))).shape
((2, 3), (5, 2))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

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
    """Returns its input; takes (and ignores) any arguments, as PyTorch's, so that it can
    stand in for a layer built with arguments.

    >>> import autodiff as ad, nn
    >>> x = ad.ones(3)
    >>> nn.Identity()(x) is x, nn.Identity(54, unused=0.1)(x) is x
    (True, True)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return x


class Flatten(Module):
    """Flatten axes `start_dim`..`end_dim` (inclusive) into one: by default all but the batch
    axis, as PyTorch's `nn.Flatten`. (`start_axis=` and `end_axis=`, this library's names
    before 0.2, are accepted too.)

    >>> import autodiff as ad, nn
    >>> nn.Flatten()(ad.ones((2, 3, 4))).shape
    (2, 12)
    >>> nn.Flatten(0, 1)(ad.ones((2, 3, 4))).shape
    (6, 4)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1, *, start_axis: int | None = None,
                 end_axis: int | None = None) -> None:
        super().__init__()
        self.start_dim = _renamed("start_dim", start_dim, 1, "start_axis", start_axis)
        self.end_dim = _renamed("end_dim", end_dim, -1, "end_axis", end_axis)

    def forward(self, x: Tensor) -> Tensor:
        start = ad.normalize_axis("flatten", self.start_dim, x.ndim)
        end = ad.normalize_axis("flatten", self.end_dim, x.ndim)
        if start > end:
            raise ValueError(f"flatten: start_dim {self.start_dim} comes after end_dim "
                             f"{self.end_dim} for a tensor of shape {x.shape}")
        merged = math.prod(x.shape[start:end + 1])  # not -1: an empty batch has no -1
        return x.reshape((*x.shape[:start], merged, *x.shape[end + 1:]))

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


def _renamed(name: str, value: int, default: int, old: str, old_value: int | None) -> int:
    if old_value is None:
        return value
    if value != default:
        raise TypeError(f"Flatten: got both {name}={value} and {old}={old_value}; "
                        f"{old} is the old name of {name}")
    return old_value


class Unflatten(Module):
    """Split axis `dim` into the axes `unflattened_size` (one of them may be -1), the inverse
    of `Flatten`, as PyTorch's `nn.Unflatten`.

    >>> import autodiff as ad, nn
    >>> nn.Unflatten(1, (2, 5))(ad.ones((3, 10))).shape
    (3, 2, 5)
    >>> nn.Unflatten(-1, (-1, 2))(ad.ones((3, 10))).shape
    (3, 5, 2)
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, int | np.integer):
            raise TypeError(f"Unflatten: dim must be an integer axis, got {dim!r} (named "
                            "tensors do not exist here)")
        if not isinstance(unflattened_size, Sequence) or not all(
                isinstance(n, int | np.integer) and not isinstance(n, bool)
                for n in unflattened_size):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple or list of integers, "
                            f"got {unflattened_size!r}")
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, x: Tensor) -> Tensor:
        axis = ad.normalize_axis("unflatten", self.dim, x.ndim)
        sizes = tuple(int(n) for n in self.unflattened_size)
        known = math.prod(n for n in sizes if n != -1)
        n = x.shape[axis]
        if sizes.count(-1) > 1 or any(s < -1 for s in sizes) or (
                n != known if -1 not in sizes else known == 0 or n % known):
            raise ValueError(f"unflatten: sizes {sizes} do not split axis {self.dim} of size "
                             f"{n} (shape {x.shape}): their product must be {n}, with at most "
                             "one -1")
        return x.reshape((*x.shape[:axis], *sizes, *x.shape[axis + 1:]))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
