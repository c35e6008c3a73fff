"""ASGD (averaged stochastic gradient descent), as PyTorch's algorithm: SGD with a decaying
rate eta and a weight decay lambd * eta, and a running average ax of the iterates that starts
at step t0 (ax is what one evaluates; the parameters keep the SGD iterates):

    g = grad (+ weight_decay * p)
    p = p * (1 - lambd * eta) - eta * g
    ax = p if mu == 1, else ax + mu * (p - ax)
    eta = lr / (1 + lambd * lr * t) ** alpha;   mu = 1 / max(1, t - t0)     (t: the step)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from nn.optim.optimizer import Optimizer, at_least


class ASGD(Optimizer):
    """Averaged SGD: `state[...]["ax"]` is the average of the iterates from step t0 on.

    >>> import autodiff as ad, nn
    >>> w = ad.tensor([1.0], requires_grad=True)
    >>> opt = nn.optim.ASGD([w], lr=0.1, lambd=0.0)
    >>> (w * w).sum().backward(); opt.step(); w.tolist()
    [0.8]
    """

    scalar_state = ("step", "eta", "mu")

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0.0,
                 maximize: bool = False) -> None:
        super().__init__(params, {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                                  "weight_decay": weight_decay, "maximize": maximize})

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        for key in ("lambd", "alpha", "t0"):
            at_least(self, group, key, 0.0)

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "eta", "mu", "ax")

    def _update(self, p: np.ndarray, grad: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        lr, lambd = group["lr"], group["lambd"]
        if not state:
            state.update(step=0, eta=float(lr), mu=1.0, ax=np.zeros_like(p))
        state["step"] += 1
        t = state["step"]
        g = grad + group["weight_decay"] * p if group["weight_decay"] else grad
        eta = state["eta"]
        p *= 1 - lambd * eta
        p -= eta * g
        ax = state["ax"]
        if state["mu"] != 1:
            ax += state["mu"] * (p - ax)
        else:
            ax[...] = p
        state["eta"] = lr / (1 + lambd * lr * t) ** group["alpha"]
        state["mu"] = 1 / max(1, t - group["t0"])
