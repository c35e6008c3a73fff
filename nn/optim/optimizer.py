"""The Optimizer base: parameter groups, state, zero_grad, state_dict / load_state_dict.

Updates run under no_grad on the parameters' arrays, in place and in their dtype.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import numpy as np

from autodiff import Tensor


class Optimizer:
    """Subclasses define `defaults` (via __init__) and `_update(p, grad, group, state)`.

    `params` is an iterable of tensors, or of dicts {"params": [...], **options} (parameter
    groups with their own hyperparameters).

    >>> import autodiff as ad, nn
    >>> import numpy as np
    >>> class SignSGD(nn.optim.Optimizer):
    ...     def __init__(self, params, lr=0.1):
    ...         super().__init__(params, {'lr': lr})
    ...     def _update(self, p, grad, group, state):
    ...         p -= group['lr'] * np.sign(grad)
    >>> w = ad.tensor([2.0, -3.0], requires_grad=True)
    >>> opt = SignSGD([w])
    >>> (w * w).sum().backward(); opt.step()
    >>> w
    tensor([ 1.9, -2.9], requires_grad=True)
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[int, dict[str, Any]] = {}
        items = list(params)
        if not items:
            raise ValueError(f"{type(self).__name__}: the optimizer got an empty parameter "
                             "list (did the model register its parameters?)")
        groups = items if isinstance(items[0], dict) else [{"params": items}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, group: dict[str, Any]) -> None:
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: parameters must be Tensors, got "
                                f"{type(p).__name__}")
            if not p.requires_grad:
                raise ValueError(f"{type(self).__name__}: a parameter of shape {p.shape} does "
                                 "not require grad, so it would never be updated")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{type(self).__name__}: a parameter appears in two groups")
        full = {**self.defaults, **group, "params": params}
        self._check(full)
        self.param_groups.append(full)

    def _check(self, group: dict[str, Any]) -> None:
        if group.get("lr", 0.0) < 0:
            raise ValueError(f"{type(self).__name__}: learning rate must be >= 0, got "
                             f"{group['lr']}")
        if group.get("weight_decay", 0.0) < 0:
            raise ValueError(f"{type(self).__name__}: weight_decay must be >= 0, got "
                             f"{group['weight_decay']}")

    def zero_grad(self, set_to_none: bool = True) -> None:
        for g in self.param_groups:
            for p in g["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad.data[...] = 0

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        states, update = self.state, self._update
        for g in self.param_groups:
            maximize = g.get("maximize", False)
            for p in g["params"]:
                if p.grad is None:
                    continue
                state = states.get(id(p))
                if state is None:
                    state = states[id(p)] = {}
                update(p.data, -p.grad.data if maximize else p.grad.data, g, state)

    def _update(self, p: np.ndarray, grad: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- resuming -------------------------------------------------------------------------

    def _params(self) -> list[Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    def state_dict(self) -> dict[str, Any]:
        """{"state": {index: {name: array or number}}, "param_groups": [options + indices]}."""
        index = {id(p): i for i, p in enumerate(self._params())}
        state = {str(index[k]): {n: (v.copy() if isinstance(v, np.ndarray) else v)
                                 for n, v in s.items()}
                 for k, s in self.state.items() if k in index}
        groups = []
        for g in self.param_groups:
            opts = {k: v for k, v in g.items() if k != "params"}
            opts["params"] = [index[id(p)] for p in g["params"]]
            groups.append(opts)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
                len(a["params"]) != len(b["params"]) for a, b in zip(groups, self.param_groups)):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the saved groups do not "
                             "match this optimizer's parameter groups")
        params = self._params()
        for saved, own in zip(groups, self.param_groups):
            for k, v in saved.items():
                if k != "params":
                    own[k] = copy.deepcopy(v)
        self.state = {}
        for i, s in state_dict["state"].items():
            p = params[int(i)]
            restored = {}
            for n, v in s.items():
                if isinstance(v, np.ndarray):
                    if v.shape != p.shape and v.ndim:
                        raise ValueError(f"load_state_dict: state '{n}' of parameter {i} has "
                                         f"shape {v.shape}, the parameter {p.shape}")
                    v = v.astype(p.dtype, copy=True)
                restored[n] = v
            self.state[id(p)] = restored

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v}" for k, v in self.defaults.items())
        return f"{type(self).__name__}({opts})"
