"""The Optimizer base: parameter groups, state, zero_grad, state_dict / load_state_dict.

Updates run under no_grad on the parameters' arrays, in place and in their dtype.
Hyperparameters are checked by `_check`, for every group the optimizer is given and for every
group a saved state brings back; `load_state_dict` checks a whole saved state before writing
any of it, and refuses the state of another kind of optimizer.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import numpy as np

import autodiff as ad
from autodiff import Tensor
from nn._state import checked_array, real_number
from nn.module import Parameter
from nn.optim import torch_state


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

    scalar_state: tuple[str, ...] = ("step",)  # state kept as a number, not an array
    # Options added after states were first saved: a saved group without one loads with this.
    later_options: ClassVar[dict[str, Any]] = {}
    # Whether `state_dict(layout="torch")` / `load_state_dict(..., layout="torch")` apply: the
    # state is PyTorch's per parameter, under the same names.
    torch_layout: ClassVar[bool] = True

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[int, dict[str, Any]] = {}
        items = _ordered(self, params, "params")
        if not items:
            raise ValueError(f"{type(self).__name__}: the optimizer got an empty parameter "
                             "list (did the model register its parameters?)")
        groups = items if isinstance(items[0], dict) else [{"params": items}]
        if any(isinstance(g, dict) != isinstance(items[0], dict) for g in items):
            raise TypeError(f"{type(self).__name__}: params must be all Tensors or all "
                            "parameter groups (dicts with 'params'), not a mix")
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (the optimizer's defaults for the
        options it does not set), as PyTorch's; refused: a parameter already in a group, or
        twice in this one, a tensor that does not require grad (a frozen `nn.Parameter` is
        accepted and skipped while frozen), a non-leaf (made by an op, as PyTorch's), a bad
        option.

        >>> import autodiff as ad, nn
        >>> opt = nn.optim.SGD([ad.ones(2, requires_grad=True)], lr=0.1)
        >>> opt.add_param_group({"params": [ad.ones(3, requires_grad=True)], "lr": 0.01})
        >>> [g["lr"] for g in opt.param_groups]
        [0.1, 0.01]
        """
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{type(self).__name__}: a parameter group is a dict with a "
                            f"'params' entry, got {_brief(group)}")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else _ordered(self, params,
                                                                      "a group's 'params'")
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: parameters must be Tensors, got "
                                f"{type(p).__name__}")
            if not p.requires_grad and not isinstance(p, Parameter):
                raise ValueError(f"{type(self).__name__}: a tensor of shape {p.shape} that does "
                                 "not require grad would never be updated (a frozen "
                                 "nn.Parameter is accepted: it is skipped until it requires "
                                 "grad again)")
            if not p.is_leaf:
                raise ValueError(f"{type(self).__name__}: can't optimize a non-leaf Tensor (one "
                                 f"of shape {p.shape} made by an op): its .grad stays None and "
                                 "the next forward recomputes it; pass the leaf it came from")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{type(self).__name__}: a parameter appears twice in one group "
                             "(each step would update it twice)")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{type(self).__name__}: a parameter appears in two groups")
        full = {**self.defaults, **group, "params": params}
        self._check(full)
        self.param_groups.append(full)

    def _check(self, group: dict[str, Any]) -> None:
        """Raise ValueError on a bad hyperparameter; subclasses add theirs (after super's)."""
        at_least(self, group, "lr", 0.0, label="learning rate")
        for key in ("weight_decay", "initial_lr"):
            at_least(self, group, key, 0.0)
        flag(self, group, "maximize")

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...] | None:
        """The names of the state kept for each parameter of `group` once it has stepped (None:
        not declared, as in a user's optimizer; then any names load)."""
        return None

    def zero_grad(self, set_to_none: bool = True) -> None:
        for g in self.param_groups:
            for p in g["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad.data[...] = 0
                    ad.increment_version(p.grad)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient. With a `closure` (a function that
        recomputes the loss and its gradients, as PyTorch's), call it first with grad mode on
        and return its loss; else return None.

        >>> import autodiff as ad, nn
        >>> w = ad.tensor([1.0], requires_grad=True)
        >>> opt = nn.optim.SGD([w], lr=0.1)
        >>> def closure():
        ...     opt.zero_grad()
        ...     loss = (w * w).sum()
        ...     loss.backward()
        ...     return loss
        >>> opt.step(closure).item(), w.tolist()
        (1.0, [0.8])
        """
        loss = None
        if closure is not None:
            with ad.enable_grad():
                loss = closure()
        self._step()
        return loss

    def _step(self) -> None:
        """Update every parameter that has a gradient and requires grad (a frozen one is
        skipped); all are checked first, so a refused step changes nothing."""
        work = [(g, p, checked_grad(self, p)) for g in self.param_groups for p in g["params"]
                if p.grad is not None and p.requires_grad]  # frozen: skipped, even a stale .grad
        for g, p, _ in work:
            if p.dtype == np.float16:
                _check_eps_holds(self, g, p.dtype)
        states, update = self.state, self._update
        for g, p, grad in work:
            state = states.get(id(p))
            if state is None:
                state = states[id(p)] = {}
            update(p.data, -grad if g.get("maximize", False) else grad, g, state)
            ad.increment_version(p)  # a backward that saved p's old values now raises

    def _update(self, p: np.ndarray, grad: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- resuming -------------------------------------------------------------------------

    def _params(self) -> list[Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    def state_dict(self, layout: str = "ours") -> dict[str, Any]:
        """Everything the updates depend on, in plain types `nn.save` writes (no pickle):
        {"optimizer": class name, "state_names": [names kept per parameter, per group],
        "state": {index: {name: array or number}}, "param_groups": [options + indices]}.
        `layout="torch"`: PyTorch's layout instead ({"state": {int index: ...},
        "param_groups": [...]}), for `torch_opt.load_state_dict` once the
        arrays are made tensors (see docs/optim.md).

        >>> import autodiff as ad, nn
        >>> w = ad.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = nn.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> (w * w).sum().backward(); opt.step()
        >>> sd = opt.state_dict()
        >>> sd["optimizer"], sd["state_names"], sd["state"]["0"]["momentum_buffer"]
        ('SGD', [['momentum_buffer']], array([2., 4.], dtype=float32))
        """
        index = {id(p): i for i, p in enumerate(self._params())}
        state = {str(index[k]): {n: (v.copy() if isinstance(v, np.ndarray) else v)
                                 for n, v in s.items()}
                 for k, s in self.state.items() if k in index}
        groups, names = [], []
        for g in self.param_groups:
            opts = {k: copy.deepcopy(v) for k, v in g.items() if k != "params"}
            opts["params"] = [index[id(p)] for p in g["params"]]
            groups.append(opts)
            declared = self._state_names(g)
            held = {n for p in g["params"] for n in self.state.get(id(p), {})}
            names.append(sorted(held if declared is None else declared))  # held: undeclared
        ours = {"optimizer": type(self).__name__, "state_names": names, "state": state,
                "param_groups": groups}
        return torch_state.to_torch(ours) if _layout(self, layout) == "torch" else ours

    def load_state_dict(self, state_dict: Mapping[str, Any], layout: str = "ours") -> None:
        """Restore a `state_dict()` of the same kind of optimizer, all or nothing.

        Checked before anything is written: the optimizer that saved it (its class name), the
        number of groups and of parameters in each, every group's hyperparameters (as the
        constructor checks them), that the saved options keep the same state as this
        optimizer's (SGD with momentum keeps a buffer, plain SGD none), and every state entry's
        names, shape (the parameter's), dtype and finiteness. A refused state raises ValueError
        and changes nothing. The saved hyperparameters replace this optimizer's, as PyTorch's.
        A state saved before the "optimizer" and "state_names" fields existed loads when its
        groups carry all of this optimizer's hyperparameters and its state the names this
        optimizer keeps (it cannot tell Adam's from AdamW's).

        >>> import autodiff as ad, nn
        >>> w = ad.tensor([1.0, 2.0], requires_grad=True)
        >>> adam = nn.optim.Adam([w])
        >>> nn.optim.SGD([w], lr=0.1).load_state_dict(adam.state_dict())
        Traceback (most recent call last):
        ...
        ValueError: SGD.load_state_dict: the state was saved by Adam, not by SGD: an optimizer ...

        `layout="torch"` reads PyTorch's `state_dict()` layout with its tensors converted to
        NumPy arrays or numbers (state keyed by integer index, `step` a 0-d array or float;
        PyTorch's kernel switches such as `foreach` and the rates its schedules write into the
        groups are left out); the same checks follow, and an option this optimizer does not
        have is refused.

        >>> import numpy as np
        >>> sgd = nn.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> sgd.load_state_dict({"state": {0: {"momentum_buffer": np.array([0.5, 1.0])}},
        ...     "param_groups": [{"lr": 0.05, "momentum": 0.9, "dampening": 0.0,
        ...     "weight_decay": 0.0, "nesterov": False, "maximize": False, "foreach": None,
        ...     "differentiable": False, "fused": None, "params": [0]}]}, layout="torch")
        >>> sgd.param_groups[0]["lr"], sgd.state_dict()["state"]["0"]["momentum_buffer"]
        (0.05, array([0.5, 1. ], dtype=float32))
        """
        where = f"{type(self).__name__}.load_state_dict"
        try:
            if _layout(self, layout) == "torch":
                state_dict = torch_state.from_torch(state_dict, self.defaults,
                                                    self.scalar_state)
            groups, state = self._checked(state_dict)
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
        for own, saved in zip(self.param_groups, groups):
            own.update(saved)
        self.state = state

    def _checked(self, state_dict: Mapping[str, Any]
                 ) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
        """The groups' options and the state keyed by parameter, converted and checked."""
        self._check_layout(state_dict)
        saved_groups = state_dict["param_groups"]
        groups = [self._checked_group(i, saved, own)
                  for i, (saved, own) in enumerate(zip(saved_groups, self.param_groups))]
        names = state_dict.get("state_names")
        if names is not None and (not isinstance(names, list | tuple)
                                  or len(names) != len(groups)):
            raise ValueError(f"'state_names' should list the names of each of the "
                             f"{len(groups)} groups, got {names!r}")
        kept = [self._kept_names(i, g, names) for i, g in enumerate(groups)]
        return groups, self._checked_state(state_dict["state"], kept)

    def _check_layout(self, state_dict: Mapping[str, Any]) -> None:
        """Who saved it, and the number of groups and of parameters in each."""
        if not (isinstance(state_dict, Mapping) and isinstance(state_dict.get("state"), Mapping)
                and isinstance(state_dict.get("param_groups"), list | tuple)):
            raise ValueError("expected an optimizer's state_dict() (a dict with 'state' and "
                             f"'param_groups'), got {type(state_dict).__name__}")
        made_by, mine = state_dict.get("optimizer"), type(self).__name__
        if made_by is not None and made_by != mine:
            raise ValueError(f"the state was saved by {made_by}, not by {mine}: an optimizer "
                             "loads only the state of its own kind")
        theirs = sorted({k for g in state_dict["param_groups"] if isinstance(g, Mapping)
                         for k in g if k in torch_state.TORCH_ONLY})
        if theirs and made_by is None:
            raise ValueError(f"the groups hold PyTorch's keys {theirs}: a torch.optim "
                             "state_dict(); load it with layout='torch'")
        indices = [g.get("params") if isinstance(g, Mapping) else None
                   for g in state_dict["param_groups"]]
        indices = [ix if isinstance(ix, list | tuple) else None for ix in indices]
        saved = [None if ix is None else len(ix) for ix in indices]
        own = [len(g["params"]) for g in self.param_groups]
        flat = [i for ix in indices for i in ix or ()]
        if saved != own or flat != list(range(sum(own))):
            raise ValueError(f"the saved state has groups of {saved} parameters, this "
                             f"optimizer {own} (a state for another model?)")

    def _checked_group(self, i: int, saved: Mapping[str, Any], own: dict[str, Any]
                       ) -> dict[str, Any]:
        """Group i's saved options, checked as the constructor checks them, and keeping the
        same state as this optimizer's group."""
        saved = {**self.later_options, **saved}
        lacking = sorted(k for k in self.defaults if k not in saved)
        if lacking:
            raise ValueError(f"group {i} lacks the hyperparameters {lacking} of "
                             f"{type(self).__name__} (saved by another optimizer?)")
        opts = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
        merged = {**own, **opts}
        try:
            self._check(merged)
        except ValueError as e:
            raise ValueError(f"group {i}: {e}") from None
        theirs, mine = self._state_names(merged), self._state_names(own)
        if theirs != mine:
            changed = {k: (opts[k], own[k]) for k in self.defaults if opts[k] != own[k]}
            raise ValueError(f"group {i}: the saved options keep {list(theirs or ())} for each "
                             f"parameter, this optimizer's {list(mine or ())} (options saved vs "
                             f"here: {changed})")
        return opts

    def _kept_names(self, i: int, group: dict[str, Any], recorded: Any) -> set[str] | None:
        """The state names group i keeps: declared by the optimizer, else as recorded."""
        declared = self._state_names(group)
        mine = recorded[i] if recorded is not None else None
        if mine is not None and not (isinstance(mine, list | tuple)
                                     and all(isinstance(n, str) for n in mine)):
            raise ValueError(f"group {i}: 'state_names' should be a list of names, got {mine!r}")
        if declared is None:
            return None if mine is None else set(mine)
        if mine is not None and set(mine) != set(declared):
            raise ValueError(f"group {i}: 'state_names' says {list(mine)} but the options keep "
                             f"{list(declared)} (an edited state?)")
        return set(declared)

    def _checked_state(self, saved: Mapping[Any, Any], kept: list[set[str] | None]
                       ) -> dict[int, dict[str, Any]]:
        """{id(parameter): {name: value}}, every array of the parameter's shape and dtype."""
        params = self._params()
        group_of = [g for g, group in enumerate(self.param_groups) for _ in group["params"]]
        declared = [self._state_names(g) is not None for g in self.param_groups]
        state: dict[int, dict[str, Any]] = {}
        for key, entries in saved.items():
            i = int(key) if isinstance(key, int | str) and str(key).isdigit() else -1
            if not 0 <= i < len(params) or not isinstance(entries, Mapping):
                raise ValueError(f"a state for parameter {key!r}, but this optimizer has "
                                 f"{len(params)} parameters (numbered from 0)")
            names = kept[group_of[i]]
            if entries and names is not None and set(entries) != names:
                raise ValueError(f"parameter {i}: the saved state holds {sorted(entries)}, "
                                 f"this optimizer keeps {sorted(names)}")
            p = params[i]
            state[id(p)] = {n: _state_value(f"state '{n}' of parameter {i}", v, p.data,
                                            array=declared[group_of[i]]
                                            and n not in self.scalar_state)
                            for n, v in entries.items()}
        return state

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v}" for k, v in self.defaults.items())
        return f"{type(self).__name__}({opts})"


def _ordered(owner: Optimizer, params: Any, what: str) -> list[Any]:
    """`params` as a list, refusing what has no fixed order (a set: the state's parameter
    numbers would change from run to run) and a single Tensor (iterating it gives its rows)."""
    if isinstance(params, Tensor):
        raise TypeError(f"{type(owner).__name__}: {what} should be an iterable of Tensors or "
                        f"dicts, got a Tensor (wrap it in a list: [w])")
    if isinstance(params, Mapping):
        raise TypeError(f"{type(owner).__name__}: {what} should be an iterable of Tensors or "
                        f"dicts, got a {type(params).__name__} (one parameter group goes in a "
                        "list: [{'params': ...}])")
    if isinstance(params, set | frozenset):
        raise TypeError(f"{type(owner).__name__}: {what} should be an ordered collection (a "
                        f"list, a generator such as model.parameters()), got a "
                        f"{type(params).__name__}, whose order changes between runs")
    return list(params)


def _layout(owner: Optimizer, layout: str) -> str:
    name = type(owner).__name__
    if layout not in ("ours", "torch"):
        raise ValueError(f"{name}: layout must be 'ours' or 'torch', got {layout!r}")
    if layout == "torch" and not owner.torch_layout:
        raise ValueError(f"{name}: layout='torch' is not supported for {name} (its state is "
                         "not PyTorch's per-parameter layout under the same names)")
    return layout


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{type(value).__name__} {text[:57]}..."


def checked_grad(owner: Optimizer, p: Tensor) -> np.ndarray:
    """`p.grad`'s array, which must have p's shape (a gradient of another shape would be
    broadcast into the update silently). Assigning `p.grad` checks its shape already, as
    PyTorch's; this catches an array swapped in under it.

    >>> import numpy as np, autodiff as ad, nn
    >>> w = ad.zeros(3, requires_grad=True)
    >>> w.grad = ad.zeros(3)
    >>> w.grad.data = np.ones(1, np.float32)
    >>> nn.optim.SGD([w], lr=0.1).step()
    Traceback (most recent call last):
    ...
    ValueError: SGD.step: a parameter of shape (3,) has a gradient of shape (1,)
    """
    grad = p.grad.data
    if grad.shape != p.shape:
        raise ValueError(f"{type(owner).__name__}.step: a parameter of shape {p.shape} has a "
                         f"gradient of shape {grad.shape}")
    return grad


def _check_eps_holds(owner: Optimizer, group: dict[str, Any], dtype: np.dtype) -> None:
    """Refuse an eps that rounds to 0 in the parameter's dtype (the default 1e-8 in float16):
    a zero gradient then gives 0 / 0 = NaN and a tiny one (its square underflows) an infinite
    step. PyTorch lets both through silently.

    >>> import numpy as np, autodiff as ad, nn
    >>> w = ad.tensor(np.ones(2, np.float16), requires_grad=True)
    >>> w.grad = ad.tensor(np.zeros(2, np.float16))
    >>> nn.optim.Adam([w]).step()
    Traceback (most recent call last):
    ...
    ValueError: Adam.step: eps=1e-08 is 0 in float16, so a zero gradient would make the ...
    """
    eps = group.get("eps")
    if eps and not np.asarray(eps, dtype):
        raise ValueError(f"{type(owner).__name__}.step: eps={eps!r} is 0 in {dtype}, so a zero "
                         "gradient would make the parameter NaN (0 / 0); use an eps the dtype "
                         "holds (1e-4 is common in float16) or float32 parameters")


def _state_value(label: str, value: Any, like: np.ndarray, array: bool) -> Any:
    """One saved state entry: a count (the step) stays an int, a number must be finite, an
    array (required where `array`) becomes a finite copy of the parameter's shape and dtype."""
    if array or isinstance(value, np.ndarray | Tensor | list):
        return checked_array(label, value, like.shape, like.dtype, finite=True,
                             where="the parameter")
    if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
        if value < 0:
            raise ValueError(f"{label} is {value}, a count that must be >= 0")
        return int(value)
    if not real_number(value):
        raise ValueError(f"{label} is {value!r}, not a finite number")
    return float(value)


def at_least(owner: Optimizer, group: dict[str, Any], key: str, low: float, *,
             below: float | None = None, label: str | None = None) -> None:
    """If `group` has `key`: a finite number >= low (and < below, if given), or ValueError.

    >>> import autodiff as ad, nn
    >>> nn.optim.SGD([ad.ones(1, requires_grad=True)], lr=float("nan"))
    Traceback (most recent call last):
    ...
    ValueError: SGD: learning rate must be >= 0 (a finite number), got nan
    """
    if key not in group:
        return
    v = group[key]
    if not real_number(v) or v < low or (below is not None and v >= below):
        upper = "" if below is None else f" and < {below:g}"
        raise ValueError(f"{type(owner).__name__}: {label or key} must be >= {low:g}{upper} (a "
                         f"finite number), got {v!r}")


def flag(owner: Optimizer, group: dict[str, Any], key: str) -> None:
    """If `group` has `key`: a bool, or ValueError.

    >>> import autodiff as ad, nn
    >>> nn.optim.Adam([ad.ones(1, requires_grad=True)], amsgrad="no")
    Traceback (most recent call last):
    ...
    ValueError: Adam: amsgrad must be True or False, got 'no'
    """
    if key in group and not isinstance(group[key], bool | np.bool_):
        raise ValueError(f"{type(owner).__name__}: {key} must be True or False, got "
                         f"{group[key]!r}")
