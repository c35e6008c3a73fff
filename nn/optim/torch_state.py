"""PyTorch's optimizer state-dict layout, read and written as plain NumPy arrays and numbers.

`torch.optim.Optimizer.state_dict()` gives {"state": {param index: {name: tensor}},
"param_groups": [{options..., "params": [indices]}]}: the indices number the parameters in
group order, as ours; the state names (`exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`,
`momentum_buffer`, `sum`, `square_avg`, `acc_delta`, `exp_inf`, `mu_product`, `grad_avg`,
`prev`, `step_size`, `eta`, `mu`, `ax`) and the option names are the same as ours; `step` (and
NAdam's `mu_product`, ASGD's `eta` and `mu`) are 0-d tensors. PyTorch's groups also carry kernel
switches that do not change the numbers (`foreach`, `fused`, `capturable`, `differentiable`),
the parameters' names (`param_names`), and what its schedules write into the groups
(`max_lr`, `min_lr`, `max_momentum`, `base_momentum`; ours keep those in the schedule).

`from_torch` turns such a dict, its tensors converted to NumPy arrays (or numbers), into our
layout for `load_state_dict`, which then checks it as any saved state; `to_torch` turns ours
into PyTorch's (numbers as Python floats, arrays as NumPy arrays) for
`torch_optimizer.load_state_dict` once the arrays are made tensors. Neither runs code: only
dicts, lists, arrays and numbers are read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

# PyTorch's kernel switches and parameter names: no effect on the numbers, not kept here.
TORCH_ONLY = frozenset({"foreach", "fused", "capturable", "differentiable", "param_names"})
# What PyTorch's OneCycleLR and CyclicLR write into the groups; ours keep it in the schedule.
SCHEDULE_KEYS = frozenset({"max_lr", "min_lr", "max_momentum", "base_momentum"})


def from_torch(state_dict: Mapping[str, Any], defaults: Mapping[str, Any],
               scalar_state: tuple[str, ...]) -> dict[str, Any]:
    """PyTorch's layout -> ours (state keyed by '0', '1', ...; counts as ints; 0-d arrays of the
    scalar state as numbers; tuples where our defaults are tuples), or ValueError naming what
    is not PyTorch's layout of this optimizer: keys of neither (a dict of another optimizer,
    or not an optimizer's state at all), a value that is not an array or a number."""
    if not (isinstance(state_dict, Mapping) and set(state_dict) == {"state", "param_groups"}
            and isinstance(state_dict["state"], Mapping)
            and isinstance(state_dict["param_groups"], list | tuple)):
        keys = sorted(map(str, state_dict)) if isinstance(state_dict, Mapping) else None
        raise ValueError("expected PyTorch's optimizer state_dict() layout (a dict with exactly "
                         f"'state' and 'param_groups'), got {type(state_dict).__name__} with "
                         f"keys {keys}")
    groups = [_group_from_torch(i, g, defaults) for i, g in enumerate(state_dict["param_groups"])]
    state = {}
    for key, entries in state_dict["state"].items():
        index = _index(key)
        if not isinstance(entries, Mapping):
            raise ValueError(f"the state of parameter {key!r} is a {type(entries).__name__}, "
                             "not a dict of names to arrays or numbers")
        state[str(index)] = {name: _entry(index, name, v, scalar_state)
                             for name, v in entries.items() if v is not None}
    return {"state": state, "param_groups": groups}


def to_torch(ours: Mapping[str, Any]) -> dict[str, Any]:
    """Our `state_dict()` -> PyTorch's layout: integer keys, counts and numbers as Python ints
    and floats (PyTorch's optimizers make their 0-d tensors of them when loading; SparseAdam
    keeps its step an int, as here), arrays as they are, no 'optimizer' or 'state_names'
    field."""
    state = {int(k): dict(s) for k, s in ours["state"].items()}
    groups = [{k: (list(v) if k == "params" else v) for k, v in g.items()}
              for g in ours["param_groups"]]
    return {"state": state, "param_groups": groups}


def _group_from_torch(i: int, group: Any, defaults: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(group, Mapping) or "params" not in group:
        raise ValueError(f"param_groups[{i}] is not a dict with 'params', got "
                         f"{type(group).__name__}")
    known = set(defaults) | {"params", "initial_lr"}
    unknown = sorted(k for k in group if k not in known | TORCH_ONLY | SCHEDULE_KEYS)
    if unknown:
        raise ValueError(f"param_groups[{i}] has the options {unknown}, which this optimizer "
                         f"does not have (its options: {sorted(defaults)}; a state of another "
                         "optimizer?)")
    out: dict[str, Any] = {}
    for k, v in group.items():
        if k not in known:
            continue
        if k == "params":
            out[k] = [_index(p) for p in v]
        else:
            v = _plain(v)
            out[k] = tuple(v) if isinstance(defaults.get(k), tuple) and isinstance(v, list) else v
    return out


def _index(key: Any) -> int:
    """A parameter index: an int, a digit string, or a 0-d integer array."""
    if isinstance(key, np.ndarray) and key.ndim == 0 and key.dtype.kind in "iu":
        key = int(key)
    if isinstance(key, int | np.integer) and not isinstance(key, bool) and key >= 0:
        return int(key)
    if isinstance(key, str) and key.isdigit():
        return int(key)
    raise ValueError(f"a parameter index must be an integer >= 0, got {key!r}")


def _plain(v: Any) -> Any:
    """An option as a Python value: 0-d arrays and NumPy scalars as numbers or bools, lists and
    tuples element by element; anything else as it is (the optimizer's checks judge it)."""
    if isinstance(v, np.ndarray) and v.ndim == 0:
        v = v[()]
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return v


def _entry(index: int, name: str, v: Any, scalar_state: tuple[str, ...]) -> Any:
    """One state entry: a scalar state (`step`, ...) as a number (the step an int: it counts),
    anything else as the array it is (checked against the parameter when loaded)."""
    if name not in scalar_state:
        if not isinstance(v, np.ndarray | list | int | float | np.number):
            raise ValueError(f"state '{name}' of parameter {index} is a {type(v).__name__}, "
                             "not an array (convert tensors with .numpy())")
        return v
    if isinstance(v, np.ndarray) and v.size == 1:
        v = v.reshape(())[()]
    v = _plain(v)
    if not (isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)):
        raise ValueError(f"state '{name}' of parameter {index} is {v!r}, not a finite number")
    if name == "step":
        if v != int(v) or v < 0:
            raise ValueError(f"state 'step' of parameter {index} is {v!r}, not a count >= 0")
        return int(v)
    return float(v)
