"""The course's own variants, as the course writes them (its names: beta, v, lambd, m).

Gradient descent with momentum, an exponentially weighted average of the gradients from
v = 0:

    v = beta v + (1 - beta) dW          W = W - learning_rate * v

PyTorch's SGD momentum sums instead (b = beta b + dW, b_1 = dW): the two are the same run when
SGD's learning rate is (1 - beta) times the course's, `SGD(lr=(1 - beta) * lr, momentum=beta)`,
since then v_t = (1 - beta) b_t at every step. `SGD(lr=lr, momentum=beta, dampening=beta)`
averages too but starts from b_1 = dW instead of (1 - beta) dW: it is beta^t dW_1 ahead at
step t (for the same gradients), a gap that fades.

L2 regularization with the course's lambda: the cost gets (lambd / (2 m)) sum_l ||W_l||^2 over
the weight matrices only, not the biases, so each dW gets + (lambd / m) W. That is weight decay
lambd / m on the weights alone: `l2_groups` makes those two parameter groups for any optimizer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from autodiff import Tensor
from nn._state import real_number
from nn.optim.optimizer import Optimizer


class MomentumGD(Optimizer):
    """Gradient descent with momentum as the course writes it: v = beta v + (1 - beta) dW,
    W = W - lr v, v starting at 0 (with `weight_decay`, dW includes + weight_decay W first).

    >>> import autodiff as ad, nn
    >>> w = ad.tensor([1.0], requires_grad=True)
    >>> opt = nn.optim.MomentumGD([w], lr=0.1, beta=0.9)
    >>> (w * w).sum().backward(); opt.step()
    >>> round(w.item(), 6)  # v = 0.1 * 2, W = 1 - 0.1 * 0.2
    0.98
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, beta: float = 0.9,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, {"lr": lr, "beta": beta, "weight_decay": weight_decay})

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        if not (real_number(group["beta"]) and 0.0 <= group["beta"] < 1.0):
            raise ValueError(f"MomentumGD: beta must be a number in [0, 1), got "
                             f"{group['beta']!r}")

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("v",)

    def _update(self, p: np.ndarray, grad: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        beta = group["beta"]
        g = grad + group["weight_decay"] * p if group["weight_decay"] else grad
        v = state.get("v")
        if v is None:
            v = state["v"] = np.zeros_like(p)
        v *= beta
        v += (1 - beta) * g
        p -= group["lr"] * v


def l2_groups(params: Iterable[Tensor], lambd: float, m: int) -> list[dict[str, Any]]:
    """The course's L2 regularization as two parameter groups: the weights (parameters of two
    or more axes: every layer's W, convolution kernels) with weight_decay = lambd / m, the
    biases (and other one-axis parameters, as normalization scales) with none. `m` is the
    number of training examples the cost averages over.

    >>> import nn
    >>> model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    >>> groups = nn.optim.l2_groups(model.parameters(), lambd=0.7, m=100)
    >>> [(len(g["params"]), g["weight_decay"]) for g in groups]
    [(2, 0.007), (2, 0.0)]
    >>> opt = nn.optim.MomentumGD(groups, lr=0.1, beta=0.9)
    """
    if not (real_number(lambd) and lambd >= 0):
        raise ValueError(f"l2_groups: lambd must be a number >= 0, got {lambd!r}")
    if not (isinstance(m, int | np.integer) and not isinstance(m, bool) and m >= 1):
        raise ValueError(f"l2_groups: m (the number of examples) must be an integer >= 1, got "
                         f"{m!r}")
    params = list(params)
    weights = [p for p in params if p.ndim >= 2]
    others = [p for p in params if p.ndim < 2]
    return [g for g in ({"params": weights, "weight_decay": lambd / m},
                        {"params": others, "weight_decay": 0.0}) if g["params"]]

