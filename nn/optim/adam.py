"""Adam, AdamW (decoupled weight decay) and their amsgrad variant, as PyTorch's algorithms:

    g = grad (+ weight_decay * p for Adam)        p = p * (1 - lr * weight_decay) (AdamW, and
                                                  Adam with decoupled_weight_decay=True)
    m = beta1 m + (1 - beta1) g                   v = beta2 v + (1 - beta2) g^2
    v_max = max(v_max, v) (amsgrad, used in place of v)
    p = p - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from nn._state import real_number
from nn.optim.optimizer import Optimizer, at_least, flag


class Adam(Optimizer):
    """Adaptive moment estimation.

    >>> import autodiff as ad, nn
    >>> w = ad.tensor([1.0], requires_grad=True)
    >>> opt = nn.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); round(w.item(), 6)
    0.9

    `decoupled_weight_decay=True` shrinks the weights by `lr * weight_decay` instead of adding
    `weight_decay * p` to the gradient: AdamW's rule, as PyTorch's keyword of that name.
    """

    later_options: ClassVar[dict[str, Any]] = {"decoupled_weight_decay": False}

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps,
                                  "weight_decay": weight_decay, "amsgrad": amsgrad,
                                  "maximize": maximize,
                                  "decoupled_weight_decay": decoupled_weight_decay})

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        check_betas(self, group)
        at_least(self, group, "eps", 0.0)
        flag(self, group, "amsgrad")
        flag(self, group, "decoupled_weight_decay")

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        amsgrad = ("max_exp_avg_sq",) if group["amsgrad"] else ()
        return ("step", "exp_avg", "exp_avg_sq", *amsgrad)

    def _update(self, p: np.ndarray, grad: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p)
            state["exp_avg_sq"] = np.zeros_like(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        g = grad
        if wd:
            if group["decoupled_weight_decay"]:
                p *= 1 - lr * wd
            else:
                g = g + wd * p
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        bias1 = 1 - b1 ** t
        bias2 = 1 - b2 ** t
        denom = np.sqrt(v) / math.sqrt(bias2) + eps
        p -= (lr / bias1) * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.01, as PyTorch).

    >>> import autodiff as ad, nn
    >>> w = ad.tensor([1.0], requires_grad=True)
    >>> opt = nn.optim.AdamW([w], lr=0.1, weight_decay=0.01)
    >>> (w * w).sum().backward(); opt.step()
    >>> round(w.item(), 4)
    0.899
    """

    later_options: ClassVar[dict[str, Any]] = {"decoupled_weight_decay": True}

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, maximize: bool = False
                 ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize,
                         decoupled_weight_decay=True)

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        if group.get("decoupled_weight_decay") is False:
            raise ValueError("AdamW: decoupled_weight_decay is always True (the W in AdamW); "
                             "for weight decay added to the gradient use Adam")


def check_betas(owner: Optimizer, group: dict[str, Any]) -> None:
    """The group's betas: two finite numbers in [0, 1), or ValueError.

    >>> import autodiff as ad, nn
    >>> nn.optim.NAdam([ad.ones(1, requires_grad=True)], betas=(0.9, 1.0))
    Traceback (most recent call last):
    ...
    ValueError: NAdam: betas must be two numbers in [0, 1), got (0.9, 1.0)
    """
    betas = group["betas"]
    if not (isinstance(betas, tuple | list) and len(betas) == 2
            and all(real_number(b) and 0.0 <= b < 1.0 for b in betas)):
        raise ValueError(f"{type(owner).__name__}: betas must be two numbers in [0, 1), got "
                         f"{betas!r}")
