"""conv1d and conv_transpose1d (N, C, L), PyTorch's, as conv2d and conv_transpose2d over a unit
height axis (as PyTorch computes them): the same primitives, so values, gradients and
derivatives of any order are the 2-d ones', and the dtype is kept.

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.conv1d(ad.ones((1, 1, 5)), ad.ones((2, 1, 3)), padding=1).shape
(1, 2, 5)
"""

from __future__ import annotations

from typing import Any

import autodiff as ad
from autodiff import Tensor
from nn.functional.conv import conv2d, conv_transpose2d
from nn.functional.pooling1d import single


def conv1d(x: Any, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation: x (N, C, L), weight (O, C/groups, k), bias (O,); output length
    floor((L + 2 padding - dilation (k - 1) - 1) / stride) + 1. padding is an int, 'valid'
    or 'same' (stride 1; the odd extra pad goes to the right, as PyTorch). An unbatched x
    (C, L) gives (O, L'), as PyTorch's.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.conv1d(ad.tensor([[[1.0, 2.0, 3.0, 4.0]]]), ad.tensor([[[1.0, -1.0]]]))
    tensor([[[-1., -1., -1.]]])
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    if x.ndim == 2:  # unbatched (C, L), as PyTorch's: a batch of one
        return conv1d(x[None], weight, bias, stride, padding, dilation, groups)[0]
    if x.ndim != 3:
        raise ValueError(f"conv1d: expected input of shape (N, C, L) or (C, L) unbatched, got "
                         f"{x.shape}")
    if weight.ndim != 3:
        raise ValueError(f"conv1d: expected weight of shape (out_channels, in_channels / "
                         f"groups, kernel_size), got {weight.shape}")
    if groups <= 0 or x.shape[1] % groups:
        raise ValueError(f"conv1d: groups={groups} must divide the {x.shape[1]} input channels")
    o, cg, k = weight.shape
    if x.shape[1] != cg * groups:
        raise ValueError(f"conv1d: the input has {x.shape[1]} channels but the weight expects "
                         f"{cg * groups} (weight shape {weight.shape}, groups={groups})")
    if o % groups:
        raise ValueError(f"conv1d: groups={groups} must divide the {o} output channels")
    s, d = single("conv1d", "stride", stride), single("conv1d", "dilation", dilation)
    if s <= 0 or d <= 0:
        raise ValueError(f"conv1d: stride and dilation must be positive, got {s} and {d}")
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"conv1d: padding must be an int, 'same' or 'valid', got "
                             f"{padding!r}")
        if padding == "same" and s != 1:
            raise ValueError("conv1d: padding='same' needs stride 1")
        pad: Any = padding
        total = 0 if padding == "valid" else d * (k - 1)
    else:
        p = single("conv1d", "padding", padding)
        if p < 0:
            raise ValueError(f"conv1d: padding must be >= 0, got {padding}")
        pad, total = (0, p), 2 * p
    if x.shape[2] + total < d * (k - 1) + 1:
        raise ValueError(f"conv1d: kernel {k} (dilation {d}) is larger than the padded input "
                         f"{x.shape[2] + total}")
    n, c, length = x.shape
    y = conv2d(x.reshape(n, c, 1, length), weight.reshape(o, cg, 1, k), None, (1, s), pad,
               (1, d), groups)
    y = y.reshape(n, o, y.shape[3])
    return y if bias is None else y + bias.reshape(1, -1, 1)


def conv_transpose1d(x: Any, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """The transposed 1-D convolution (PyTorch's conv_transpose1d): x (N, C_in, L) (or
    (C_in, L) unbatched), weight (C_in, C_out / groups, k), bias (C_out,); output length
    (L - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1. It is
    conv_transpose2d over a unit height axis; its errors name that call's 4-d shapes.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.conv_transpose1d(ad.tensor([[[1.0, 2.0]]]), ad.tensor([[[1.0, 1.0, 1.0]]]), stride=2)
    tensor([[[1., 1., 3., 2., 2.]]])
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    if x.ndim == 2:  # unbatched (C, L), as PyTorch's: a batch of one
        return conv_transpose1d(x[None], weight, bias, stride, padding, output_padding, groups,
                                dilation)[0]
    if x.ndim != 3 or weight.ndim != 3:
        raise ValueError(f"conv_transpose1d: expected input (N, C_in, L) or (C_in, L) and "
                         f"weight (C_in, C_out / groups, k), got {x.shape} and {weight.shape}")
    who = "conv_transpose1d"
    s, p = single(who, "stride", stride), single(who, "padding", padding)
    op, d = single(who, "output_padding", output_padding), single(who, "dilation", dilation)
    n, c, length = x.shape
    cin, cog, k = weight.shape
    try:
        y = conv_transpose2d(x.reshape(n, c, 1, length), weight.reshape(cin, cog, 1, k), bias,
                             (1, s), (0, p), (0, op), groups, (1, d))
    except ValueError as e:
        raise ValueError(f"{who}: {e}") from None
    return y.reshape(n, y.shape[1], y.shape[3])
