"""RMSprop and Adagrad, as PyTorch's algorithms.

RMSprop: v = alpha v + (1 - alpha) g^2; centered: a = alpha a + (1 - alpha) g and
v~ = v - a^2; with momentum b = mu b + g / (sqrt(v~) + eps), p = p - lr b; else
p = p - lr g / (sqrt(v~) + eps).
Adagrad: clr = lr / (1 + (t - 1) lr_decay); s = s + g^2; p = p - clr g / (sqrt(s) + eps).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from nn.optim.optimizer import Optimizer


class RMSprop(Optimizer):
    """Divide the gradient by a running root mean square of recent gradients."""

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


class Adagrad(Optimizer):
    """Per-coordinate learning rates from the sum of squared gradients."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, maximize: bool = False) -> None:
        if lr_decay < 0 or initial_accumulator_value < 0 or eps < 0:
            raise ValueError("Adagrad: lr_decay, initial_accumulator_value and eps must be >= 0")
        super().__init__(params, {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
                                  "initial_accumulator_value": initial_accumulator_value,
                                  "eps": eps, "maximize": maximize})

    def _update(self, p: np.ndarray, grad: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(p, group["initial_accumulator_value"])
        state["step"] += 1
        g = grad + group["weight_decay"] * p if group["weight_decay"] else grad
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        s = state["sum"]
        s += g * g
        p -= clr * g / (np.sqrt(s) + group["eps"])
