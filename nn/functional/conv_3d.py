"""conv3d and conv_transpose3d (N, C, D, H, W), PyTorch's, on the 2-d convolution
primitives: the kd depth slices each output depth reads are laid side by side as channels, and
the output depths as samples, so one conv2d over (N Do, kd C, H, W) with the weight's depth
axis moved into its channels computes the whole 3-d convolution. The depth gather (one strided
copy) and every step around it are differentiable Tensor ops, so values, gradients and
derivatives of any order are the 2-d primitive's (and its fast paths), and the dtype is kept.
conv_transpose3d is the adjoint: the 2-d transposed convolution of every input depth with the
weight's depth taps as channels, each tap's result added at its depth (a strided placement,
also Tensor ops).

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.conv3d(ad.ones((1, 1, 4, 4, 4)), ad.ones((2, 1, 3, 3, 3)), padding=1).shape
(1, 2, 4, 4, 4)
"""

from __future__ import annotations

import operator
from typing import Any

import autodiff as ad
from autodiff import Tensor
from nn.functional.conv import Conv2d, ConvTranspose2d, _check_bias, _out_size
from nn.functional.promotion import promoted

Triple = tuple[int, int, int]
Pads3 = tuple[tuple[int, int], tuple[int, int], tuple[int, int]]  # (before, after) per axis


def triple(v: Any, name: str, op: str = "conv3d") -> Triple:
    """An int, or three ints (a float is refused, not truncated), for argument `name` of `op`.

    >>> triple(2, "stride"), triple((1, 2, 3), "padding", "max_pool3d")
    ((2, 2, 2), (1, 2, 3))
    """
    try:
        t: tuple[int, ...] = (operator.index(v),) * 3
    except TypeError:
        try:
            t = tuple(operator.index(i) for i in v)
        except TypeError:
            t = ()
    if len(t) != 3:
        raise ValueError(f"{op}: {name} must be an int or a tuple of three ints, got {v!r}")
    return t  # type: ignore[return-value]


def conv3d_padded(x: Tensor, weight: Tensor, bias: Tensor | None, stride: Triple, pads: Pads3,
                  dilation: Triple, groups: int) -> Tensor:
    """The 3-d convolution of checked, promoted arguments, with (before, after) zero pads per
    spatial axis (avg_pool3d's ceil_mode pads more after than before)."""
    n, c = x.shape[:2]
    o, cg, kd, kh, kw = weight.shape
    (sd, sh, sw), (dd, dh, dw) = stride, dilation
    (pf, pk), (pt, pb), (pl, pr) = pads
    if pf or pk:  # the depth pads here, the others in the 2-d primitive
        x = ad.pad(x, ((0, 0), (0, 0), (pf, pk), (0, 0), (0, 0)))
    do = _out_size(x.shape[2], kd, sd, dd, 0, 0)
    h, w = x.shape[3:]
    xt = x.transpose(0, 2, 1, 3, 4)  # (N, D, C, H, W), a view
    taps = [xt[:, i * dd:i * dd + sd * (do - 1) + 1:sd].reshape(n, do, groups, c // groups, h, w)
            for i in range(kd)]
    # (N, Do, G, kd, C/g, H, W): each group's channels ordered (depth offset, channel), as the
    # weight's (O, kd, C/g, kh, kw) below
    cols = ad.stack(taps, axis=3).reshape(n * do, kd * c, h, w)
    w2 = weight.transpose(0, 2, 1, 3, 4).reshape(o, kd * cg, kh, kw)
    y = Conv2d.apply(cols, w2, bias, params=((sh, sw), (pt, pb, pl, pr), (dh, dw), groups),
                     keep_cols=w2.requires_grad and ad.is_grad_enabled())
    return y.reshape(n, do, o, *y.shape[2:]).transpose(0, 2, 1, 3, 4)


def conv3d(x: Any, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """3-D cross-correlation (PyTorch's conv3d): x (N, C, D, H, W), weight
    (O, C/groups, kd, kh, kw), bias (O,); each output size
    floor((n + 2 padding - dilation (k - 1) - 1) / stride) + 1. padding is an int, a triple,
    "valid" (0) or "same" (output size = input size, stride 1; the odd extra pad goes after,
    as PyTorch). An unbatched x (C, D, H, W) gives (O, D', H', W'), as PyTorch's.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> x = ad.ones((1, 1, 2, 3, 3))
    >>> w = ad.ones((1, 1, 2, 2, 2), requires_grad=True)
    >>> F.conv3d(x, w)
    tensor([[[[[8., 8.],
               [8., 8.]]]]], grad_fn=<transpose>)
    >>> F.conv3d(x, w, padding='same').shape
    (1, 1, 2, 3, 3)
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    if x.ndim == 4:  # unbatched, as PyTorch's: a batch of one
        return conv3d(x[None], weight, bias, stride, padding, dilation, groups)[0]
    if x.ndim != 5:
        raise ValueError(f"conv3d: expected input of shape (N, C, D, H, W) or (C, D, H, W) "
                         f"unbatched, got {x.shape}")
    if weight.ndim != 5:
        raise ValueError(f"conv3d: expected weight of shape (out_channels, in_channels / "
                         f"groups, kd, kh, kw), got {weight.shape}")
    if not isinstance(groups, int) or groups <= 0 or x.shape[1] % groups:
        raise ValueError(f"conv3d: groups={groups} must divide the {x.shape[1]} input channels")
    o, cg, *k = weight.shape
    if x.shape[1] != cg * groups:
        raise ValueError(f"conv3d: the input has {x.shape[1]} channels but the weight expects "
                         f"{cg * groups} (weight shape {weight.shape}, groups={groups})")
    if o % groups:
        raise ValueError(f"conv3d: groups={groups} must divide the {o} output channels")
    _check_bias("conv3d", bias, o, x, weight)
    s, d = triple(stride, "stride"), triple(dilation, "dilation")
    if min(s) <= 0 or min(d) <= 0:
        raise ValueError(f"conv3d: stride and dilation must be positive, got {s} and {d}")
    pads = _pads(padding, s, d, k)
    padded = tuple(n + a + b for n, (a, b) in zip(x.shape[2:], pads))
    if any(n < di * (ki - 1) + 1 for n, di, ki in zip(padded, d, k)):
        raise ValueError(f"conv3d: kernel {tuple(k)} (dilation {d}) is larger than the padded "
                         f"input {padded}")
    x, weight, bias = promoted(x, weight, bias)
    return conv3d_padded(x, weight, bias, s, pads, d, groups)


def _pads(padding: Any, s: Triple, d: Triple, k: list[int]) -> Pads3:
    """conv3d's (before, after) pads per axis from its `padding` argument."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * 3
        if padding == "same":
            if s != (1, 1, 1):
                raise ValueError(f"conv3d: padding='same' needs stride 1, got stride {s}")
            totals = [di * (ki - 1) for di, ki in zip(d, k)]
            return tuple((t // 2, t - t // 2) for t in totals)  # type: ignore[return-value]
        raise ValueError(f"conv3d: padding must be an int, a triple, 'same' or 'valid', got "
                         f"{padding!r}")
    p = triple(padding, "padding")
    if min(p) < 0:
        raise ValueError(f"conv3d: padding must be >= 0, got {padding}")
    return tuple((pi, pi) for pi in p)  # type: ignore[return-value]


def conv_transpose3d(x: Any, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """The transposed 3-D convolution (PyTorch's conv_transpose3d): x (N, C_in, D, H, W),
    weight (C_in, C_out / groups, kd, kh, kw), bias (C_out,); each output size
    (n - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1, output_padding smaller
    than the stride or the dilation (PyTorch's rule). It is the adjoint of conv3d in its
    input. An unbatched x (C_in, D, H, W) gives (C_out, D', H', W'), as PyTorch's.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.conv_transpose3d(ad.ones((1, 1, 2, 2, 2)), ad.ones((1, 1, 2, 2, 2)), stride=2).shape
    (1, 1, 4, 4, 4)
    >>> F.conv_transpose3d(ad.ones((1, 1, 1, 1, 2)), ad.ones((1, 1, 1, 1, 3)), stride=2)
    tensor([[[[[1., 1., 2., 1., 1.]]]]])
    """
    who = "conv_transpose3d"
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    if x.ndim == 4:  # unbatched, as PyTorch's: a batch of one
        return conv_transpose3d(x[None], weight, bias, stride, padding, output_padding, groups,
                                dilation)[0]
    if x.ndim != 5 or weight.ndim != 5:
        raise ValueError(f"{who}: expected input (N, C_in, D, H, W) or (C_in, D, H, W) and "
                         f"weight (C_in, C_out / groups, kd, kh, kw), got {x.shape} and "
                         f"{weight.shape}")
    cin, cog, *k = weight.shape
    if not isinstance(groups, int) or groups <= 0 or cin % groups:
        raise ValueError(f"{who}: groups={groups} must divide the {cin} input channels")
    if x.shape[1] != cin:
        raise ValueError(f"{who}: the input has {x.shape[1]} channels but the weight expects "
                         f"{cin} (weight shape {weight.shape})")
    s, d = triple(stride, "stride", who), triple(dilation, "dilation", who)
    p, op = triple(padding, "padding", who), triple(output_padding, "output_padding", who)
    if min(s) <= 0 or min(d) <= 0:
        raise ValueError(f"{who}: stride and dilation must be positive, got {s} and {d}")
    if min(p) < 0 or min(op) < 0:
        raise ValueError(f"{who}: padding {p} and output_padding {op} must be >= 0")
    if any(o >= max(si, di) for o, si, di in zip(op, s, d)):
        raise ValueError(f"{who}: output_padding {op} must be smaller than stride {s} or "
                         f"dilation {d}")
    size = tuple((n - 1) * si - 2 * pi + di * (ki - 1) + oi + 1
                 for n, si, pi, di, ki, oi in zip(x.shape[2:], s, p, d, k, op))
    if min(size) <= 0:
        raise ValueError(f"{who}: the output size {size} is not positive (input {x.shape}, "
                         f"weight {weight.shape}, stride {s}, padding {p}, output_padding "
                         f"{op}, dilation {d})")
    _check_bias(who, bias, cog * groups, x, weight)
    x, weight, bias = promoted(x, weight, bias)
    y = _transpose_taps(x, weight, s, p, op, d, groups, size)
    return y if bias is None else y + bias.reshape(1, -1, 1, 1, 1)


def _transpose_taps(x: Tensor, weight: Tensor, s: Triple, p: Triple, op: Triple, d: Triple,
                    groups: int, size: tuple[int, ...]) -> Tensor:
    """conv_transpose3d of checked, promoted arguments, without the bias: per input depth the
    2-d transposed convolution into (kd, C_out) channels, then tap i of input depth j added
    at output depth j s + i d - p (the depth taps past the output cropped, output_padding's
    cells left zero)."""
    n, cin, depth, h, w = x.shape
    _, cog, kd, kh, kw = weight.shape
    cout = cog * groups
    w2 = weight.transpose(0, 2, 1, 3, 4).reshape(cin, kd * cog, kh, kw)
    xf = x.transpose(0, 2, 1, 3, 4).reshape(n * depth, cin, h, w)
    pads2 = (p[1], p[1] - op[1], p[2], p[2] - op[2])
    cols = ConvTranspose2d.apply(xf, w2, None, x_shape=(n * depth, kd * cout, *size[1:]),
                                 params=(s[1:], pads2, d[1:], groups))
    cols = cols.reshape(n, depth, groups, kd, cog, *size[1:])
    length = (depth - 1) * s[0] + d[0] * (kd - 1) + 1  # the depths the taps reach
    out = None
    for i in range(kd):
        tap = cols[:, :, :, i].reshape(n, depth, 1, cout, *size[1:])
        if s[0] > 1:  # spread the input depths s apart: zeros between them
            tap = ad.pad(tap, ((0, 0), (0, 0), (0, s[0] - 1), (0, 0), (0, 0), (0, 0)))
        tap = tap.reshape(n, depth * s[0], cout, *size[1:])[:, :(depth - 1) * s[0] + 1]
        start = i * d[0]
        tap = ad.pad(tap, ((0, 0), (start, length - start - tap.shape[1]), (0, 0), (0, 0),
                           (0, 0)))
        out = tap if out is None else out + tap
    out = out[:, p[0]:p[0] + size[0]]  # crop the padding; output_padding may need zeros
    if out.shape[1] < size[0]:
        out = ad.pad(out, ((0, 0), (0, size[0] - out.shape[1]), (0, 0), (0, 0), (0, 0)))
    return out.transpose(0, 2, 1, 3, 4)
