"""Margin (hinge) losses of classifiers and embeddings, as PyTorch's: soft_margin_loss and
multilabel_soft_margin_loss (logistic losses of labels +-1 and 0/1), hinge_embedding_loss,
multi_margin_loss (one label per sample) and multilabel_margin_loss (several). Where PyTorch's
kernels test `z > 0` the hinge's gradient at z = 0 is 0, as theirs. Labels are constants.

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.multi_margin_loss(ad.tensor([[0.1, 0.2, 0.4, 0.8]]), [3])  # (0.3 + 0.4 + 0.6) / 4
tensor(0.325)
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor
from nn.functional.activation import logsigmoid, softplus
from nn.functional.loss import (
    _one_hot,
    as_tensor,
    class_weights,
    elementwise_weight,
    reduce_loss,
    same_shape,
)


def soft_margin_loss(input: Any, target: Any, *, reduction: str = "mean") -> Tensor:
    """log(1 + exp(-y x)) elementwise for labels y = +-1, reduced. Computed as softplus(-y x),
    so it stays finite where PyTorch's log1p(exp(.)) overflows (-y x > 709 in float64).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> round(F.soft_margin_loss(ad.tensor([0.0, 2.0]), ad.tensor([1.0, -1.0])).item(), 4)
    1.41
    """
    x, y = as_tensor(input), as_tensor(target)
    same_shape("soft_margin_loss", x, y)
    return reduce_loss(softplus(-(y * x), threshold=np.inf), reduction, "soft_margin_loss")


def multilabel_soft_margin_loss(input: Any, target: Any, weight: Any = None, *,
                                reduction: str = "mean") -> Tensor:
    """-(y log sigmoid(x) + (1 - y) log sigmoid(-x)) for 0/1 targets y of the input's shape
    (N, C) or (C,), times `weight` (broadcast to the input, a constant), then the mean over
    the classes (last axis): one loss per sample, reduced.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> round(F.multilabel_soft_margin_loss(ad.tensor([[0.0, 0.0]]), ad.tensor([[1.0, 0.0]])
    ...                                     ).item(), 4)  # log 2
    0.6931
    """
    op = "multilabel_soft_margin_loss"
    x, y = as_tensor(input), as_tensor(target)
    same_shape(op, x, y)
    if x.ndim == 0:
        raise ValueError(f"{op}: expected input of shape (N, C) or (C,), got a 0-d input")
    loss = -(y * logsigmoid(x) + (1 - y) * logsigmoid(-x))
    w = elementwise_weight(op, "weight", weight, x.shape, x.dtype)
    loss = (loss if w is None else loss * w).sum(axis=-1) / x.shape[-1]
    return reduce_loss(loss, reduction, op)


def hinge_embedding_loss(input: Any, target: Any, margin: float = 1.0, *,
                         reduction: str = "mean") -> Tensor:
    """x where y = 1, max(0, margin - x) where y = -1, elementwise (x a distance, y says
    whether the pair is alike). A label other than 1 or -1 is an error (PyTorch adds both
    terms for it).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.hinge_embedding_loss(ad.tensor([0.3, 0.3, 2.0]), ad.tensor([1.0, -1.0, -1.0]),
    ...                        reduction="none")
    tensor([0.3, 0.7, 0. ])
    """
    op = "hinge_embedding_loss"
    x = as_tensor(input)
    y = np.asarray(target.data if isinstance(target, Tensor) else target)
    if y.shape != x.shape:
        raise ValueError(f"{op}: input shape {x.shape} and target shape {y.shape} differ")
    if not np.isin(y, (1, -1)).all():
        raise ValueError(f"{op}: target values must be 1 (alike) or -1 (unlike), got "
                         f"{np.unique(y[~np.isin(y, (1, -1))]).tolist()}")
    u = margin - x  # max(0, u) by clamp_min: its gradient passes at u = 0
    return reduce_loss(ad.where(y == 1, x, ad.where(u.data >= 0, u, 0.0)), reduction, op)


def _strict_hinge(z: Tensor, keep: np.ndarray) -> Tensor:
    """z where z > 0 and `keep`, else 0: PyTorch's `if (z > 0)`, no gradient at z = 0."""
    return ad.where(keep & (z.data > 0), z, 0.0)


def multi_margin_loss(input: Any, target: Any, p: int = 1, margin: float = 1.0,
                      weight: Any = None, *, reduction: str = "mean") -> Tensor:
    """For scores x (N, C) (or (C,) with a 0-d label) and labels y: the sum over classes
    i != y of w[y] max(0, margin - x[y] + x[i])^p, divided by C; p is 1 or 2, `weight` w
    one per class (1 without it), a constant.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.multi_margin_loss(ad.tensor([[0.1, 0.2, 0.4, 0.8]]), [3], p=2)  # (.09 + .16 + .36) / 4
    tensor(0.1525)
    """
    op = "multi_margin_loss"
    x = as_tensor(input)
    if p not in (1, 2):
        raise ValueError(f"{op}: p must be 1 or 2, got {p!r}")
    if x.ndim == 1:
        t = np.asarray(target.data if isinstance(target, Tensor) else target)
        out = multi_margin_loss(x.reshape((1, -1)), t.reshape((1, *t.shape)), p, margin,
                                weight, reduction=reduction)
        return out.reshape(()) if reduction == "none" else out
    if x.ndim != 2:
        raise ValueError(f"{op}: expected input of shape (N, C) or (C,), got {x.shape}")
    n_classes = x.shape[1]
    labels = _class_labels(op, target, x.shape)
    onehot = _one_hot(labels, n_classes, x.dtype) > 0
    picked = ad.where(onehot, x, 0.0).sum(axis=1, keepdims=True)  # x[n, y_n]
    h = _strict_hinge(margin - picked + x, ~onehot)
    h = h if p == 1 else h * h
    w = class_weights(op, weight, n_classes, x.dtype)
    loss = (h if w is None else h * w[labels][:, None]).sum(axis=1) / n_classes
    return reduce_loss(loss, reduction, op)


def _class_labels(op: str, target: Any, shape: tuple[int, int]) -> np.ndarray:
    """Integer labels (N,) for scores (N, C), each in [0, C) (no ignore_index here); whole
    floats (a Python list made into a float32 Tensor) are taken as labels, as cross_entropy's."""
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if t.dtype.kind == "f" and np.array_equal(t, np.round(t)):
        t = t.astype(np.int64)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: class labels must be integers, got dtype {t.dtype}")
    if t.shape != shape[:1]:
        raise ValueError(f"{op}: target shape {t.shape} does not fit input shape {shape} "
                         f"(expected ({shape[0]},))")
    bad = (t < 0) | (t >= shape[1])
    if bad.any():
        raise ValueError(f"{op}: label {int(t[bad][0])} is out of range for {shape[1]} classes "
                         f"(labels must be in [0, {shape[1] - 1}])")
    return t


def multilabel_margin_loss(input: Any, target: Any, *, reduction: str = "mean") -> Tensor:
    """For scores x (N, C) (or (C,)) and targets of the same shape holding each sample's
    classes, ended by the first -1 (the rest is ignored): the sum over its classes j and the
    other classes i of max(0, 1 - (x[j] - x[i])), divided by C, as PyTorch's (a class listed
    twice counts twice).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.multilabel_margin_loss(ad.tensor([[0.1, 0.2, 0.4, 0.8]]), [[3, 0, -1, 1]])
    tensor(0.85)
    """
    op = "multilabel_margin_loss"
    x = as_tensor(input)
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if x.ndim not in (1, 2) or t.shape != x.shape:
        raise ValueError(f"{op}: expected input (N, C) or (C,) and a target of its shape, got "
                         f"{x.shape} and {t.shape}")
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices, got dtype {t.dtype}")
    if x.ndim == 1:
        out = multilabel_margin_loss(x.reshape((1, -1)), t.reshape((1, -1)),
                                     reduction=reduction)
        return out.reshape(()) if reduction == "none" else out
    n_classes = x.shape[1]
    listed = np.cumprod(t >= 0, axis=1).astype(bool)  # the classes before the first -1
    if ((t[listed] >= n_classes) | (t[listed] < -1)).any() or (t < -1).any():
        bad = t[(listed & (t >= n_classes)) | (t < -1)]
        raise ValueError(f"{op}: target {int(bad.flat[0])} is out of range for {n_classes} "
                         f"classes (must be in [0, {n_classes - 1}], or -1 to end the list)")
    counts = np.zeros(x.shape, x.dtype)  # how often each class is listed
    rows = np.broadcast_to(np.arange(x.shape[0])[:, None], t.shape)
    np.add.at(counts, (rows[listed], t[listed]), 1)
    z = 1 - x[:, :, None] + x[:, None, :]  # z[n, j, i] = 1 - x[n, j] + x[n, i]
    h = _strict_hinge(z, (counts[:, :, None] > 0) & (counts[:, None, :] == 0))
    loss = (h * counts[:, :, None]).sum(axis=(1, 2)) / n_classes
    return reduce_loss(loss, reduction, op)
