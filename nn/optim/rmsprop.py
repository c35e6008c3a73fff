"""RMSprop, as PyTorch's algorithm:

v = alpha v + (1 - alpha) g^2; centered: a = alpha a + (1 - alpha) g and
v~ = v - a^2; with momentum b = mu b + g / (sqrt(v~) + eps), p = p - lr b; else
p = p - lr g / (sqrt(v~) + eps).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from nn._state import real_number
from nn.optim.optimizer import Optimizer, at_least, flag


class RMSprop(Optimizer):
    """Divide the gradient by a running root mean square of recent gradients.

    >>> import autodiff as ad, nn
    >>> w = ad.tensor([1.0], requires_grad=True)
    >>> opt = nn.optim.RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward(); opt.step()
    >>> round(w.item(), 4)
    0.9
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, maximize: bool = False) -> None:
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps,
                                  "weight_decay": weight_decay, "momentum": momentum,
                                  "centered": centered, "maximize": maximize})

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        if not (real_number(group["alpha"]) and 0.0 <= group["alpha"] <= 1.0):
            raise ValueError(f"RMSprop: alpha must be in [0, 1], got {group['alpha']!r}")
        at_least(self, group, "momentum", 0.0)
        at_least(self, group, "eps", 0.0)
        flag(self, group, "centered")

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        momentum = ("momentum_buffer",) if group["momentum"] else ()
        centered = ("grad_avg",) if group["centered"] else ()
        return ("step", "square_avg", *momentum, *centered)

    def _update(self, p: np.ndarray, grad: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        alpha, eps, mu = group["alpha"], group["eps"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p)
            if mu:
                state["momentum_buffer"] = np.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(p)
        state["step"] += 1
        g = grad + group["weight_decay"] * p if group["weight_decay"] else grad
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * g * g
        if group["centered"]:
            a = state["grad_avg"]
            a *= alpha
            a += (1 - alpha) * g
            avg = np.sqrt(v - a * a) + eps
        else:
            avg = np.sqrt(v) + eps
        if mu:
            b = state["momentum_buffer"]
            b *= mu
            b += g / avg
            p -= group["lr"] * b
        else:
            p -= group["lr"] * g / avg

