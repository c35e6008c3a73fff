"""Pooling (NCHW, PyTorch's semantics): max_pool2d, avg_pool2d, adaptive_avg_pool2d.

max_pool2d finds each window's maximum and where it sits (ties go to the first maximum in the
window, as PyTorch); its backward is the scatter to those places, whose backward is the gather
from them, whose backward is the scatter again, so derivatives of any order work. avg_pool2d
is a depthwise convolution with a constant kernel (it counts padding, as PyTorch's default);
adaptive_avg_pool2d multiplies by the averaging matrices of PyTorch's bins. Neither needs a
backward of its own.

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.max_pool2d(ad.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
[[[[5.0, 7.0], [13.0, 15.0]]]]
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor
from autodiff.buffers import scratch
from nn.functional.conv import Conv2d, _out_size, _pad, _pair, _windows
from nn.functional.separable import resample


def unbatched_too(ndim: int) -> Callable[[Callable[..., Tensor]], Callable[..., Tensor]]:
    """A pool of (N, C, ...) inputs with `ndim` axes also takes one example without its batch
    axis, as PyTorch's pools do: it runs on x[None] and returns [0].

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.max_pool2d(ad.ones((3, 4, 4)), 2).shape
    (3, 2, 2)
    """
    def wrap(pool: Callable[..., Tensor]) -> Callable[..., Tensor]:
        @functools.wraps(pool)
        def either(x: Any, *args: Any, **kwargs: Any) -> Tensor:
            x = x if isinstance(x, Tensor) else ad.tensor(x)
            if x.ndim == ndim - 1:
                out = pool(x[None], *args, **kwargs)
                return tuple(o[0] for o in out) if type(out) is tuple else out[0]
            return pool(x, *args, **kwargs)
        return either
    return wrap


def require_floating(op: str, x: Tensor) -> None:
    """An average pool's input must be floating: its constant averaging weights would take an
    integer dtype and round to zero (a silent all-zero result). PyTorch refuses an integer
    input to its adaptive average pools; its plain ones truncate the means, refused here.

    >>> import numpy as np, autodiff as ad
    >>> require_floating("avg_pool2d", ad.tensor(np.ones((1, 1, 2, 2), dtype=np.int64)))
    Traceback (most recent call last):
    ...
    TypeError: avg_pool2d: expected a floating input, got dtype int64 ...
    """
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating input, got dtype {x.dtype} (an average of "
                        "integers is not an integer; convert with .astype(np.float32))")


class _Indices:
    """Where each window's maximum sits: a flat offset into the window, per output cell."""

    def __init__(self, arg: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
                 pads: tuple[int, int, int, int], in_shape: tuple[int, ...],
                 dilation: tuple[int, int] = (1, 1)) -> None:
        self.arg, self.kernel, self.stride, self.pads, self.in_shape = (arg, kernel, stride,
                                                                        pads, in_shape)
        self.dilation = dilation

    def flat(self) -> np.ndarray:
        """PyTorch's indices of the maxima: h * W + w in each (H, W) input plane, int64."""
        (sh, sw), (dh, dw) = self.stride, self.dilation
        ho, wo = self.arg.shape[2:]
        i, j = np.divmod(self.arg.astype(np.int64), self.kernel[1])
        rows = np.arange(ho)[:, None] * sh - self.pads[0] + i * dh
        cols = np.arange(wo) * sw - self.pads[2] + j * dw
        return rows * self.in_shape[3] + cols

    def gather(self, x: np.ndarray) -> np.ndarray:
        kh, kw = self.kernel
        ho, wo = self.arg.shape[2:]
        win = _windows(_pad(x, self.pads), kh, kw,
                       (self.stride, self.pads, self.dilation, 1), ho, wo)
        win = win.reshape(*win.shape[:4], kh * kw)
        return np.take_along_axis(win, self.arg[..., None], axis=-1)[..., 0]

    def scatter(self, g: np.ndarray) -> np.ndarray:
        kh, kw = self.kernel
        sh, sw = self.stride
        dh, dw = self.dilation
        pt, pb, pl, pr = self.pads
        n, c, h, w = self.in_shape
        ho, wo = self.arg.shape[2:]
        if ((sh, sw) == (kh, kw) and (ho * kh, wo * kw) == (h, w) and not any(self.pads)
                and (dh, dw) == (1, 1)):
            # The windows tile the input (LeNet's 2x2 pools): every input cell is in exactly
            # one window, so each offset's gradient is written straight into its cells (no
            # zeros, no adds).
            tiles = np.empty((n, c, ho, kh, wo, kw), dtype=g.dtype)
            for i in range(kh):
                for j in range(kw):
                    np.multiply(g, self.arg == i * kw + j, out=tiles[:, :, :, i, :, j])
            return tiles.reshape(n, c, h, w)
        out = np.zeros((n, c, h + pt + pb, w + pl + pr), dtype=g.dtype)
        for i in range(kh):  # one strided add per kernel offset
            for j in range(kw):
                hit = self.arg == i * kw + j
                out[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh,
                    j * dw:j * dw + sw * (wo - 1) + 1:sw] += g * hit
        return out[:, :, pt:pt + h, pl:pl + w]


class MaxPool2d(ad.Function):
    """Each window's maximum; the argmax is found with it and kept for the backward."""

    name = "max_pool2d"

    @staticmethod
    def forward(ctx, x, *, kernel, stride, pads, dilation=(1, 1), found=None):
        best, arg = _window_max(x, kernel, stride, pads, dilation)
        ctx.indices = _Indices(arg, kernel, stride, pads, x.shape, dilation)
        if found is not None:  # return_indices: the caller's list gets them
            found.append(ctx.indices)
        ctx.kernel_size, ctx.stride = kernel, stride
        return best

    @staticmethod
    def backward(ctx, grad):
        return PoolScatter.apply(grad, indices=ctx.indices)


class PoolGather(ad.Function):
    """The values at fixed window places (the second derivative of max_pool2d)."""

    name = "max_pool2d_gather"

    @staticmethod
    def forward(ctx, x, *, indices):
        ctx.indices = indices
        ctx.kernel_size, ctx.stride = indices.kernel, indices.stride
        return indices.gather(x)

    @staticmethod
    def backward(ctx, grad):
        return PoolScatter.apply(grad, indices=ctx.indices)


class PoolScatter(ad.Function):
    name = "max_unpool2d"

    @staticmethod
    def forward(ctx, g, *, indices):
        ctx.indices = indices
        return indices.scatter(g)

    @staticmethod
    def backward(ctx, grad):
        return PoolGather.apply(grad, indices=ctx.indices)


Pads = tuple[int, int, int, int]


def _pool_args(op: str, x: Tensor, kernel_size: Any, stride: Any, padding: Any,
               dilation: Any = 1, ceil_mode: bool = False
               ) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], Pads]:
    """kernel, stride, dilation and the pads (top, bottom, left, right) of a 2-d pool."""
    if x.ndim != 4:
        raise ValueError(f"{op}: expected input of shape (N, C, H, W) or (C, H, W), got "
                         f"{x.shape}")
    k = _pair(kernel_size, "kernel_size", op)
    s = k if stride is None else _pair(stride, "stride", op)
    p, d = _pair(padding, "padding", op), _pair(dilation, "dilation", op)
    (pt, pb), (pl, pr) = pool_pads(op, x.shape[2:], k, s, p, d, ceil_mode)
    return k, s, d, (pt, pb, pl, pr)


def pool_out_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size: floor((n + 2p - d(k-1) - 1) / s) + 1, or with ceil_mode
    the ceiling, less one if that last window would start past the input and the left pad."""
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def pool_pads(op: str, sizes: tuple[int, ...], k: tuple[int, ...], s: tuple[int, ...],
              p: tuple[int, ...], d: tuple[int, ...], ceil_mode: bool
              ) -> tuple[tuple[int, int], ...]:
    """Check a pool's arguments (PyTorch's rules) and return the (before, after) pad of each
    axis: `p` before, and after it `p` or, where ceil_mode adds a last window that hangs off
    the end, as many cells as that window needs (they count as absent: -inf for max, not in
    the divisor of avg beyond the right pad)."""
    if min(k) <= 0:
        raise ValueError(f"{op}: kernel_size must be positive, got {k}")
    if min(s) <= 0:
        raise ValueError(f"{op}: stride must be positive, got {s}")
    if min(d) <= 0:
        raise ValueError(f"{op}: dilation must be positive, got {d}")
    if min(p) < 0 or any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise ValueError(f"{op}: padding {p} must be >= 0 and at most half the kernel {k}")
    out = tuple(pool_out_size(*a, ceil_mode) for a in zip(sizes, k, s, p, d))
    if min(out) < 1:
        raise ValueError(f"{op}: kernel {k} (dilation {d}) is larger than the padded input "
                         f"{tuple(n + 2 * pi for n, pi in zip(sizes, p))}")
    if max(d) > 1:
        _check_windows_touch_input(op, sizes, k, s, p, d, out)
    return tuple((pi, max(pi, (o - 1) * si + di * (ki - 1) + 1 - pi - n))
                 for n, ki, si, pi, di, o in zip(sizes, k, s, p, d, out))


@unbatched_too(4)
def max_pool2d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False
               ) -> Any:
    """The maximum of each window; stride defaults to kernel_size; padding counts as -inf;
    dilation spaces the window's cells; ceil_mode rounds the output size up (PyTorch's rule:
    a last window hanging off the end is kept when it starts inside the input or the left
    padding). The first maximum of a window wins a tie, and a NaN wins its window (the last
    NaN in row-major order when there are several, as PyTorch's loop).
    `return_indices=True` also returns where each maximum sits, as PyTorch's int64 indices
    h * W + w into its (H, W) input plane (what `max_unpool2d` takes).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> x = ad.arange(16.0).reshape(1, 1, 4, 4).requires_grad_()
    >>> F.max_pool2d(x, 2).sum().backward()
    >>> x.grad[0, 0]
    tensor([[0., 0., 0., 0.],
            [0., 1., 0., 1.],
            [0., 0., 0., 0.],
            [0., 1., 0., 1.]])
    >>> F.max_pool2d(ad.arange(25.0).reshape(1, 1, 5, 5), 2, ceil_mode=True).shape
    (1, 1, 3, 3)
    >>> F.max_pool2d(ad.arange(25.0).reshape(1, 1, 5, 5), 2, dilation=2).tolist()
    [[[[12.0, 14.0], [22.0, 24.0]]]]
    >>> F.max_pool2d(ad.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)[1]
    tensor([[[[ 5,  7],
              [13, 15]]]])
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    k, s, d, pads = _pool_args("max_pool2d", x, kernel_size, stride, padding, dilation,
                               ceil_mode)
    if not return_indices:
        return MaxPool2d.apply(x, kernel=k, stride=s, pads=pads, dilation=d)
    found: list[_Indices] = []
    y = MaxPool2d.apply(x, kernel=k, stride=s, pads=pads, dilation=d, found=found)
    return y, Tensor._make(found[0].flat(), None, 0)


def _check_windows_touch_input(op: str, sizes: tuple[int, ...], k: tuple[int, ...],
                               s: tuple[int, ...], p: tuple[int, ...], d: tuple[int, ...],
                               out: tuple[int, ...]) -> None:
    """Refuse a dilated window whose cells all fall in the padding (its maximum would be
    -inf with nowhere for the gradient to go; PyTorch returns -inf, and its backward writes
    out of bounds). Only dilation can step a window over the whole input."""
    for axis, (n, ki, si, pi, di, o) in enumerate(zip(sizes, k, s, p, d, out)):
        cells = np.arange(o)[:, None] * si - pi + np.arange(ki) * di
        inside = ((cells >= 0) & (cells < n)).any(axis=1)
        if not inside.all():
            raise ValueError(
                f"{op}: window {int(np.argmin(inside))} along spatial axis {axis} covers only "
                f"padding (input size {n}, kernel {ki}, stride {si}, padding {pi}, dilation "
                f"{di}): it has no input cell to take the maximum of")


def _window_max(x: np.ndarray, k: tuple[int, int], s: tuple[int, int],
                pads: tuple[int, int, int, int], d: tuple[int, int] = (1, 1)
                ) -> tuple[np.ndarray, np.ndarray]:
    """Each window's maximum and its flat offset in the window (the first one among ties; a
    NaN wins, the last one among several, as PyTorch's). A running maximum over the kh * kw
    kernel offsets, on strided slices (no window copy). NaN propagates into its window's
    maximum, so the output tells whether the input had one: only then does a second sweep
    track where each NaN sits."""
    ho = _out_size(x.shape[2], k[0], s[0], d[0], pads[0], pads[1])
    wo = _out_size(x.shape[3], k[1], s[1], d[1], pads[2], pads[3])
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    xp = _pad(x, pads, fill)
    best, arg = _running_max(xp, k, s, d, ho, wo, nan=False)
    if x.dtype.kind == "f" and np.isnan(best).any():
        best, arg = _running_max(xp, k, s, d, ho, wo, nan=True)
    if any(pads):
        _first_cell_in_input(arg, k, s, d, pads, x.shape[2:])
    return best, arg


def _first_cell_in_input(arg: np.ndarray, k: tuple[int, int], s: tuple[int, int],
                         d: tuple[int, int], pads: tuple[int, int, int, int],
                         size: tuple[int, ...]) -> None:
    """A window whose maximum was found on a pad cell (its cells in the input all hold the
    pad's value, -inf or the integer minimum, and a pad cell came first) takes its first
    cell in the input instead, as PyTorch: the index points into the input and the
    gradient reaches it. Changes `arg` in place."""
    ho, wo = arg.shape[2:]
    i, j = np.divmod(arg, k[1])
    rows = np.arange(ho)[:, None] * s[0] - pads[0] + i * d[0]
    cols = np.arange(wo) * s[1] - pads[2] + j * d[1]
    off = (rows < 0) | (rows >= size[0]) | (cols < 0) | (cols >= size[1])
    if off.any():  # the first row and column offsets at or past the input's edge
        i0 = np.maximum(0, -((np.arange(ho) * s[0] - pads[0]) // d[0]))
        j0 = np.maximum(0, -((np.arange(wo) * s[1] - pads[2]) // d[1]))
        first = np.broadcast_to(i0[:, None] * k[1] + j0, arg.shape)
        arg[off] = first[off]


def _running_max(xp: np.ndarray, k: tuple[int, int], s: tuple[int, int], d: tuple[int, int],
                 ho: int, wo: int, nan: bool) -> tuple[np.ndarray, np.ndarray]:
    """The sweep of `_window_max` over the padded input. The argmax is kept by arithmetic,
    not masked copies (np.copyto(where=) is slow here): offsets only grow, so where offset k
    wins, arg = max(arg, k * hit) sets it."""
    best = xp[:, :, 0:s[0] * (ho - 1) + 1:s[0], 0:s[1] * (wo - 1) + 1:s[1]].copy()
    arg = np.zeros(best.shape, dtype=np.int8 if k[0] * k[1] < 128 else np.intp)
    hit = scratch(best.shape, bool)
    step = scratch(best.shape, arg.dtype)
    for offset in range(1, k[0] * k[1]):
        i, j = divmod(offset, k[1])
        i, j = i * d[0], j * d[1]
        v = xp[:, :, i:i + s[0] * (ho - 1) + 1:s[0], j:j + s[1] * (wo - 1) + 1:s[1]]
        np.greater(v, best, out=hit)  # strictly greater keeps the first maximum
        if nan:
            hit |= np.isnan(v)  # every NaN takes over: the last one wins, as PyTorch's
        np.maximum(best, v, out=best)  # NaN propagates, as the value PyTorch returns
        np.multiply(hit, arg.dtype.type(offset), out=step)
        np.maximum(arg, step, out=arg)
    return best, arg


@unbatched_too(4)
def avg_pool2d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """The mean of each window (padding counted as zeros unless count_include_pad=False);
    ceil_mode as max_pool2d's. PyTorch's divisor: the window's cells inside the padded input
    (a window hanging off the end with ceil_mode is divided by the cells it covers there),
    only the input's cells with count_include_pad=False, or `divisor_override`.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.avg_pool2d(ad.arange(16.0).reshape(1, 1, 4, 4), 2)
    tensor([[[[ 2.5,  4.5],
              [10.5, 12.5]]]])
    >>> F.avg_pool2d(ad.arange(3.0).reshape(1, 1, 1, 3), (1, 2), ceil_mode=True).tolist()
    [[[[0.5, 2.0]]]]
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    k, s, _, pads = _pool_args("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
    require_floating("avg_pool2d", x)
    if divisor_override is not None and (
            not isinstance(divisor_override, int | np.integer) or divisor_override == 0):
        raise ValueError(f"avg_pool2d: divisor_override must be a nonzero integer, got "
                         f"{divisor_override!r}")
    c = x.shape[1]
    w = ad.tensor(np.full((c, 1, *k), 1.0 / (k[0] * k[1]), dtype=x.dtype))
    out = Conv2d.apply(x, w, None, params=(s, pads, (1, 1), c))
    if divisor_override is not None:
        divisor = np.full(out.shape[2:], float(divisor_override))
    else:
        divisor = np.outer(*(_window_counts(n, ki, si, pads[2 * a], o, count_include_pad)
                             for a, (n, ki, si, o) in enumerate(zip(x.shape[2:], k, s,
                                                                    out.shape[2:]))))
    if (divisor != k[0] * k[1]).any():
        out = out * ad.tensor((k[0] * k[1] / divisor).astype(x.dtype))
    return out


def _window_counts(n: int, k: int, s: int, p: int, out: int, count_include_pad: bool
                   ) -> np.ndarray:
    """avg_pool's divisor along one axis (PyTorch's): each window's cells inside the padded
    input [-p, n + p), or inside the input [0, n) only."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, n + p)
    if count_include_pad:
        return end - start
    return np.minimum(end, n) - np.maximum(start, 0)


@functools.lru_cache(maxsize=64)
def _bins(n_in: int, n_out: int, dtype: Any) -> np.ndarray:
    """PyTorch's adaptive bins as an averaging matrix (n_out, n_in), made once per arguments
    (read-only)."""
    m = np.zeros((n_out, n_in), dtype=dtype)
    for i in range(n_out):
        a = (i * n_in) // n_out
        b = -((-(i + 1) * n_in) // n_out)
        m[i, a:b] = 1.0 / (b - a)
    m.flags.writeable = False
    return m


@unbatched_too(4)
def adaptive_avg_pool2d(x: Any, output_size: Any) -> Tensor:
    """Average over PyTorch's adaptive bins to reach `output_size` (an int, a pair, None in a
    pair keeps that size).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.adaptive_avg_pool2d(ad.arange(16.0).reshape(1, 1, 4, 4), 1)
    tensor([[[[7.5]]]])
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    if x.ndim != 4:
        raise ValueError(f"adaptive_avg_pool2d: expected (N, C, H, W) or (C, H, W), got "
                         f"{x.shape}")
    require_floating("adaptive_avg_pool2d", x)
    if isinstance(output_size, int):
        output_size = (output_size, output_size)
    ho = x.shape[2] if output_size[0] is None else int(output_size[0])
    wo = x.shape[3] if output_size[1] is None else int(output_size[1])
    if ho <= 0 or wo <= 0:
        raise ValueError(f"adaptive_avg_pool2d: output size must be positive, got {output_size}")
    return resample(x, _bins(x.shape[2], ho, x.dtype), _bins(x.shape[3], wo, x.dtype))
