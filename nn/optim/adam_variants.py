"""Adamax, NAdam and RAdam: Adam's moments used another way, as PyTorch's algorithms.

With g = grad (+ weight_decay * p; NAdam and RAdam with decoupled_weight_decay instead
multiply p by 1 - lr * weight_decay), t the step, m = beta1 m + (1 - beta1) g and
v = beta2 v + (1 - beta2) g^2 (each updated in place, from zero):

    Adamax  u = max(beta2 u, |g| + eps);        p = p - lr / (1 - beta1^t) * m / u
    NAdam   mu_t = beta1 (1 - 0.5 * 0.96^(t momentum_decay)),  P_t = mu_1 ... mu_t
            p = p - lr [(1 - mu_t) g / (1 - P_t) + mu_(t+1) m / (1 - P_(t+1))]
                  / (sqrt(v / (1 - beta2^t)) + eps)
    RAdam   rho_inf = 2 / (1 - beta2) - 1,  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
            rho_t > 5: p = p - lr m / (1 - beta1^t) * r_t sqrt(1 - beta2^t) / (sqrt(v) + eps)
                       with r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf
                                       / ((rho_inf - 4)(rho_inf - 2) rho_t))
            else:      p = p - lr m / (1 - beta1^t)     (momentum SGD while v is unreliable)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from nn.optim.adam import check_betas
from nn.optim.optimizer import Optimizer, at_least, flag


def _moments(state: dict[str, Any], p: np.ndarray, names: tuple[str, ...]) -> int:
    """Start the state at zero on the first step; count the step; return it."""
    if not state:
        state["step"] = 0
        for name in names:
            state[name] = np.zeros_like(p)
    state["step"] += 1
    return state["step"]


def _decayed(p: np.ndarray, grad: np.ndarray, group: dict[str, Any]) -> np.ndarray:
    """The gradient with L2 weight decay added, or (decoupled) p shrunk in place."""
    wd = group["weight_decay"]
    if not wd:
        return grad
    if group.get("decoupled_weight_decay", False):
        p *= 1 - group["lr"] * wd
        return grad
    return grad + wd * p


class _AdamLike(Optimizer):
    """The checks Adamax, NAdam and RAdam share: lr, betas, eps, weight decay, flags."""

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        check_betas(self, group)
        at_least(self, group, "eps", 0.0)
        flag(self, group, "decoupled_weight_decay")


class Adamax(_AdamLike):
    """Adam with the infinity norm: the step divides by a decaying maximum of |g|.

    >>> import autodiff as ad, nn
    >>> w = ad.tensor([1.0], requires_grad=True)
    >>> opt = nn.optim.Adamax([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> round(w.item(), 6)
    0.9
    """

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, maximize: bool = False) -> None:
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps,
                                  "weight_decay": weight_decay, "maximize": maximize})

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "exp_avg", "exp_inf")

    def _update(self, p: np.ndarray, grad: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        (b1, b2), eps = group["betas"], group["eps"]
        t = _moments(state, p, ("exp_avg", "exp_inf"))
        g = _decayed(p, grad, group)
        m, u = state["exp_avg"], state["exp_inf"]
        m += (1 - b1) * (g - m)
        u *= b2
        np.maximum(u, np.abs(g) + eps, out=u)
        p -= group["lr"] / (1 - b1 ** t) * m / u


class NAdam(_AdamLike):
    """Adam with Nesterov momentum (Dozat), its momentum warmed up by `momentum_decay`;
    `decoupled_weight_decay=True` decays the weights as AdamW does (NAdamW).

    >>> import autodiff as ad, nn
    >>> w = ad.tensor([1.0], requires_grad=True)
    >>> opt = nn.optim.NAdam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> round(w.item(), 6)
    0.894355
    """

    scalar_state = ("step", "mu_product")

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, maximize: bool = False) -> None:
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps,
                                  "weight_decay": weight_decay, "momentum_decay": momentum_decay,
                                  "decoupled_weight_decay": decoupled_weight_decay,
                                  "maximize": maximize})

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        at_least(self, group, "momentum_decay", 0.0)

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "mu_product", "exp_avg", "exp_avg_sq")

    def _update(self, p: np.ndarray, grad: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        lr, (b1, b2), eps, psi = (group["lr"], group["betas"], group["eps"],
                                  group["momentum_decay"])
        t = _moments(state, p, ("exp_avg", "exp_avg_sq"))
        state.setdefault("mu_product", 1.0)
        g = _decayed(p, grad, group)
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        state["mu_product"] *= mu
        product = state["mu_product"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1 - b1) * (g - m)
        v *= b2
        v += (1 - b2) * g * g
        denom = np.sqrt(v / (1 - b2 ** t)) + eps
        p -= lr * (1.0 - mu) / (1.0 - product) * g / denom
        p -= lr * mu_next / (1.0 - product * mu_next) * m / denom


class RAdam(_AdamLike):
    """Rectified Adam: momentum SGD for the first steps, then Adam with its adaptive step
    scaled by r_t, which corrects the variance of the early estimates of v.

    >>> import autodiff as ad, nn
    >>> w = ad.tensor([1.0], requires_grad=True)
    >>> opt = nn.optim.RAdam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> round(w.item(), 6)  # rho_1 = 1 <= 5: p - lr * g
    0.8
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False,
                 maximize: bool = False) -> None:
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps,
                                  "weight_decay": weight_decay,
                                  "decoupled_weight_decay": decoupled_weight_decay,
                                  "maximize": maximize})

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "exp_avg", "exp_avg_sq")

    def _update(self, p: np.ndarray, grad: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        t = _moments(state, p, ("exp_avg", "exp_avg_sq"))
        g = _decayed(p, grad, group)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1 - b1) * (g - m)
        v *= b2
        v += (1 - b2) * g * g
        bias2 = 1 - b2 ** t
        m_hat = m / (1 - b1 ** t)
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * b2 ** t / bias2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            p -= m_hat * lr * (math.sqrt(bias2) / (np.sqrt(v) + eps)) * rect
        else:
            p -= m_hat * lr
