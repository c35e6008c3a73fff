"""Losses, composed from autodiff ops; `reduction` is "mean" (default), "sum" or "none".

cross_entropy takes integer class labels (or class probabilities) and means over the batch,
as PyTorch's. It is one fused primitive (log-sum-exp forward, softmax minus target backward),
so logits of magnitude 1e4 stay finite and a training step records one node, not eight.

>>> import autodiff as ad
>>> import nn.functional as F
>>> round(F.cross_entropy(ad.tensor([[2.0, 0.0, 0.0]]), ad.tensor([0])).item(), 4)
0.2395
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor
from nn.functional.activation import softplus


def _reduce(loss: Tensor, reduction: str, op: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else ad.tensor(x)


def _same_shape(op: str, a: Tensor, b: Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{op}: input shape {a.shape} and target shape {b.shape} differ")


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """(input - target)^2, reduced.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.mse_loss(ad.tensor([1.0, 2.0]), ad.tensor([1.0, 4.0]))
    tensor(2.)
    """
    input, target = _tensor(input), _tensor(target)
    _same_shape("mse_loss", input, target)
    d = input - target
    return _reduce(d * d, reduction, "mse_loss")


def binary_cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """-(y log p + (1 - y) log(1 - p)) for probabilities p, as PyTorch's: each log clamped at
    -100 (log(1 - p) by log1p), so a saturated p = 0 or 1 gives a finite loss and gradient.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> round(F.binary_cross_entropy(ad.tensor([0.5]), ad.tensor([1.0])).item(), 4)
    0.6931
    >>> p = ad.tensor([0.0, 1.0], requires_grad=True)
    >>> F.binary_cross_entropy(p, ad.tensor([1.0, 1.0]), reduction="sum")
    tensor(100., grad_fn=<sum>)
    """
    p, y = _tensor(input), _tensor(target)
    _same_shape("binary_cross_entropy", p, y)
    if p.size and (p.data.min() < 0 or p.data.max() > 1):
        raise ValueError("binary_cross_entropy: input must hold probabilities in [0, 1], got "
                         f"values in [{p.data.min()}, {p.data.max()}]")
    if y.dtype != p.dtype:
        y = ad.astype(y, p.dtype)
    return _reduce(BinaryCrossEntropy.apply(p, y), reduction, "binary_cross_entropy")


class BinaryCrossEntropy(ad.Function):
    """-(y log p + (1 - y) log(1 - p)) elementwise with PyTorch's clamps: each log at least
    -100. Backward as PyTorch's: (p - y) / max(p (1 - p), 1e-12) for p, which is the
    derivative inside and stays finite at p = 0 or 1; log(1 - p) - log(p), each clamped, for
    y. Both in Tensor ops, so they can be differentiated again."""

    name = "binary_cross_entropy"

    @staticmethod
    def forward(ctx, p, y):
        ctx.save_for_backward(p, y)
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped
            log_p = np.maximum(np.log(p), -100)
            log_q = np.maximum(np.log1p(-p), -100)
        return (y - 1) * log_q - y * log_p

    @staticmethod
    def backward(ctx, grad):
        p, y = ctx.saved_tensors
        need_p, need_y = ctx.needs_input_grad
        gp = grad * (p - y) / ad.maximum(p * (1 - p), 1e-12) if need_p else None
        gy = grad * (_clamped_log(1 - p) - _clamped_log(p)) if need_y else None
        return gp, gy


def _clamped_log(u: Tensor) -> Tensor:
    """max(log u, -100) in Tensor ops, its gradient 0 where clamped. The double where: the
    unselected branch is log(1), so its zero gradient never meets 1 / 0."""
    with np.errstate(divide="ignore"):
        keep = np.log(u.data) > -100
    return ad.where(keep, ad.log(ad.where(keep, u, 1)), -100.0)


def binary_cross_entropy_with_logits(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """binary_cross_entropy(sigmoid(x), y), computed stably as
    max(x, 0) - x y + log(1 + e^-|x|): no overflow, and exact in both tails where the loss is
    tiny (x = 25, y = 1 and x = -25, y = 0 both give e^-25, the first term exactly 0).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> round(F.binary_cross_entropy_with_logits(ad.tensor([0.0]), ad.tensor([1.0])).item(), 4)
    0.6931
    >>> F.binary_cross_entropy_with_logits(ad.tensor([25.0, -25.0]), ad.tensor([1.0, 0.0]),
    ...                                    reduction="none")
    tensor([1.388794e-11, 1.388794e-11])
    """
    x, y = _tensor(input), _tensor(target)
    _same_shape("binary_cross_entropy_with_logits", x, y)
    pos = x.data >= 0  # the two branches of max(x, 0) and -|x|, each with its gradient at 0
    loss = ad.where(pos, x - x * y, -(x * y)) + softplus(ad.where(pos, -x, x), threshold=math.inf)
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def _one_hot(op: str, target: Any, n_classes: int, shape: tuple[int, ...],
             dtype: np.dtype) -> np.ndarray:
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if t.dtype.kind == "f" and np.array_equal(t, np.round(t)):
        t = t.astype(np.int64)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: class labels must be integers, got dtype {t.dtype}")
    if t.shape != shape[:1] + shape[2:]:
        raise ValueError(f"{op}: target shape {t.shape} does not fit input shape {shape} "
                         "(expected the input shape without the class axis 1)")
    # Read as unsigned, a negative label is huge: the largest label finds every bad one.
    unsigned = t if t.dtype.kind == "u" else t.view(_UNSIGNED[t.dtype.itemsize])
    if t.size and np.maximum.reduce(unsigned, axis=None) >= n_classes:
        label = int(t[unsigned >= n_classes].flat[0])
        raise ValueError(f"{op}: label {label} is out of range for {n_classes} classes "
                         f"(labels must be in [0, {n_classes - 1}])")
    onehot = _identity(n_classes, dtype).take(t, axis=0)  # class axis last: move it to 1
    return onehot if t.ndim == 1 else np.moveaxis(onehot, -1, 1)


_UNSIGNED = {n: np.dtype(f"u{n}") for n in (1, 2, 4, 8)}


@functools.lru_cache(maxsize=16)
def _identity(n: int, dtype: np.dtype) -> np.ndarray:
    """The n x n identity, made once per size and dtype (read-only; rows are taken)."""
    eye = np.eye(n, dtype=dtype)
    eye.flags.writeable = False
    return eye


def nll_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """-input[i, target[i]]: the negative log-likelihood of log-probabilities (N, C, ...).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.nll_loss(ad.tensor([[-0.5, -1.0], [-2.0, -0.1]]), [0, 1])
    tensor(0.3)
    """
    logp = _tensor(input)
    if logp.ndim < 2:
        raise ValueError(f"nll_loss: expected input of shape (N, C, ...), got {logp.shape}")
    onehot = _one_hot("nll_loss", target, logp.shape[1], logp.shape, logp.dtype)
    # picked by where, not multiplied by the one-hot: 0 * -inf (a masked class) would be NaN
    return _reduce(-ad.where(onehot > 0, logp, 0).sum(axis=1), reduction, "nll_loss")


def cross_entropy(input: Any, target: Any, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits (N, C, ...) with integer labels (N, ...) or class
    probabilities of the input's shape; `label_smoothing` mixes in the uniform distribution.
    A masked logit (-inf) costs nothing where the target puts no mass on it (0 log 0 = 0),
    its gradient is 0; float16 logits are computed in float32 and give a float16 loss.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> z = ad.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]], requires_grad=True)
    >>> loss = F.cross_entropy(z, [0, 2])
    >>> round(loss.item(), 4)
    0.6691
    >>> loss.backward(); z.grad.shape
    (2, 3)
    >>> F.cross_entropy(ad.tensor([[0.0, float("-inf")]]), [0])
    tensor(0.)
    """
    logits = _tensor(input)
    if logits.ndim < 2:
        raise ValueError(f"cross_entropy: expected logits of shape (N, C, ...), got "
                         f"{logits.shape}")
    if logits.dtype == np.float16:  # computed in float32, returned in float16 (as PyTorch)
        loss = cross_entropy(ad.astype(logits, np.float32), target, reduction, label_smoothing)
        return ad.astype(loss, np.float16)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    n_classes = logits.shape[1]
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    label_shape = logits.shape[:1] + logits.shape[2:]
    if t.dtype.kind == "f" and t.shape == label_shape and np.array_equal(t, np.round(t)):
        t = t.astype(np.int64)  # labels written as a Python list become float32 tensors
    labels = t.dtype.kind != "f"
    if labels:
        probs = _one_hot("cross_entropy", t, n_classes, logits.shape, logits.dtype)
    else:
        if t.shape != logits.shape:
            raise ValueError(f"cross_entropy: probability targets must have the logits' shape "
                             f"{logits.shape}, got {t.shape}")
        probs = t.astype(logits.dtype)
    if label_smoothing:
        probs = probs * (1 - label_smoothing) + label_smoothing / n_classes
    if reduction not in ("mean", "sum", "none"):
        _reduce(logits, reduction, "cross_entropy")  # raises the error
    return SoftmaxCrossEntropy.apply(logits, probs, reduction=reduction, labels=labels)


class SoftmaxCrossEntropy(ad.Function):
    """-sum_c p_c log softmax(z)_c over the class axis 1 per sample, then reduced ("mean",
    "sum" or "none"), fused: forward logsumexp(z) sum_c p_c - sum_c p_c z_c, with p_c z_c
    taken as 0 where p_c = 0 (a masked logit z_c = -inf costs nothing when no target mass is
    on it), backward grad * (softmax(z) sum_c p_c - p), divided by the count for "mean".
    `labels` True says that p came from class labels (one-hot, smoothed or not), whose rows
    sum to 1: the backward is then softmax(z) - p. The backward is written in operations
    arrays and Tensors share, so it can be differentiated again.

    >>> import autodiff as ad
    >>> import numpy as np
    >>> z = ad.tensor([[2.0, 0.0, 0.0]], requires_grad=True)
    >>> p = np.array([[1.0, 0.0, 0.0]], np.float32)
    >>> SoftmaxCrossEntropy.apply(z, p, reduction="sum", labels=False).backward()
    >>> z.grad.numpy().round(3)
    array([[-0.213,  0.107,  0.107]], dtype=float32)
    """

    name = "cross_entropy"
    array_backward = True

    @staticmethod
    def forward(ctx, logits, probs, *, reduction, labels):
        # ufunc.reduce rather than .max()/.sum(): the same result without NumPy's Python
        # wrapper, which costs as much as the arithmetic on a small batch.
        ctx.shift = np.maximum.reduce(logits, axis=1, keepdims=True)
        shifted = logits - ctx.shift
        e = np.exp(shifted)
        total = np.add.reduce(e, axis=1, keepdims=True)
        log_total = np.log(total)
        e /= total
        ctx.softmax = e  # reused by a backward on arrays
        ctx.save_for_backward(logits, probs)
        count = logits.size // logits.shape[1]  # samples (and positions, for N-D logits)
        ctx.reduction, ctx.count, ctx.labels = reduction, count, labels
        if not labels:  # label rows sum to 1; other targets weigh logsumexp by their sum
            log_total = log_total * np.add.reduce(probs, axis=1, keepdims=True)
        axis = 1 if reduction == "none" else None
        loss = np.add.reduce(log_total, axis=axis) - _target_dot(shifted, probs, axis)
        return loss / count if reduction == "mean" else loss

    @staticmethod
    def backward(ctx, grad):
        logits, probs = ctx.saved_tensors
        if isinstance(logits, np.ndarray):
            soft = ctx.softmax
        else:  # recomputed from the logits Tensor, so that it can be differentiated again
            e = np.exp(logits - ctx.shift)
            soft = e / e.sum(axis=1, keepdims=True)
        if ctx.reduction == "none":
            g = grad.reshape((*grad.shape[:1], 1, *grad.shape[1:]))
        else:  # a scalar: broadcast over every sample
            g = grad * (1.0 / ctx.count) if ctx.reduction == "mean" else grad
        if ctx.labels:  # one-hot rows (smoothed or not) sum to 1
            return (soft - probs) * g, None
        return (soft * probs.sum(axis=1, keepdims=True) - probs) * g, None


def _target_dot(z: np.ndarray, p: np.ndarray, axis: int | None) -> Any:
    """sum of p_c z_c over `axis` (None: all), with p_c z_c = 0 where p_c = 0: at a masked
    logit, 0 * -inf would be NaN. Over all axes (the training step) it is one dot product,
    redone masked only when it comes out NaN, for the masked product is slow (its cost is in
    docs/performance.md)."""
    if axis is None:
        pz = np.vdot(z, p)
        if pz == pz:  # not NaN
            return pz
    return np.add.reduce(np.multiply(z, p, out=np.zeros_like(z), where=p != 0), axis=axis)
