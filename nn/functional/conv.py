"""Convolutions as autodiff primitives: conv2d and conv_transpose2d (NCHW, PyTorch's
semantics), built on strided window views and one (batched over groups) matrix product.

Three primitives close under differentiation, so gradients of gradients work:

    conv(x, W)            d/dx: conv_transpose(g, W)     d/dW: conv_weight(x, g)
    conv_transpose(y, W)  d/dy: conv(g, W)               d/dW: conv_weight(g, y)
    conv_weight(x, g)     d/dx: conv_transpose(g, gW)    d/dg: conv(x, gW)

conv and conv_transpose take the bias too (None when absent), added in place into their fresh
output; its gradient is the output gradient summed over (N, H, W) (`ChannelSums`).

Patches are laid out as columns, (groups, C/g * kh * kw, N * Ho * Wo), with the weight
(groups, O/g, C/g * kh * kw) on the left (faster here than patches as rows). col2im (the
transposed convolution) adds the kh * kw kernel offsets in a loop over offsets, each one
contiguous add into its phase of the stride (never over pixels, channels or the batch;
np.add.at is far slower). Stride-1, groups-1 convolutions with enough channels and pixels
take the shifted path instead (`_shifted`): no patch matrix,
one product per kernel offset on a shifted slice of the flattened padded input; those whose
output has few pixels per sample take the channels-last path (`_channels_last`): one product
for the whole batch on patches gathered from the input laid out (N, Hp, Wp, C). What each
choice measured: docs/performance.md.

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.conv2d(ad.ones((1, 1, 4, 4)), ad.ones((2, 1, 3, 3)), padding=1).shape
(1, 2, 4, 4)
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

import autodiff as ad
from autodiff import Tensor
from autodiff.buffers import scratch
from nn.functional.channel_sums import channel_sums
from nn.functional.promotion import promoted

# top, bottom, left, right; bottom and right may be negative (they crop): conv_transpose2d's
# output_padding makes them so, see conv_transpose2d.
Pads = tuple[int, int, int, int]
Params = tuple[tuple[int, int], Pads, tuple[int, int], int]  # stride, pads, dilation, groups


def _pair(v: Any, name: str, op: str = "conv2d") -> tuple[int, int]:
    """An int, or a pair of ints (a float is refused, not truncated), for argument `name` of
    `op`.

    >>> _pair(3, "stride"), _pair((1, 2), "padding", "max_pool2d")
    ((3, 3), (1, 2))
    """
    try:
        t: tuple[int, ...] = (operator.index(v),) * 2
    except TypeError:
        try:
            t = tuple(operator.index(i) for i in v)
        except TypeError:
            t = ()
    if len(t) != 2:
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {v!r}")
    return t  # type: ignore[return-value]


def _out_size(n: int, k: int, s: int, d: int, pa: int, pb: int) -> int:
    return (n + pa + pb - d * (k - 1) - 1) // s + 1


def _windows(xp: np.ndarray, kh: int, kw: int, params: Params, ho: int, wo: int) -> np.ndarray:
    """A read-only view (N, C, Ho, Wo, kh, kw) of the padded input's receptive fields."""
    (sh, sw), _, (dh, dw), _ = params
    n, c = xp.shape[:2]
    s0, s1, s2, s3 = xp.strides
    return as_strided(xp, (n, c, ho, wo, kh, kw), (s0, s1, s2 * sh, s3 * sw, s2 * dh, s3 * dw),
                      writeable=False)


def _pad(x: np.ndarray, pads: Pads, value: float = 0.0) -> np.ndarray:
    """x padded by `pads`; a negative bottom or right pad crops that many rows or columns."""
    pt, pb, pl, pr = pads
    if pb < 0 or pr < 0:
        x = x[:, :, :x.shape[2] + min(pb, 0), :x.shape[3] + min(pr, 0)]  # a view
        pb, pr = max(pb, 0), max(pr, 0)
    if not (pt or pb or pl or pr):
        return x
    n, c, h, w = x.shape
    out = scratch((n, c, h + pt + pb, w + pl + pr), x.dtype)  # np.pad's result, pooled
    out.fill(value)  # the whole buffer: faster than the four borders' strided writes
    out[:, :, pt:pt + h, pl:pl + w] = x
    return out


def _columns(x: np.ndarray, w_shape: tuple[int, ...], params: Params) -> tuple[np.ndarray, int,
                                                                                int]:
    """Patches as columns, one matrix per sample and group: (N, G, C/g * kh * kw, Ho * Wo)."""
    _, pads, (dh, dw), g = params
    n, c, h, w = x.shape
    kh, kw = w_shape[2:]
    (sh, sw) = params[0]
    ho = _out_size(h, kh, sh, dh, pads[0], pads[1])
    wo = _out_size(w, kw, sw, dw, pads[2], pads[3])
    win = _windows(_pad(x, pads), kh, kw, params, ho, wo)  # (N, C, Ho, Wo, kh, kw)
    win = win.transpose(0, 1, 4, 5, 2, 3)  # (N, C, kh, kw, Ho, Wo)
    if not win.flags.c_contiguous:  # the copy (a 1x1 kernel with stride 1 needs none)
        cols = scratch(win.shape, win.dtype)
        np.copyto(cols, win)
        win = cols
    return win.reshape(n, g, (c // g) * kh * kw, ho * wo), ho, wo


# The shifted path: for stride 1 and groups 1, kernel offset (i, j) of every output cell
# reads the padded input at the cell's own flat position, shifted by i dh Wp + j dw. With the
# output laid out at the padded width Wp (columns Wo..Wp-1 of each row are garbage, never
# read back), each offset is one product (O, C) @ (C, L) per sample on a plain slice of the
# padded input: no patch matrix. Where it pays (the channel floor) is measured, see
# docs/performance.md.
SHIFT_MIN_CHANNELS = 16  # input and output channels both at least this
SHIFT_MIN_PIXELS = 256  # the padded input's Hp Wp at least this (ResNet-8's 7x7 stays im2col)
SHIFT_BLOCK_BYTES = 3 << 17  # samples per block: their partial product about this size


def _shifted(x_shape: tuple[int, ...], w_shape: tuple[int, ...], params: Params) -> bool:
    """Whether _conv and _conv_weight take the shifted path for an input of x_shape."""
    (sh, sw), pads, _, g = params
    o, c, kh, kw = w_shape
    hp, wp = x_shape[2] + pads[0] + pads[1], x_shape[3] + pads[2] + pads[3]
    return ((sh, sw) == (1, 1) and g == 1 and kh * kw > 1 and min(c, o) >= SHIFT_MIN_CHANNELS
            and hp * wp >= SHIFT_MIN_PIXELS)


def _flat_padded(x: np.ndarray, w_shape: tuple[int, ...],
                 params: Params) -> tuple[np.ndarray, int, int, int]:
    """The padded input flattened per channel, (N, C, Hp Wp); with Wp, Ho, Wo (stride 1)."""
    _, pads, (dh, dw), _ = params
    xp = np.ascontiguousarray(_pad(x, pads))
    n, c, hp, wp = xp.shape
    return xp.reshape(n, c, hp * wp), wp, hp - dh * (w_shape[2] - 1), wp - dw * (w_shape[3] - 1)


def _offsets(w_shape: tuple[int, ...], params: Params, wp: int) -> list[tuple[int, int, int]]:
    """(i, j, flat shift) of every kernel offset."""
    dh, dw = params[2]
    return [(i, j, i * dh * wp + j * dw) for i in range(w_shape[2]) for j in range(w_shape[3])]


def _conv_shifted(x: np.ndarray, w: np.ndarray, params: Params) -> np.ndarray:
    """y = conv(x, W) on the shifted path: per kernel offset, out += W[:, :, i, j] @ the
    padded input's slice starting at the offset's shift (batched over the samples). The
    samples go in blocks whose partial product fits in cache, where the adds are cheap."""
    n = x.shape[0]
    o = w.shape[0]
    xp, wp, ho, wo = _flat_padded(x, w.shape, params)
    length = (ho - 1) * wp + wo  # the last row needs only its Wo valid cells: no overrun
    dtype = np.result_type(x, w)
    out = np.empty((n, o, ho, wo), dtype)
    block = max(1, SHIFT_BLOCK_BYTES // (o * length * dtype.itemsize))
    offsets = _offsets(w.shape, params, wp)
    acc = scratch((min(block, n), o, length), dtype)  # a block's sum, and each offset's term
    tmp = scratch(acc.shape, dtype)
    for s in range(0, n, block):
        e = min(s + block, n)
        a, t = acc[:e - s], tmp[:e - s]
        for k, (i, j, off) in enumerate(offsets):
            np.matmul(w[:, :, i, j], xp[s:e, :, off:off + length], out=a if k == 0 else t)
            if k:
                a += t
        st = a.strides
        out[s:e] = as_strided(a, (e - s, o, ho, wo), (st[0], st[1], wp * st[2], st[2]),
                              writeable=False)
    return out


def _conv_weight_shifted(x: np.ndarray, gy: np.ndarray, w_shape: tuple[int, ...],
                         params: Params) -> np.ndarray:
    """dL/dW on the shifted path: dW[:, :, i, j] = sum over samples of gy (laid out at the
    padded width, zeros in the garbage columns) @ the shifted slice of the padded input."""
    n, o, ho, wo = gy.shape
    xp, wp, _, _ = _flat_padded(x, w_shape, params)
    dtype = np.result_type(x, gy)
    length = (ho - 1) * wp + wo
    gw = scratch((n, o, ho, wp), dtype)
    gw[..., wo:] = 0
    gw[..., :wo] = gy
    gm = gw.reshape(n, o, ho * wp)[:, :, :length]
    out = np.empty(w_shape, dtype)
    tmp = scratch((n, o, xp.shape[1]), dtype)
    for i, j, off in _offsets(w_shape, params, wp):
        np.matmul(gm, xp[:, :, off:off + length].transpose(0, 2, 1), out=tmp)
        np.add.reduce(tmp, axis=0, out=out[:, :, i, j])
    return out


# The channels-last path: where each sample's output has few pixels (ResNet-8's 7x7 layers),
# one product per sample, (O, K) @ (K, Ho Wo), is too narrow for BLAS. The whole batch then
# goes through one (N Ho Wo, K) @ (K, O) product on patches gathered from the padded input
# laid out (N, Hp, Wp, C): each patch row is kh runs of kw C contiguous values, a cheap copy.
# Where it pays is measured, see docs/performance.md.
CL_MIN_OUT_CHANNELS = 32  # the product's O columns: narrower ones run slowly in OpenBLAS
CL_MAX_PIXELS = 196  # the output's Ho Wo per sample at most this (14x14)


def _channels_last(x_shape: tuple[int, ...], w_shape: tuple[int, ...], params: Params) -> bool:
    """Whether _conv takes the channels-last path for an input of x_shape."""
    (sh, sw), pads, (dh, dw), g = params
    o, _, kh, kw = w_shape
    ho = _out_size(x_shape[2], kh, sh, dh, pads[0], pads[1])
    wo = _out_size(x_shape[3], kw, sw, dw, pads[2], pads[3])
    return (g == 1 and kh * kw > 1 and min(pads) >= 0 and o >= CL_MIN_OUT_CHANNELS
            and ho * wo <= CL_MAX_PIXELS)


def _columns_last(x: np.ndarray, w_shape: tuple[int, ...],
                  params: Params) -> tuple[np.ndarray, int, int]:
    """Patches as rows, channels last: (N Ho Wo, kh kw C), columns ordered (kh, kw, C)."""
    (sh, sw), (pt, pb, pl, pr), (dh, dw), _ = params
    n, c, h, wd = x.shape
    kh, kw = w_shape[2:]
    ho, wo = _out_size(h, kh, sh, dh, pt, pb), _out_size(wd, kw, sw, dw, pl, pr)
    xp = scratch((n, h + pt + pb, wd + pl + pr, c), x.dtype)  # padded, channels last
    xp[:, :pt], xp[:, pt + h:], xp[:, :, :pl], xp[:, :, pl + wd:] = 0, 0, 0, 0
    xp[:, pt:pt + h, pl:pl + wd] = x.transpose(0, 2, 3, 1)
    s0, s1, s2, s3 = xp.strides
    if dw == 1:  # the kw offsets of a row side by side: one run of kw C values
        win = as_strided(xp, (n, ho, wo, kh, kw * c), (s0, s1 * sh, s2 * sw, s1 * dh, s3),
                         writeable=False)
    else:
        win = as_strided(xp, (n, ho, wo, kh, kw, c), (s0, s1 * sh, s2 * sw, s1 * dh, s2 * dw, s3),
                         writeable=False)
    cols = scratch(win.shape, x.dtype)
    np.copyto(cols, win)
    return cols.reshape(n * ho * wo, kh * kw * c), ho, wo


def _conv_last(x: np.ndarray, w: np.ndarray, params: Params,
               keep: list | None = None) -> np.ndarray:
    """y = conv(x, W) on the channels-last path: one product for the whole batch."""
    n = x.shape[0]
    o = w.shape[0]
    cols, ho, wo = _columns_last(x, w.shape, params)
    if keep is not None:
        keep.append(cols)
    wm = w.transpose(0, 2, 3, 1).reshape(o, -1)  # (O, K), K ordered (kh, kw, C)
    y = np.matmul(cols, wm.T, out=scratch((cols.shape[0], o), np.result_type(x, w)))
    out = np.empty((n, o, ho * wo), y.dtype)
    np.copyto(out, y.reshape(n, ho * wo, o).transpose(0, 2, 1))
    return out.reshape(n, o, ho, wo)


def _conv_weight_last(cols: np.ndarray, gy: np.ndarray, w_shape: tuple[int, ...]) -> np.ndarray:
    """dL/dW from the channels-last patches: one (O, N Ho Wo) @ (N Ho Wo, K) product."""
    n, o, ho, wo = gy.shape
    _, c, kh, kw = w_shape
    gt = scratch((o, n, ho * wo), gy.dtype)
    np.copyto(gt, gy.reshape(n, o, ho * wo).transpose(1, 0, 2))
    gw = gt.reshape(o, -1) @ cols  # (O, kh kw C)
    return np.ascontiguousarray(gw.reshape(o, kh, kw, c).transpose(0, 3, 1, 2))


def _conv(x: np.ndarray, w: np.ndarray, params: Params, keep: list | None = None) -> np.ndarray:
    """y = conv(x, W); `keep`, when given, receives the patch matrix for the weight gradient.

    One product per sample and group, (O/g, K) @ (K, Ho*Wo), so the result is (N, O, Ho, Wo)
    in memory as it comes: no transposed copy (faster than one (O, K) @ (K, N*Ho*Wo) product
    and the copy to (N, O, ...) after it on LeNet's convolutions)."""
    if _shifted(x.shape, w.shape, params):
        return _conv_shifted(x, w, params)
    if _channels_last(x.shape, w.shape, params):
        return _conv_last(x, w, params, keep)
    g = params[3]
    n = x.shape[0]
    o = w.shape[0]
    cols, ho, wo = _columns(x, w.shape, params)
    if keep is not None:
        keep.append(cols)
    out = np.matmul(w.reshape(g, o // g, -1), cols)  # (N, G, O/g, Ho*Wo)
    return out.reshape(n, o, ho, wo)


def _conv_transpose(y: np.ndarray, w: np.ndarray, x_shape: tuple[int, ...],
                    params: Params) -> np.ndarray:
    """The adjoint of _conv in x: y (N, O, Ho, Wo) -> (N, C, H, W) = x_shape."""
    (sh, sw), pads, (dh, dw), g = params
    _, o, ho, wo = y.shape
    _, c, h, wd = x_shape
    kh, kw = w.shape[2:]
    full = (dh * (kh - 1) - pads[0], dh * (kh - 1) - pads[1],
            dw * (kw - 1) - pads[2], dw * (kw - 1) - pads[3])
    flip = ((1, 1), full, (dh, dw), g)
    if (sh, sw) == (1, 1) and min(full) >= 0 and (o * h * wd <= c * ho * wo
                                                 or _shifted(y.shape, (c, o, kh, kw), flip)):
        # With stride 1 this is the convolution of y, padded to "full", with the kernel
        # flipped and its channels swapped. Its patch matrix (O kh kw rows, H W columns per
        # sample) is then no larger than col2im's (C kh kw rows, Ho Wo columns), and a patch
        # copy is cheaper than col2im's adds (on ResNet's 16 channels at 28x28; LeNet's
        # conv2, 6 -> 16 channels, keeps col2im); or it takes the shifted path (no patches).
        flipped = w[:, :, ::-1, ::-1].reshape(g, o // g, c // g, kh, kw).transpose(0, 2, 1, 3, 4)
        return _conv(y, flipped.reshape(c, o // g, kh, kw), flip)
    out = _col2im(y, w, x_shape, params)
    return out[:, :, pads[0]:pads[0] + h, pads[2]:pads[2] + wd]


def _padded_size(x_shape: tuple[int, ...], pads: Pads) -> tuple[int, int]:
    """col2im's buffer (Hp, Wp): the padded input, a cropping (negative) pad not subtracted,
    so that every window fits and the crop to x_shape after it is exact."""
    return (x_shape[2] + pads[0] + max(pads[1], 0), x_shape[3] + pads[2] + max(pads[3], 0))


def _col2im_weights(w: np.ndarray, c: int, g: int) -> np.ndarray:
    """The weight as (G, kh kw C/g, O/g): rows ordered (kh, kw, C/g), so that each kernel
    offset's slab of the product is one contiguous (C/g, N, ...) block (measured 7.7 -> 4.3
    ms on LeNet's conv2 against rows (C/g, kh, kw) and a (N, C, kh, kw) copy)."""
    o, _, kh, kw = w.shape
    return w.reshape(g, o // g, c // g, kh, kw).transpose(0, 3, 4, 2, 1).reshape(g, -1, o // g)


def _col2im(y: np.ndarray, w: np.ndarray, x_shape: tuple[int, ...],
            params: Params) -> np.ndarray:
    """W^T y, each kernel offset's columns added where its patches came from: the padded
    (N, C, Hp, Wp) (a view for stride 1), by phases of the stride. Offset (i, j) lands on
    rows i dh + sh r and columns j dw + sw q: on the phase (i dh mod sh, j dw mod sw) of the
    padded grid, shifted there by (i dh // sh, j dw // sw). With y laid out on a phase's grid
    Hq x Wq (zeros past Ho and Wo), an offset's contribution to all C/g N planes is one
    contiguous run of its phase's flattened sum (NumPy's strided adds pay per row); a cell
    within Ho x Wo stays in its own plane, the zeros land where a shift wraps. The phases
    are then copied into place, one strided copy each (stride 1: the one phase is it)."""
    (sh, sw), pads, _, g = params
    n, o, ho, wo = y.shape
    c = x_shape[1]
    hp, wp = _padded_size(x_shape, pads)
    hq, wq = -(-hp // sh), -(-wp // sw)  # a phase's grid: every sh-th row, sw-th column
    dtype = np.result_type(y.dtype, w.dtype)
    yq = scratch((g, o // g, n, hq, wq), dtype)
    yq[..., ho:, :] = 0
    yq[..., :ho, wo:] = 0
    yq[..., :ho, :wo] = y.reshape(n, g, o // g, ho, wo).transpose(1, 2, 0, 3, 4)
    wt = _col2im_weights(w, c, g)
    cols = np.matmul(wt, yq.reshape(g, o // g, -1), out=scratch((g, wt.shape[1], n * hq * wq),
                                                                 dtype))
    span = (c // g) * n * hq * wq  # a group's planes on a phase's grid, flattened
    sums = _phase_sums(cols.reshape(g, *w.shape[2:], span), params, wq)
    planes = {ab: f[:, :span].reshape(c, n, hq, wq) for ab, f in sums.items()}
    if (sh, sw) == (1, 1):
        return planes[0, 0].transpose(1, 0, 2, 3)
    out = (np.empty if len(planes) == sh * sw else np.zeros)((n, c, hp, wp), dtype)
    _copy_phases(out.transpose(1, 0, 2, 3), planes, (sh, sw))  # through a (C, N, ...) view
    return out


def _copy_phases(out: np.ndarray, planes: dict[tuple[int, int], np.ndarray],
                 stride: tuple[int, int]) -> None:
    """out[..., a::sh, b::sw] = phase (a, b)'s grid, cut to the rows and columns out has
    there (one strided copy per phase; the phases no offset lands on are left alone)."""
    sh, sw = stride
    hp, wp = out.shape[-2:]
    for (a, b), p in planes.items():
        out[..., a::sh, b::sw] = p[..., :(hp - a + sh - 1) // sh, :(wp - b + sw - 1) // sw]


def _phase_sums(cols: np.ndarray, params: Params, wq: int) -> dict[tuple[int, int], np.ndarray]:
    """The sum of the kernel offsets landing on each phase (a, b), flattened (G, span +
    overrun), from cols (G, kh, kw, span): one 1-D add per offset, at its shift."""
    (sh, sw), _, (dh, dw), g = params
    _, kh, kw, span = cols.shape
    where = {(i, j): (divmod(i * dh, sh), divmod(j * dw, sw)) for i in range(kh)
             for j in range(kw)}  # offset -> ((row shift, a), (column shift, b))
    keys = list(dict.fromkeys((a, b) for (_, a), (_, b) in where.values()))
    overrun = (dh * (kh - 1) // sh) * wq + dw * (kw - 1) // sw
    buf = scratch((len(keys), g, span + overrun), cols.dtype)
    buf.fill(0)
    sums = {ab: buf[k] for k, ab in enumerate(keys)}
    for (i, j), ((ri, a), (rj, b)) in where.items():
        start = ri * wq + rj
        sums[a, b][:, start:start + span] += cols[:, i, j]
    return sums


# The per-sample weight gradient's product as (K, Ho Wo) @ (Ho Wo, O/g), not (O/g, Ho Wo) @
# (Ho Wo, K), where a group's K = C/g kh kw columns are this many or more: OpenBLAS runs the
# latter slowly for a wide K (measured, see docs/performance.md).
DW_TALL_MIN_K = 96


def _conv_weight(x: np.ndarray, gy: np.ndarray, w_shape: tuple[int, ...],
                 params: Params, cols: np.ndarray | None = None) -> np.ndarray:
    """dL/dW for y = conv(x, W), given gy = dL/dy (and x's patch matrix if already built):
    one product per sample, summed over the samples (one long (O, N*Ho*Wo) @ (N*Ho*Wo, K)
    product is slow in OpenBLAS)."""
    if cols is None and _shifted(x.shape, w_shape, params):
        return _conv_weight_shifted(x, gy, w_shape, params)
    if _channels_last(x.shape, w_shape, params):
        if cols is None:
            cols, _, _ = _columns_last(x, w_shape, params)
        return _conv_weight_last(cols, gy, w_shape)
    g = params[3]
    n, o, ho, wo = gy.shape
    if cols is None:
        cols, _, _ = _columns(x, w_shape, params)  # (N, G, K, Ho*Wo)
    gm = gy.reshape(n, g, o // g, ho * wo)
    if cols.shape[2] >= DW_TALL_MIN_K:  # (K, O/g) per sample, transposed after the sum
        gwt = np.add.reduce(np.matmul(cols, gm.transpose(0, 1, 3, 2)), axis=0)
        return np.ascontiguousarray(gwt.transpose(0, 2, 1)).reshape(w_shape)
    return np.add.reduce(np.matmul(gm, cols.transpose(0, 1, 3, 2)), axis=0).reshape(w_shape)


def _add_bias(out: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """out (N, O, H, W), freshly made by the op, plus the bias b (O,) per channel, in place
    (the callers' checks keep b's dtype from widening out's)."""
    return out if b is None else np.add(out, b.reshape(-1, 1, 1), out=out)


class Conv2d(ad.Function):
    """y = conv(x, W) + b, b (O,) or None: the bias is added in place into the fresh output
    (no second node, no second output array); its gradient is grad summed over (N, H, W)."""

    name = "conv2d"

    @staticmethod
    def forward(ctx, x, w, b, *, params, keep_cols=False):
        ctx.params = params
        ctx.save_for_backward(x, w)
        keep: list = []
        out = _conv(x, w, params, keep if keep_cols else None)
        # The patch matrix, reused by the weight gradient (no second im2col), is kept only
        # when it is a copy: for a 1x1 kernel with stride 1 it is x's own memory, which an
        # in-place write to x would change unseen (the version check guards saved arrays, not
        # ctx attributes); the weight gradient then takes it again from the saved x, a view.
        cols = keep[0] if keep else None
        ctx.cols = None if cols is None or np.may_share_memory(cols, x) else cols
        return _add_bias(out, b)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        p = ctx.params
        need_x, need_w, need_b = ctx.needs_input_grad
        gx = ConvTranspose2d.apply(grad, w, None, x_shape=x.shape, params=p) if need_x else None
        gw = (ConvWeight.apply(x, grad, w_shape=w.shape, params=p, cols=ctx.cols)
              if need_w else None)
        ctx.cols = None
        return gx, gw, ChannelSums.apply(grad) if need_b else None


class ConvTranspose2d(ad.Function):
    """x = conv_transpose(y, W) + b, b (C,) or None, added in place as Conv2d's."""

    name = "conv_transpose2d"

    @staticmethod
    def forward(ctx, y, w, b, *, x_shape, params):
        ctx.params = params
        ctx.save_for_backward(y, w)
        return _add_bias(_conv_transpose(y, w, x_shape, params), b)

    @staticmethod
    def backward(ctx, grad):
        y, w = ctx.saved_tensors
        p = ctx.params
        need_y, need_w, need_b = ctx.needs_input_grad
        gy = Conv2d.apply(grad, w, None, params=p) if need_y else None
        gw = ConvWeight.apply(grad, y, w_shape=w.shape, params=p) if need_w else None
        return gy, gw, ChannelSums.apply(grad) if need_b else None


class ConvWeight(ad.Function):
    name = "conv_weight"

    @staticmethod
    def forward(ctx, x, gy, *, w_shape, params, cols=None):
        ctx.params = params
        ctx.save_for_backward(x, gy)
        return _conv_weight(x, gy, w_shape, params, cols)

    @staticmethod
    def backward(ctx, grad):
        x, gy = ctx.saved_tensors
        p = ctx.params
        need_x, need_g = ctx.needs_input_grad
        gx = ConvTranspose2d.apply(gy, grad, None, x_shape=x.shape, params=p) if need_x else None
        gg = Conv2d.apply(x, grad, None, params=p) if need_g else None
        return gx, gg


class ChannelSums(ad.Function):
    """A convolution's bias gradient: grad (N, O, H, W) summed over N, H and W, as
    matrix-vector products (`channel_sums`, faster than NumPy's strided sum); its own
    gradient spreads back over those axes."""

    name = "channel_sums"
    array_backward = True

    @staticmethod
    def forward(ctx, g):
        ctx.shape = g.shape
        n, c, h, w = g.shape
        return channel_sums(g.reshape(n, c, h * w))  # (not -1: an empty batch has no size)

    @staticmethod
    def backward(ctx, grad):
        if isinstance(grad, np.ndarray):  # a read-only broadcast view: no copy
            return np.broadcast_to(grad.reshape(1, -1, 1, 1), ctx.shape)
        return ad.broadcast_to(grad.reshape(1, -1, 1, 1), ctx.shape)


def _check(op: str, x: Tensor, w: Tensor, groups: int, in_axis: int) -> None:
    if x.ndim != 4:
        raise ValueError(f"{op}: expected input of shape (N, C, H, W) or (C, H, W) unbatched, "
                         f"got {x.shape}")
    if w.ndim != 4:
        raise ValueError(f"{op}: expected weight of 4 dimensions, got {w.shape}")
    if groups <= 0 or x.shape[1] % groups:
        raise ValueError(f"{op}: groups={groups} must divide the {x.shape[1]} input channels")


def _check_bias(op: str, bias: Any, channels: int, x: Tensor, w: Tensor) -> None:
    """bias: None, or (channels,) of a dtype that does not widen the output's (PyTorch
    refuses a bias whose dtype differs from the input's)."""
    if bias is None:
        return
    if tuple(np.shape(bias)) != (channels,):
        raise ValueError(f"{op}: bias must have shape ({channels},), one value per output "
                         f"channel, got {tuple(np.shape(bias))}")
    out_dtype = np.result_type(x.dtype, w.dtype)
    if np.result_type(out_dtype, bias.dtype) != out_dtype:
        raise ValueError(f"{op}: bias of dtype {bias.dtype} would widen the "
                         f"output's {out_dtype}; give it the weight's dtype")


def conv2d(x: Any, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation (PyTorch's conv2d): x (N, C, H, W), weight (O, C/groups, kh, kw),
    bias (O,). padding is an int, a pair, "valid" (0) or "same" (output size = input size,
    stride 1; the odd extra pad goes to the bottom/right, as PyTorch). An unbatched x
    (C, H, W) gives (O, H', W'), as PyTorch's.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> x = ad.ones((1, 1, 3, 3))
    >>> w = ad.ones((1, 1, 2, 2), requires_grad=True)
    >>> F.conv2d(x, w)
    tensor([[[[4., 4.],
              [4., 4.]]]], grad_fn=<conv2d>)
    >>> F.conv2d(x, w, padding='same').shape
    (1, 1, 3, 3)
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    if x.ndim == 3:  # unbatched, as PyTorch's: a batch of one
        return conv2d(x[None], weight, bias, stride, padding, dilation, groups)[0]
    _check("conv2d", x, weight, groups, 1)
    o, cg, kh, kw = weight.shape
    if x.shape[1] != cg * groups:
        raise ValueError(f"conv2d: the input has {x.shape[1]} channels but the weight expects "
                         f"{cg * groups} (weight shape {weight.shape}, groups={groups})")
    if o % groups:
        raise ValueError(f"conv2d: groups={groups} must divide the {o} output channels")
    _check_bias("conv2d", bias, o, x, weight)
    s, d = _pair(stride, "stride"), _pair(dilation, "dilation")
    if min(s) <= 0 or min(d) <= 0:
        raise ValueError(f"conv2d: stride and dilation must be positive, got {s} and {d}")
    if isinstance(padding, str):
        if padding == "valid":
            pads: Pads = (0, 0, 0, 0)
        elif padding == "same":
            if s != (1, 1):
                raise ValueError("conv2d: padding='same' needs stride 1")
            th, tw = d[0] * (kh - 1), d[1] * (kw - 1)
            pads = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        else:
            raise ValueError(f"conv2d: padding must be an int, a pair, 'same' or 'valid', got "
                             f"{padding!r}")
    else:
        ph, pw = _pair(padding, "padding")
        if ph < 0 or pw < 0:
            raise ValueError(f"conv2d: padding must be >= 0, got {padding}")
        pads = (ph, ph, pw, pw)
    h, w = x.shape[2:]
    if (h + pads[0] + pads[1] < d[0] * (kh - 1) + 1
            or w + pads[2] + pads[3] < d[1] * (kw - 1) + 1):
        raise ValueError(f"conv2d: kernel {(kh, kw)} (dilation {d}) is larger than the padded "
                         f"input {(h + pads[0] + pads[1], w + pads[2] + pads[3])}")
    keep = weight.requires_grad and ad.is_grad_enabled()  # the weight gradient reuses im2col
    x, weight, bias = promoted(x, weight, bias)
    return Conv2d.apply(x, weight, bias, params=(s, pads, d, groups), keep_cols=keep)


def conv_transpose2d(x: Any, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """The transposed convolution (PyTorch's conv_transpose2d): x (N, C_in, H, W), weight
    (C_in, C_out/groups, kh, kw); output size (H - 1) s - 2 p + d (k - 1) + output_padding + 1.
    output_padding must be smaller than the stride or the dilation (PyTorch's rule).

    It is the adjoint of the convolution with padding p on top and p - output_padding at the
    bottom (likewise left and right; a negative pad crops): that convolution maps the output
    size back to H exactly, whatever output_padding, so the gradients are that convolution.
    An unbatched x (C_in, H, W) gives (C_out, H', W'), as PyTorch's.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.conv_transpose2d(ad.ones((1, 1, 2, 2)), ad.ones((1, 1, 2, 2)), stride=2).shape
    (1, 1, 4, 4)
    >>> F.conv_transpose2d(ad.ones((1, 1, 2, 2)), ad.ones((1, 1, 2, 2)), dilation=3,
    ...                    output_padding=2).shape
    (1, 1, 7, 7)
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    if x.ndim == 3:  # unbatched, as PyTorch's: a batch of one
        return conv_transpose2d(x[None], weight, bias, stride, padding, output_padding, groups,
                                dilation)[0]
    _check("conv_transpose2d", x, weight, groups, 0)
    cin, cog, kh, kw = weight.shape
    if x.shape[1] != cin:
        raise ValueError(f"conv_transpose2d: the input has {x.shape[1]} channels but the weight "
                         f"expects {cin} (weight shape {weight.shape})")
    who = "conv_transpose2d"
    s, d = _pair(stride, "stride", who), _pair(dilation, "dilation", who)
    p, op = _pair(padding, "padding", who), _pair(output_padding, "output_padding", who)
    if min(s) <= 0 or min(d) <= 0:
        raise ValueError(f"conv_transpose2d: stride and dilation must be positive, got {s} and "
                         f"{d}")
    if min(p) < 0 or min(op) < 0:
        raise ValueError(f"conv_transpose2d: padding {p} and output_padding {op} must be >= 0")
    if op[0] >= max(s[0], d[0]) or op[1] >= max(s[1], d[1]):
        raise ValueError(f"conv_transpose2d: output_padding {op} must be smaller than stride "
                         f"{s} or dilation {d}")
    h = (x.shape[2] - 1) * s[0] - 2 * p[0] + d[0] * (kh - 1) + op[0] + 1
    w = (x.shape[3] - 1) * s[1] - 2 * p[1] + d[1] * (kw - 1) + op[1] + 1
    if h <= 0 or w <= 0:
        raise ValueError(f"conv_transpose2d: the output size {(h, w)} is not positive (input "
                         f"{x.shape}, weight {weight.shape}, stride {s}, padding {p}, "
                         f"output_padding {op}, dilation {d})")
    _check_bias("conv_transpose2d", bias, cog * groups, x, weight)
    x_shape = (x.shape[0], cog * groups, h, w)
    pads = (p[0], p[0] - op[0], p[1], p[1] - op[1])
    x, weight, bias = promoted(x, weight, bias)
    return ConvTranspose2d.apply(x, weight, bias, x_shape=x_shape, params=(s, pads, d, groups))
