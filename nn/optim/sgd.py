"""SGD with momentum, dampening, Nesterov and weight decay (L2), as PyTorch's algorithm:

    g = grad + weight_decay * p
    b = g (first step), else momentum * b + (1 - dampening) * g
    g = g + momentum * b (nesterov), else b
    p = p - lr * g
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from nn.optim.optimizer import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent.

    >>> import autodiff as ad, nn
    >>> w = ad.tensor([1.0], requires_grad=True)
    >>> opt = nn.optim.SGD([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w.tolist()
    [0.8]
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 maximize: bool = False) -> None:
        if momentum < 0:
            raise ValueError(f"SGD: momentum must be >= 0, got {momentum}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov needs momentum > 0 and dampening 0")
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov,
                                  "maximize": maximize})

    def _update(self, p: np.ndarray, grad: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        g = grad
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        mu = group["momentum"]
        if mu:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, dtype=p.dtype, copy=True)
            else:
                buf *= mu
                buf += (1 - group["dampening"]) * g
            g = g + mu * buf if group["nesterov"] else buf
        p -= group["lr"] * g
