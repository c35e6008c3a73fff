"""RMSprop, as PyTorch's algorithm:

v = alpha v + (1 - alpha) g^2; centered: a = alpha a + (1 - alpha) g and
v~ = v - a^2; with momentum b = mu b + g / (sqrt(v~) + eps), p = p - lr b; else
p = p - lr g / (sqrt(v~) + eps).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from nn.optim.optimizer import Optimizer


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
        if not 0.0 <= alpha <= 1.0 or momentum < 0 or eps < 0:
            raise ValueError(f"RMSprop: need 0 <= alpha <= 1, momentum >= 0, eps >= 0; got "
                             f"alpha={alpha}, momentum={momentum}, eps={eps}")
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps,
                                  "weight_decay": weight_decay, "momentum": momentum,
                                  "centered": centered, "maximize": maximize})

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

