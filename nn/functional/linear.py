"""The affine map of a dense layer, batch-first: x @ W.T + b.

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.linear(ad.ones((2, 3)), ad.ones((4, 3)), ad.zeros(4)).shape
(2, 4)
"""

from __future__ import annotations

from typing import Any

import autodiff as ad
from autodiff import Tensor


def linear(x: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias; weight has shape (out_features, in_features) (the course's W)."""
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: the input has {x.shape[-1] if x.ndim else 0} features "
                         f"(shape {x.shape}) but the layer expects in_features="
                         f"{weight.shape[1]} (weight shape {weight.shape})")
    out = x @ weight.T
    return out if bias is None else out + bias
