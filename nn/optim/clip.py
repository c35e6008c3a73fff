"""Gradient clipping, in place.

>>> import autodiff as ad, nn
>>> w = ad.tensor([3.0, 4.0], requires_grad=True)
>>> w.grad = ad.tensor([3.0, 4.0])
>>> nn.optim.clip_grad_norm_([w], max_norm=1.0)
5.0
>>> [round(v, 4) for v in w.grad.tolist()]
[0.6, 0.8]
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

import autodiff as ad
from autodiff import Tensor
from nn._state import real_number


def clip_grad_norm_(params: Iterable[Tensor] | Tensor, max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> float:
    """Scale all gradients together so their joint norm is at most max_norm; returns the norm
    before clipping: (sum |g|^norm_type)^(1 / norm_type) over every element of every gradient,
    or max |g| for norm_type inf. A norm_type <= 0 (not a norm) and a max_norm < 0 or NaN raise
    ValueError. A NaN or infinite norm scales every gradient by max_norm / norm, as PyTorch
    does (NaN everywhere, or 0 and NaN), so the next step shows it; `error_if_nonfinite=True`
    raises instead.

    >>> import autodiff as ad, nn
    >>> w = ad.tensor([3.0, 4.0], requires_grad=True)
    >>> (w * w).sum().backward()
    >>> nn.optim.clip_grad_norm_([w], max_norm=1.0)
    10.0
    >>> w.grad
    tensor([0.5999999, 0.7999999])
    """
    _check_limit("clip_grad_norm_", "max_norm", max_norm)
    if not ((real_number(norm_type) and norm_type > 0) or norm_type == float("inf")):
        raise ValueError(f"clip_grad_norm_: norm_type must be a number > 0 or inf, got "
                         f"{norm_type!r} (PyTorch takes 0, negative orders and -inf, which "
                         "are not norms: 0 counts the parameters with a nonzero gradient)")
    ps = [params] if isinstance(params, Tensor) else list(params)
    grads = [p.grad.data for p in ps if p.grad is not None]
    if not grads:
        return 0.0
    if norm_type == float("inf"):
        # np.max, not max(): a NaN must win whatever its place; an empty gradient adds nothing
        total = float(np.max([np.abs(g).max(initial=0.0) for g in grads]))
    else:
        total = float(sum((np.abs(g.astype(np.float64)) ** norm_type).sum() for g in grads)
                      ** (1.0 / norm_type))
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           f"gradients of {len(grads)} parameters is {total}, so they cannot "
                           "be clipped (error_if_nonfinite=True; with False they are scaled "
                           "by max_norm / norm, as PyTorch does)")
    coef = max_norm / (total + 1e-6)  # 0 for an infinite norm, NaN for a NaN one
    if not coef >= 1:  # a NaN coefficient too: the gradients become NaN, as PyTorch's
        with np.errstate(invalid="ignore"):  # inf * 0: the NaN PyTorch gives too
            for g in grads:
                g *= coef
        for p in ps:
            if p.grad is not None:
                ad.increment_version(p.grad)
    return total


def _check_limit(name: str, arg: str, value: float) -> None:
    """A clipping limit: a number >= 0 (inf: no clipping), or ValueError. PyTorch takes a
    negative one, which flips the sign of every clipped gradient, and NaN, which makes them
    NaN."""
    if not ((real_number(value) and value >= 0) or value == float("inf")):
        raise ValueError(f"{name}: {arg} must be a number >= 0 (or inf), got {value!r}")


def clip_grad_value_(params: Iterable[Tensor] | Tensor, clip_value: float) -> None:
    """Clip every gradient element to [-clip_value, clip_value].

    >>> import autodiff as ad, nn
    >>> w = ad.tensor([3.0, -0.5], requires_grad=True)
    >>> (w * w).sum().backward()
    >>> nn.optim.clip_grad_value_([w], 1.0)
    >>> w.grad
    tensor([ 1., -1.])
    """
    _check_limit("clip_grad_value_", "clip_value", clip_value)
    ps = [params] if isinstance(params, Tensor) else list(params)
    for p in ps:
        if p.grad is not None:
            np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)
            ad.increment_version(p.grad)
