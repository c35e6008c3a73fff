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
import warnings
from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor
from nn.functional.activation import softplus


def reduce_loss(loss: Tensor, reduction: str, op: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else ad.tensor(x)


def same_shape(op: str, a: Tensor, b: Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{op}: input shape {a.shape} and target shape {b.shape} differ")


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """(input - target)^2, reduced.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.mse_loss(ad.tensor([1.0, 2.0]), ad.tensor([1.0, 4.0]))
    tensor(2.)
    """
    input, target = as_tensor(input), as_tensor(target)
    same_shape("mse_loss", input, target)
    d = input - target
    return reduce_loss(d * d, reduction, "mse_loss")


def binary_cross_entropy(input: Any, target: Any, weight: Any = None, *,
                         reduction: str = "mean") -> Tensor:
    """-w (y log p + (1 - y) log(1 - p)) for probabilities p, as PyTorch's: each log clamped
    at -100 (log(1 - p) by log1p), so a saturated p = 0 or 1 gives a finite loss and gradient.
    `weight` w (1 without it) broadcasts to the input's shape and is a constant (as PyTorch's);
    "mean" is the plain mean of the weighted losses.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> round(F.binary_cross_entropy(ad.tensor([0.5]), ad.tensor([1.0])).item(), 4)
    0.6931
    >>> p = ad.tensor([0.0, 1.0], requires_grad=True)
    >>> F.binary_cross_entropy(p, ad.tensor([1.0, 1.0]), reduction="sum")
    tensor(100., grad_fn=<sum>)
    """
    p, y = as_tensor(input), as_tensor(target)
    same_shape("binary_cross_entropy", p, y)
    if p.size and (p.data.min() < 0 or p.data.max() > 1):
        raise ValueError("binary_cross_entropy: input must hold probabilities in [0, 1], got "
                         f"values in [{p.data.min()}, {p.data.max()}]")
    w = elementwise_weight("binary_cross_entropy", "weight", weight, p.shape, p.dtype)
    if y.dtype != p.dtype:
        y = ad.astype(y, p.dtype)
    loss = BinaryCrossEntropy.apply(p, y)
    return reduce_loss(loss if w is None else loss * w, reduction, "binary_cross_entropy")


class BinaryCrossEntropy(ad.Function):
    """-(y log p + (1 - y) log(1 - p)) elementwise with PyTorch's clamps: each log at least
    -100. Backward as PyTorch's: (p - y) / max(p (1 - p), EPSILON) for p, which is the
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
        gp = grad * (p - y) / ad.maximum(p * (1 - p), EPSILON) if need_p else None
        gy = grad * (_clamped_log(1 - p) - _clamped_log(p)) if need_y else None
        return gp, gy


EPSILON = float(np.float32(1e-12))  # PyTorch's losses: `constexpr float EPSILON = 1e-12`


def _clamped_log(u: Tensor) -> Tensor:
    """max(log u, -100) in Tensor ops, its gradient 0 where clamped. The double where: the
    unselected branch is log(1), so its zero gradient never meets 1 / 0."""
    with np.errstate(divide="ignore"):
        keep = np.log(u.data) > -100
    return ad.where(keep, ad.log(ad.where(keep, u, 1)), -100.0)


def binary_cross_entropy_with_logits(input: Any, target: Any, weight: Any = None, *,
                                     reduction: str = "mean", pos_weight: Any = None
                                     ) -> Tensor:
    """-w (pw y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))), as PyTorch's: `weight` w
    broadcasts to the input's shape, `pos_weight` pw (1 without it) weighs the positive
    term, usually one per class (last axis); both are constants. Computed stably as
    (1 - y) x + (1 + (pw - 1) y) softplus(-x), split at x = 0 so that nothing overflows
    and both tails are exact where the loss is tiny (x = 25, y = 1 and x = -25, y = 0 both give
    e^-25, the first term exactly 0).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> round(F.binary_cross_entropy_with_logits(ad.tensor([0.0]), ad.tensor([1.0])).item(), 4)
    0.6931
    >>> F.binary_cross_entropy_with_logits(ad.tensor([25.0, -25.0]), ad.tensor([1.0, 0.0]),
    ...                                    reduction="none")
    tensor([1.388794e-11, 1.388794e-11])
    """
    op = "binary_cross_entropy_with_logits"
    x, y = as_tensor(input), as_tensor(target)
    same_shape(op, x, y)
    w = elementwise_weight(op, "weight", weight, x.shape, x.dtype)
    pw = elementwise_weight(op, "pos_weight", pos_weight, x.shape, x.dtype)
    pos = x.data >= 0  # the two branches of max(x, 0) and -|x|, each with its gradient at 0
    tail = softplus(ad.where(pos, -x, x), threshold=math.inf)  # log(1 + e^-|x|)
    if pw is None:
        loss = ad.where(pos, x - x * y, -(x * y)) + tail
    else:  # x < 0: (1 - y) x - (1 + (pw - 1) y) x = -pw x y
        loss = ad.where(pos, x - x * y, -(x * y) * pw) + (y * (pw - 1) + 1) * tail
    return reduce_loss(loss if w is None else loss * w, reduction, op)


def elementwise_weight(op: str, name: str, weight: Any, shape: tuple[int, ...],
                       dtype: np.dtype) -> np.ndarray | None:
    """A loss's `weight` or `pos_weight` as a constant array in the input's dtype that
    broadcasts to `shape` without growing it (None stays None)."""
    if weight is None:
        return None
    w = _constant(op, name, weight)
    try:
        fits = np.broadcast_shapes(w.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{op}: {name} of shape {w.shape} does not broadcast to the input's "
                         f"shape {shape}")
    return w.astype(dtype)


def _constant(op: str, name: str, weight: Any) -> np.ndarray:
    """A loss's weights as an array, refusing a string (a reduction given where PyTorch puts
    weight) and a tensor that requires grad: loss weights are constants, as in PyTorch."""
    if isinstance(weight, str):
        raise TypeError(f"{op}: {name} must be an array of weights, got the string "
                        f"{weight!r}; reduction is a keyword argument: reduction={weight!r}")
    if isinstance(weight, Tensor) and weight.requires_grad and ad.is_grad_enabled():
        raise TypeError(f"{op}: {name} requires grad, but loss weights are constants (as in "
                        f"PyTorch); pass {name}.detach()")
    return np.asarray(weight.data if isinstance(weight, Tensor) else weight)


def class_weights(op: str, weight: Any, n_classes: int, dtype: np.dtype) -> np.ndarray | None:
    """`weight` (one per class, or None) as a constant array in the input's dtype. As in
    PyTorch, class weights get no gradient: one that requires grad is refused."""
    if weight is None:
        return None
    w = _constant(op, "weight", weight)
    if w.shape != (n_classes,):
        raise ValueError(f"{op}: weight must hold one weight per class, shape ({n_classes},), "
                         f"got shape {w.shape}")
    return w.astype(dtype)


def _labels(op: str, target: Any, n_classes: int, shape: tuple[int, ...],
            ignore_index: int) -> tuple[np.ndarray, np.ndarray]:
    """The integer labels (N, ...) checked against the input shape (N, C, ...) and the
    classes, and the mask of those that count (label != ignore_index); ignored labels read
    as class 0."""
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if t.dtype.kind == "f" and np.array_equal(t, np.round(t)):
        t = t.astype(np.int64)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: class labels must be integers, got dtype {t.dtype}")
    if t.shape != shape[:1] + shape[2:]:
        raise ValueError(f"{op}: target shape {t.shape} does not fit input shape {shape} "
                         "(expected the input shape without the class axis 1)")
    keep = t != ignore_index
    # Read as unsigned, a negative label is huge: the largest label finds every bad one.
    unsigned = t if t.dtype.kind == "u" else t.view(_UNSIGNED[t.dtype.itemsize])
    bad = keep & (unsigned >= n_classes)
    if bad.any():
        label = int(t[bad].flat[0])
        raise ValueError(f"{op}: label {label} is out of range for {n_classes} classes "
                         f"(labels must be in [0, {n_classes - 1}], or ignore_index="
                         f"{ignore_index})")
    return (t if keep.all() else np.where(keep, t, 0)), keep


def _one_hot(labels: np.ndarray, n_classes: int, dtype: np.dtype) -> np.ndarray:
    """One-hot rows of `labels` (N, ...) with the class axis at 1: (N, C, ...)."""
    onehot = _identity(n_classes, dtype).take(labels, axis=0)  # class axis last: move it to 1
    return onehot if labels.ndim == 1 else np.moveaxis(onehot, -1, 1)


def _on_class_axis(v: np.ndarray, ndim: int) -> np.ndarray:
    """A per-class vector (C,) shaped to broadcast along axis 1 of an (N, C, ...) array."""
    return v.reshape((-1,) + (1,) * (ndim - 2))


_UNSIGNED = {n: np.dtype(f"u{n}") for n in (1, 2, 4, 8)}


@functools.lru_cache(maxsize=16)
def _identity(n: int, dtype: np.dtype) -> np.ndarray:
    """The n x n identity, made once per size and dtype (read-only; rows are taken)."""
    eye = np.eye(n, dtype=dtype)
    eye.flags.writeable = False
    return eye


def _unbatched(op: str, input: Tensor, target: Any, reduction: str, loss: Any) -> Tensor:
    """An unbatched call, input (C,) and a 0-d label (or (C,) probabilities), as a batch of
    one: `loss(input[None], target[None], reduction)`, its "none" result 0-d again."""
    t = target if isinstance(target, Tensor) else np.asarray(target)
    if t.ndim not in (0, 1):
        raise ValueError(f"{op}: an unbatched input of shape {input.shape} takes a 0-d label "
                         f"or {input.shape} probabilities, got target shape {t.shape}")
    out = loss(input.reshape((1, -1)), t.reshape((1, *t.shape)), reduction)
    return out.reshape(()) if reduction == "none" else out


def nll_loss(input: Any, target: Any, weight: Any = None, *, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """-w[y] input[n, y] for each sample n with label y: the negative log-likelihood of
    log-probabilities (N, C, ...) (or (C,) with a 0-d label), as PyTorch's. `weight` gives
    each class a weight w (1 without it); a label equal to `ignore_index` contributes 0.
    "mean" divides the sum by the total weight of the labels that count, sum over n of
    w[y_n], not by their number (NaN when nothing counts, with a zero gradient, as PyTorch's).
    An ignored sample's log-probabilities play no part, -inf included.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> logp = ad.tensor([[-0.5, -1.0], [-2.0, -0.1]])
    >>> F.nll_loss(logp, [0, 1])
    tensor(0.3)
    >>> F.nll_loss(logp, [0, 1], weight=ad.tensor([3.0, 1.0]))  # (3 * 0.5 + 0.1) / 4
    tensor(0.4)
    >>> F.nll_loss(logp, [0, -100])
    tensor(0.5)
    """
    logp = as_tensor(input)
    if logp.ndim == 1:
        return _unbatched("nll_loss", logp, target, reduction, lambda x, t, r: nll_loss(
            x, t, weight, ignore_index=ignore_index, reduction=r))
    if logp.ndim < 2:
        raise ValueError(f"nll_loss: expected input of shape (N, C, ...) or (C,), got "
                         f"{logp.shape}")
    if reduction not in ("mean", "sum", "none"):
        reduce_loss(logp, reduction, "nll_loss")  # raises the error
    n_classes = logp.shape[1]
    labels, keep = _labels("nll_loss", target, n_classes, logp.shape, ignore_index)
    w = class_weights("nll_loss", weight, n_classes, logp.dtype)
    onehot = _one_hot(labels, n_classes, logp.dtype)
    if not keep.all():  # an ignored label picks nothing (not class 0, which may be -inf)
        onehot = onehot * np.expand_dims(keep, 1)
    # picked by where, not multiplied by the one-hot: 0 * -inf (a masked class) would be NaN
    picked = ad.where(onehot > 0, logp, 0).sum(axis=1)
    wy = (np.ones(labels.shape, logp.dtype) if w is None else w[labels]) * keep
    loss = -picked if w is None and keep.all() else -picked * wy
    if reduction != "mean":
        return reduce_loss(loss, reduction, "nll_loss")
    if w is None and keep.all():
        return loss.mean()
    total = wy.sum()
    if total == 0:  # nothing counts: NaN, as PyTorch's, with a zero gradient (not NaN)
        return loss.sum() * 0.0 + np.nan
    return loss.sum() / total


def cross_entropy(input: Any, target: Any, weight: Any = None, *, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits (N, C, ...) (or (C,)) with integer labels (N, ...) or
    class probabilities of the input's shape, as PyTorch's (its formulas in docs/nn.md).
    `label_smoothing` mixes in the uniform distribution; `weight` weighs each class;
    labels equal to `ignore_index` count for nothing, whatever their logits (probability
    targets take no ignore_index; a probability Tensor that requires grad gets its gradient).
    With labels, "mean" divides by the total weight of the labels that count (their number
    without weights; NaN with a zero gradient when that is 0); with probabilities, by the
    number of samples.
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
    >>> round(F.cross_entropy(z, [0, 2], weight=ad.tensor([1.0, 1.0, 3.0])).item(), 4)
    0.8838
    """
    logits = as_tensor(input)
    if logits.dtype.kind != "f":
        raise TypeError(f"cross_entropy: logits must be floating point, got dtype {logits.dtype} "
                        "(class labels go in target; convert the logits first: "
                        "logits.astype('float32'))")
    if logits.ndim == 1:
        return _unbatched("cross_entropy", logits, target, reduction, lambda x, t, r:
                          cross_entropy(x, t, weight, ignore_index=ignore_index, reduction=r,
                                        label_smoothing=label_smoothing))
    if logits.ndim < 2:
        raise ValueError(f"cross_entropy: expected logits of shape (N, C, ...) or (C,), got "
                         f"{logits.shape}")
    if logits.dtype == np.float16:  # computed in float32, returned in float16 (as PyTorch)
        loss = cross_entropy(ad.astype(logits, np.float32), target, weight,
                             ignore_index=ignore_index, reduction=reduction,
                             label_smoothing=label_smoothing)
        return ad.astype(loss, np.float16)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    if reduction not in ("mean", "sum", "none"):
        reduce_loss(logits, reduction, "cross_entropy")  # raises the error
    n_classes = logits.shape[1]
    w = class_weights("cross_entropy", weight, n_classes, logits.dtype)
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    label_shape = logits.shape[:1] + logits.shape[2:]
    if t.dtype.kind == "f" and t.shape == label_shape and np.array_equal(t, np.round(t)):
        t = t.astype(np.int64)  # labels written as a Python list become float32 tensors
    if t.dtype.kind == "f":
        if isinstance(target, Tensor) and target.requires_grad and ad.is_grad_enabled():
            t = target  # probabilities that require grad get their gradient, as in PyTorch
        probs = _probability_targets(t, logits, w, ignore_index, label_smoothing)
        return SoftmaxCrossEntropy.apply(logits, probs, reduction=reduction, labels=False)
    labels, keep = _labels("cross_entropy", t, n_classes, logits.shape, ignore_index)
    probs = _one_hot(labels, n_classes, logits.dtype)
    if w is None and keep.all():  # the common case: rows sum to 1, mean over the samples
        if label_smoothing:
            probs = probs * (1 - label_smoothing) + label_smoothing / n_classes
        return SoftmaxCrossEntropy.apply(logits, probs, reduction=reduction, labels=True)
    # q = (1 - eps) w_y onehot(y) + eps w_c / C on the labels that count, 0 elsewhere
    wy = (np.ones(labels.shape, logits.dtype) if w is None else w[labels]) * keep
    if not keep.all():  # an ignored sample's logits play no part (a row of -inf included)
        logits = ad.where(np.expand_dims(keep, 1), logits, 0.0)
    counted = _on_class_axis(np.ones(n_classes, logits.dtype) if w is None else w, probs.ndim)
    probs = probs * ((1 - label_smoothing) * np.expand_dims(wy, 1))
    if label_smoothing:
        probs = probs + counted * (label_smoothing / n_classes) * np.expand_dims(keep, 1)
    return SoftmaxCrossEntropy.apply(logits, probs, reduction=reduction, labels=False,
                                     count=wy.sum())


def _probability_targets(t: Any, logits: Tensor, w: np.ndarray | None,
                         ignore_index: int, label_smoothing: float) -> Any:
    """Class probabilities of the logits' shape, smoothed, times the class weights: an array,
    or a Tensor (recorded) when the target is one that requires grad."""
    if ignore_index >= 0:
        raise ValueError(f"cross_entropy: ignore_index={ignore_index} applies to class "
                         "labels, not to probability targets")
    if t.shape != logits.shape:
        raise ValueError(f"cross_entropy: probability targets must have the logits' shape "
                         f"{logits.shape}, got {t.shape}")
    probs = ad.astype(t, logits.dtype) if isinstance(t, Tensor) else t.astype(logits.dtype)
    if label_smoothing:
        probs = probs * (1 - label_smoothing) + label_smoothing / logits.shape[1]
    return probs if w is None else probs * _on_class_axis(w, probs.ndim)


class SoftmaxCrossEntropy(ad.Function):
    """-sum_c p_c log softmax(z)_c over the class axis 1 per sample, then reduced ("mean",
    "sum" or "none"), fused: forward logsumexp(z) sum_c p_c - sum_c p_c z_c, with p_c z_c
    taken as 0 where p_c = 0 (a masked logit z_c = -inf costs nothing when no target mass is
    on it), backward grad * (softmax(z) sum_c p_c - p), divided by the count for "mean":
    the number of samples (and positions), or `count` when given (the total weight of the
    labels that count). `labels` True says that p came from class labels (one-hot, smoothed
    or not), whose rows sum to 1: the backward is then softmax(z) - p. A p that requires grad
    (probabilities given as a Tensor) gets grad * -log softmax(z). The backward is written in
    operations arrays and Tensors share, so it can be differentiated again. When nothing
    counts (`count` 0) the "mean" is NaN and its gradient 0, as PyTorch's.

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
    def forward(ctx, logits, probs, *, reduction, labels, count=None):
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
        if count is None:
            count = logits.size // logits.shape[1]  # samples (and positions, N-D logits)
        # nothing counts (count 0): the mean is NaN (the forward's 0 / 0), its gradient 0 (as
        # PyTorch's: a batch of ignored labels leaves the weights alone)
        ctx.inv_count = np.divide(1.0, count or np.inf, dtype=logits.dtype)
        ctx.reduction, ctx.labels, ctx.count = reduction, labels, count
        if not labels:  # label rows sum to 1; other targets weigh logsumexp by their sum
            log_total = log_total * np.add.reduce(probs, axis=1, keepdims=True)
        axis = 1 if reduction == "none" else None
        loss = np.add.reduce(log_total, axis=axis) - _target_dot(shifted, probs, axis)
        with np.errstate(invalid="ignore", divide="ignore"):
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
            g = grad * ctx.inv_count if ctx.reduction == "mean" else grad
        g_probs = None
        if ctx.needs_input_grad[1]:  # d/dp_c = logsumexp(z) - z_c = -log softmax(z)_c
            g_probs = -(logits - ctx.shift - np.log(np.exp(logits - ctx.shift).sum(
                axis=1, keepdims=True))) * g
        if ctx.labels:  # one-hot rows (smoothed or not) sum to 1
            return (soft - probs) * g, g_probs
        return (soft * probs.sum(axis=1, keepdims=True) - probs) * g, g_probs


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


KL_MEAN_WARNING = ("reduction: 'mean' divides the total loss by both the batch size and the "
                   "support size.'batchmean' divides only by the batch size, and aligns with "
                   "the KL div math definition.'mean' will be changed to behave the same as "
                   "'batchmean' in the next major release.")


def kl_div(input: Any, target: Any, *, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL(target || model) elementwise, with `input` the model's log-probabilities, as
    PyTorch's: target * (log target - input), 0 where target = 0; with `log_target`, the
    target is given as log-probabilities too: exp(target) * (target - input).

    Reductions: "mean" (the default, PyTorch's) divides the sum by the number of elements and
    warns, with PyTorch's words, that "batchmean" (the sum divided by the batch size, axis 0)
    is the KL divergence; "sum", "none". The gradient in the target at target = 0 is -input
    (t log t taken as 0 with derivative 0, as `autodiff.scipy.special.xlogy`); PyTorch's is
    NaN there.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> logq = ad.log(ad.tensor([[0.5, 0.5]]))
    >>> p = ad.tensor([[0.75, 0.25]])
    >>> round(F.kl_div(logq, p, reduction="batchmean").item(), 5)
    0.13081
    >>> round(F.kl_div(logq, ad.log(p), reduction="sum", log_target=True).item(), 5)
    0.13081
    """
    x, t = as_tensor(input), as_tensor(target)
    same_shape("kl_div", x, t)
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError(f"kl_div: reduction must be 'mean', 'batchmean', 'sum' or 'none', "
                         f"got {reduction!r}")
    if log_target:
        loss = ad.exp(t) * (t - x)
    else:
        zero = t.data == 0
        with np.errstate(invalid="ignore", divide="ignore"):  # log of a negative target: NaN
            t_log_t = ad.where(zero, 0.0, t * ad.log(ad.where(zero, 1.0, t)))
        loss = t_log_t - t * x
    if reduction == "mean":
        warnings.warn(KL_MEAN_WARNING, UserWarning, stacklevel=2)
        return loss.mean()
    if reduction == "batchmean":
        if x.ndim == 0:
            raise ValueError("kl_div: reduction 'batchmean' divides by the batch size, axis 0, "
                             "which a 0-d input does not have")
        return loss.sum() / x.shape[0]
    return reduce_loss(loss, reduction, "kl_div")
