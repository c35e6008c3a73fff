"""Regression losses on the difference d = input - target, elementwise, as PyTorch's: l1_loss
|d|, smooth_l1_loss (quadratic below beta, linear above, slope 1), huber_loss (quadratic
below delta, linear above, slope delta). Input and target must have the same shape (PyTorch
broadcasts and warns); both get gradients.

>>> import autodiff as ad
>>> import nn.functional as F
>>> x, y = ad.tensor([0.0, 0.5, 3.0]), ad.tensor([0.0, 0.0, 0.0])
>>> F.l1_loss(x, y, reduction="none"), F.smooth_l1_loss(x, y, reduction="none")
(tensor([0. , 0.5, 3. ]), tensor([0.   , 0.125, 2.5  ]))
"""

from __future__ import annotations

from typing import Any

import autodiff as ad
from autodiff import Tensor
from nn.functional.loss import as_tensor, reduce_loss, same_shape


def _difference(op: str, input: Any, target: Any) -> Tensor:
    """input - target, of the same shapes."""
    x, y = as_tensor(input), as_tensor(target)
    same_shape(op, x, y)
    return x - y


def _distance(op: str, input: Any, target: Any) -> Tensor:
    """|input - target|, its gradient at 0 being 0 (sign(0), as PyTorch's)."""
    return ad.abs(_difference(op, input, target))


def l1_loss(input: Any, target: Any, *, reduction: str = "mean") -> Tensor:
    """|input - target|, reduced ("mean", "sum" or "none").

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.l1_loss(ad.tensor([1.0, 2.0]), ad.tensor([2.0, 5.0]))
    tensor(2.)
    """
    z = _distance("l1_loss", input, target)
    return reduce_loss(z, reduction, "l1_loss")


def smooth_l1_loss(input: Any, target: Any, *, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """With z = |input - target|: 0.5 z^2 / beta where z < beta, z - 0.5 beta elsewhere (the
    l1 loss when beta = 0). Its gradient is d / beta inside, sign(d) outside: continuous.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.smooth_l1_loss(ad.tensor([0.5, 3.0]), ad.tensor([0.0, 0.0]), reduction="none",
    ...                  beta=2.0)
    tensor([0.0625, 2.    ])
    """
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    d = _difference("smooth_l1_loss", input, target)
    z = ad.abs(d)
    if beta == 0:
        return reduce_loss(z, reduction, "smooth_l1_loss")
    # the square of d, not of |d|: |d|'s gradient is 0 at d = 0, which would zero the second
    # derivative 1 / beta there (a tie, input == target)
    loss = ad.where(z.data < beta, d * 0.5 * d / beta, z - 0.5 * beta)  # PyTorch's order
    return reduce_loss(loss, reduction, "smooth_l1_loss")


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0
               ) -> Tensor:
    """With z = |input - target|: 0.5 z^2 where z < delta, delta (z - 0.5 delta) elsewhere:
    smooth_l1_loss with beta = delta, times delta. `reduction` and `delta` are positional
    as in PyTorch's signature.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.huber_loss(ad.tensor([0.5, 3.0]), ad.tensor([0.0, 0.0]), "none", 2.0)
    tensor([0.125, 4.   ])
    """
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    d = _difference("huber_loss", input, target)
    z = ad.abs(d)
    loss = ad.where(z.data < delta, d * 0.5 * d, (z - 0.5 * delta) * delta)  # d^2, as above
    return reduce_loss(loss, reduction, "huber_loss")
