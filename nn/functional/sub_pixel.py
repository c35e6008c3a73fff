"""Sub-pixel rearrangements (PyTorch's pixel_shuffle and pixel_unshuffle): a reshape, a
transpose and a reshape, composed from autodiff ops, so gradients of any order come with them.

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.pixel_shuffle(ad.ones((1, 8, 2, 3)), 2).shape
(1, 2, 4, 6)
"""

from __future__ import annotations

import operator
from typing import Any

import autodiff as ad
from autodiff import Tensor


def _factor(op: str, name: str, v: Any) -> int:
    """A positive int (a float or bool is refused, not truncated)."""
    try:
        if isinstance(v, bool):
            raise TypeError
        r = operator.index(v)
    except TypeError:
        raise ValueError(f"{op}: {name} must be a positive int, got {v!r}") from None
    if r <= 0:
        raise ValueError(f"{op}: {name} must be a positive int, got {v!r}")
    return r


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Rearrange (*, C r^2, H, W) into (*, C, H r, W r), r = upscale_factor, as
    torch.nn.functional.pixel_shuffle: out[..., c, h r + i, w r + j] = x[..., c r^2 + i r + j,
    h, w]. A reshape and a transpose (composed: gradients of any order come with it).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.pixel_shuffle(ad.arange(4.0).reshape(1, 4, 1, 1), 2)
    tensor([[[[0., 1.],
              [2., 3.]]]])
    """
    x = input if isinstance(input, Tensor) else ad.tensor(input)
    r = _factor("pixel_shuffle", "upscale_factor", upscale_factor)
    if x.ndim < 3:
        raise ValueError(f"pixel_shuffle: expected input of at least 3 dimensions "
                         f"(*, C, H, W), got {x.shape}")
    *b, c, h, w = x.shape
    if c % (r * r):
        raise ValueError(f"pixel_shuffle: the input's {c} channels (axis -3) are not divisible "
                         f"by upscale_factor^2 = {r * r}")
    nb = len(b)
    lead = list(range(nb))
    out = x.reshape(*b, c // (r * r), r, r, h, w)
    out = out.transpose(*lead, nb, nb + 3, nb + 1, nb + 4, nb + 2)
    return out.reshape(*b, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """Rearrange (*, C, H r, W r) into (*, C r^2, H, W), r = downscale_factor, as
    torch.nn.functional.pixel_unshuffle: the inverse of pixel_shuffle.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.pixel_unshuffle(ad.arange(4.0).reshape(1, 1, 2, 2), 2).reshape(-1)
    tensor([0., 1., 2., 3.])
    """
    x = input if isinstance(input, Tensor) else ad.tensor(input)
    r = _factor("pixel_unshuffle", "downscale_factor", downscale_factor)
    if x.ndim < 3:
        raise ValueError(f"pixel_unshuffle: expected input of at least 3 dimensions "
                         f"(*, C, H, W), got {x.shape}")
    *b, c, h, w = x.shape
    if h % r or w % r:
        raise ValueError(f"pixel_unshuffle: the input's height {h} and width {w} must both be "
                         f"divisible by downscale_factor = {r}")
    nb = len(b)
    lead = list(range(nb))
    out = x.reshape(*b, c, h // r, r, w // r, r)
    out = out.transpose(*lead, nb, nb + 2, nb + 4, nb + 1, nb + 3)
    return out.reshape(*b, c * r * r, h // r, w // r)
