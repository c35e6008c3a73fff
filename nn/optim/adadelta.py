"""Adadelta, as PyTorch's algorithm:

    g = grad (+ weight_decay * p)
    v = rho v + (1 - rho) g^2                       (square_avg)
    delta = sqrt(u + eps) / sqrt(v + eps) * g       (u: acc_delta, before this step's update)
    u = rho u + (1 - rho) delta^2
    p = p - lr * delta
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from nn._state import real_number
from nn.optim.optimizer import Optimizer, at_least


class Adadelta(Optimizer):
    """Steps scaled by the ratio of running root mean squares of past updates and gradients.

    >>> import autodiff as ad, nn
    >>> w = ad.tensor([1.0], requires_grad=True)
    >>> opt = nn.optim.Adadelta([w])
    >>> (w * w).sum().backward(); opt.step()
    >>> round(w.item(), 6)  # 1 - sqrt(1e-6) / sqrt(0.1 * 4 + 1e-6) * 2
    0.996838
    """

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0.0, maximize: bool = False) -> None:
        super().__init__(params, {"lr": lr, "rho": rho, "eps": eps,
                                  "weight_decay": weight_decay, "maximize": maximize})

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        if not (real_number(group["rho"]) and 0.0 <= group["rho"] <= 1.0):
            raise ValueError(f"Adadelta: rho must be in [0, 1], got {group['rho']!r}")
        at_least(self, group, "eps", 0.0)

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "square_avg", "acc_delta")

    def _update(self, p: np.ndarray, grad: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        rho, eps = group["rho"], group["eps"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p)
            state["acc_delta"] = np.zeros_like(p)
        state["step"] += 1
        g = grad + group["weight_decay"] * p if group["weight_decay"] else grad
        v, u = state["square_avg"], state["acc_delta"]
        v *= rho
        v += (1 - rho) * g * g
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u *= rho
        u += (1 - rho) * delta * delta
        p -= group["lr"] * delta
