"""Rprop (resilient backpropagation), as PyTorch's algorithm: each coordinate keeps its own step
size, grown by etaplus while the gradient keeps its sign and shrunk by etaminus when it flips,
and moves by that step against the sign of the gradient alone:

    s = sign(g * g_prev):  s > 0: step *= etaplus;  s < 0: step *= etaminus;  then clipped to
                           [step_size_min, step_size_max]
    where s < 0, g = 0 (no move now, and no flip counted at the next step)
    p = p - sign(g) * step;  g_prev = g
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from nn._state import real_number
from nn.optim.optimizer import Optimizer


class Rprop(Optimizer):
    """Per-coordinate step sizes driven by the sign of the gradient only (full-batch training).

    >>> import autodiff as ad, nn
    >>> w = ad.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = nn.optim.Rprop([w], lr=0.1)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
    >>> [round(v, 6) for v in w.tolist()]  # 0.1, then 0.1 * 1.2 towards 0
    [0.78, -0.78]
    """

    scalar_state = ("step",)

    def __init__(self, params: Iterable[Any], lr: float = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50.0), maximize: bool = False) -> None:
        super().__init__(params, {"lr": lr, "etas": tuple(etas),
                                  "step_sizes": tuple(step_sizes), "maximize": maximize})

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        etas, sizes = group["etas"], group["step_sizes"]
        if not (isinstance(etas, tuple | list) and len(etas) == 2
                and all(real_number(e) for e in etas) and 0.0 < etas[0] < 1.0 < etas[1]):
            raise ValueError(f"Rprop: etas must be (etaminus, etaplus) with 0 < etaminus < 1 < "
                             f"etaplus, got {etas!r}")
        if not (isinstance(sizes, tuple | list) and len(sizes) == 2
                and all(real_number(s) for s in sizes) and 0.0 <= sizes[0] <= sizes[1]):
            raise ValueError(f"Rprop: step_sizes must be (min, max) with 0 <= min <= max, got "
                             f"{sizes!r}")

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "prev", "step_size")

    def _update(self, p: np.ndarray, grad: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        (minus, plus), (low, high) = group["etas"], group["step_sizes"]
        if not state:
            state["step"] = 0
            state["prev"] = np.zeros_like(p)
            state["step_size"] = np.full_like(p, group["lr"])
        state["step"] += 1
        product = grad * state["prev"]
        factor = np.where(product > 0, plus, np.where(product < 0, minus, 1.0))
        size = state["step_size"]
        size *= factor.astype(p.dtype, copy=False)
        np.clip(size, low, high, out=size)
        g = np.where(product < 0, 0, grad).astype(p.dtype, copy=False)
        p -= np.sign(g) * size
        state["prev"][...] = g
