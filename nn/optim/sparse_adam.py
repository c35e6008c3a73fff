"""SparseAdam: Adam on the rows a batch touched, as PyTorch's `torch.optim.SparseAdam`.

PyTorch's runs on the sparse gradients of `nn.Embedding(sparse=True)` / `EmbeddingBag`: only the
rows the gradient holds (the indices the batch looked up) move, and only their moments decay.
This library has no sparse tensors (`sparse=True` is refused; every gradient is dense, zero in the
rows no index touched), so the rows taken are those whose gradient row (along axis 0) has a
non-zero value. On an embedding that is the rows the batch looked up, padding_idx aside (PyTorch
leaves its row out of the sparse gradient too); the one difference is a looked-up row whose
gradient is exactly zero in every column, which PyTorch steps (its moments decay, the row moves
by its momentum) and this skips. With t the parameter's step count (every step it has a
gradient, touched rows or not), for each taken row:

    m = m + (1 - beta1) (g - m)          v = v + (1 - beta2) (g^2 - v)
    p = p - lr sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps)

(eps outside the bias correction, unlike Adam's).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from nn.optim.adam import check_betas
from nn.optim.optimizer import Optimizer, at_least


class SparseAdam(Optimizer):
    """Adam that moves only the rows (along axis 0) whose gradient is non-zero: the rows an
    embedding looked up. Meant for `nn.Embedding` and `nn.EmbeddingBag` weights.

    >>> import autodiff as ad, nn
    >>> emb = nn.Embedding(4, 2)
    >>> opt = nn.optim.SparseAdam(emb.parameters(), lr=0.1)
    >>> before = emb.weight.data.copy()
    >>> emb(ad.tensor([1, 3])).sum().backward(); opt.step()
    >>> (emb.weight.data != before).any(axis=1).tolist()  # rows 0 and 2: untouched
    [False, True, False, True]
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 maximize: bool = False) -> None:
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps,
                                  "maximize": maximize})

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        check_betas(self, group)
        at_least(self, group, "eps", 0.0)
        for key in ("lr", "eps"):  # > 0, as PyTorch's
            if group[key] <= 0:
                raise ValueError(f"SparseAdam: {key} must be > 0 (a finite number), got "
                                 f"{group[key]!r}")

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "exp_avg", "exp_avg_sq")

    def _update(self, p: np.ndarray, grad: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(p), exp_avg_sq=np.zeros_like(p))
        state["step"] += 1
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        if p.ndim == 0:  # one row: views of shape (1,), written through
            p, grad, m, v = (a.reshape(1) for a in (p, grad, m, v))
        rows = touched_rows(grad)
        if rows.size == 0:
            return
        g, m_old, v_old = grad[rows], m[rows], v[rows]
        m_step = (g - m_old) * (1 - b1)
        v_step = (g * g - v_old) * (1 - b2)
        m[rows] = m_old + m_step
        v[rows] = v_old + v_step
        step_size = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        p[rows] += -step_size * ((m_step + m_old) / (np.sqrt(v_step + v_old) + eps))


def touched_rows(grad: np.ndarray) -> np.ndarray:
    """The indices along axis 0 of the rows of `grad` (one axis or more) holding a non-zero
    (or NaN) value.

    >>> import numpy as np
    >>> touched_rows(np.array([[0.0, 0.0], [0.0, 2.0], [0.0, 0.0], [-1.0, 0.0]]))
    array([1, 3])
    """
    if grad.size == 0:
        return np.empty(0, np.intp)
    return np.flatnonzero((grad != 0).reshape(grad.shape[0], -1).any(axis=1))
