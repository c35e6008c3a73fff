"""Reverse mode: one iterative walk over the graph, from the outputs to the leaves.

The walk counts, for every node reachable from the outputs, how many edges point at it; a node
runs its backward once all its consumers have sent their gradients (Kahn's topological order,
no recursion, so a graph a million nodes deep is fine). Gradients for the same tensor are
summed; a gradient whose shape was broadcast is summed back to the input's shape here, in one
place, for every op.

>>> import autodiff as ad
>>> x = ad.tensor(3.0, requires_grad=True)
>>> (dx,) = ad.gradients(x * x, [x])
>>> dx.item(), x.grad is None
(6.0, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from heapq import heappop, heappush
from typing import Any

import numpy as np

from autodiff import dtypes
from autodiff.function import _FREED, _user_frame
from autodiff.grad_mode import STATE
from autodiff.ops.shape import sum_to, sum_to_shape
from autodiff.tensor import Tensor


def backward(root: Tensor, grad: Any = None, retain_graph: bool = False,
             create_graph: bool = False) -> None:
    """Accumulate the gradient of `root` into the `.grad` of every leaf that requires grad."""
    seed = _seed(root, grad, "backward()")
    _walk([root], [seed], retain_graph or create_graph, create_graph, None)


def gradients(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
              grad_outputs: Any = None, retain_graph: bool | None = None,
              create_graph: bool = False, allow_unused: bool = False) -> tuple[Tensor, ...]:
    """The gradients of `outputs` with respect to `inputs`, leaving every `.grad` untouched
    (PyTorch's `torch.autograd.grad`). With `create_graph=True` they can be differentiated.

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0, 2.0], requires_grad=True)
    >>> ad.gradients((x ** 3).sum(), x)[0]
    tensor([ 3., 12.])
    """
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor | np.ndarray):
        gos = [grad_outputs] * len(outs) if grad_outputs is None else [grad_outputs]
    else:
        gos = list(grad_outputs)
    if len(gos) != len(outs):
        raise ValueError(f"gradients: {len(outs)} outputs but {len(gos)} grad_outputs")
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"gradients: input {i} does not require grad, so it has no "
                               "gradient (call .requires_grad_() on it first)")
    seeds = [_seed(o, g, "gradients()") for o, g in zip(outs, gos)]
    keep = create_graph if retain_graph is None else retain_graph
    captured: dict[Any, Any] = {}
    for t in ins:
        captured[_key(t)] = None
    _walk(outs, seeds, keep, create_graph, captured)
    result = []
    for i, t in enumerate(ins):
        g = captured[_key(t)]
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"gradients: input {i} (shape {t.shape}) is not used to "
                                   "compute the outputs; pass allow_unused=True to get zeros")
            g = Tensor._make(np.zeros_like(t.data), None, 0)
        elif not create_graph:  # never alias the caller's seed or another result
            g = Tensor._make(g.data.copy(), None, 0)
        result.append(g)
    return tuple(result)


def _key(t: Tensor) -> Any:
    """Leaves are keyed by identity; other tensors by the (node, output) that made them."""
    return id(t) if t.grad_fn is None else (t.grad_fn, t._index)


def _seed(root: Tensor, grad: Any, where: str) -> Tensor:
    if not isinstance(root, Tensor) or not root.requires_grad:
        raise RuntimeError(f"{where}: the tensor does not require grad and has no grad_fn, so "
                           "there is nothing to differentiate (did an input set "
                           "requires_grad=True? was it computed under no_grad()?)")
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"{where}: the output has shape {root.shape}, not a scalar; pass `grad` of that "
                "shape (the vector of the vector-Jacobian product) or reduce it first (.sum())")
        data = root.data  # np.array(1) makes a 0-d one four times faster than np.ones
        return Tensor._make(np.array(1, data.dtype) if data.ndim == 0 else
                            np.ones(data.shape, data.dtype), None, 0)
    g = grad if isinstance(grad, Tensor) else Tensor._make(
        dtypes.constant_like(grad, root.data.dtype), None, 0)
    if g.shape != root.shape:
        raise RuntimeError(f"{where}: grad has shape {g.shape} but the output has shape "
                           f"{root.shape}; they must match")
    return g


def _walk(roots: list[Tensor], seeds: list[Tensor], retain_graph: bool, create_graph: bool,
          captured: dict[Any, Any] | None) -> None:
    # Nodes run newest first (a max-heap on their creation number): a node is always made
    # after the tensors it consumes, so by the time it runs every consumer has sent its
    # gradient. Without create_graph nothing of the backward is recorded, so gradients travel
    # as plain arrays, and ops whose backward works on arrays too (array_backward) get arrays.
    arrays = not create_graph
    pending: dict[Any, list[Any]] = {}  # node -> gradient of each of its outputs
    heap: list[tuple[int, Any]] = []
    leaves: dict[int, list[Any]] = {}  # id(leaf) -> [leaf, summed gradient]
    for root, seed in zip(roots, seeds):
        g = seed.data if arrays else seed
        node = root.grad_fn
        if node is None:
            _collect(leaves, root, g)
            continue
        slot = pending.get(node)
        if slot is None:
            slot = pending[node] = [None] * len(node._out_meta)
            heappush(heap, (-node._seq, node))
        i = root._index
        slot[i] = g if slot[i] is None else slot[i] + g

    anomaly = STATE.anomaly
    grad_was = STATE.grad_enabled  # (as set_grad_enabled, without its object per call)
    STATE.grad_enabled = create_graph
    try:
        while heap:
            node = heappop(heap)[1]
            out_grads = pending.pop(node)
            edges = node._edges
            if node._hooks or captured is not None:
                _output_hooks(node, out_grads, captured, arrays)
            if len(out_grads) > 1 and any(g is None for g in out_grads):
                out_grads = [_zeros(s, d, arrays) if g is None else g
                             for g, (s, d) in zip(out_grads, node._out_meta)]
            if not arrays:
                node._arrays = False
                grads = node.backward(node, *out_grads)
            elif node.array_backward:
                node._arrays = True  # saved_tensors gives arrays
                grads = node.backward(node, *out_grads)
            else:
                node._arrays = False
                grads = node.backward(node, *[Tensor._make(g, None, 0) for g in out_grads])
            if type(grads) is not tuple:
                grads = (grads,)
            if len(grads) != len(edges):
                raise RuntimeError(
                    f"the backward of '{node.op_name()}' returned {len(grads)} gradients "
                    f"but its forward took {len(edges)} positional arguments")
            for i, (e, g) in enumerate(zip(edges, grads)):
                if e is None or g is None:
                    continue
                if type(e) is tuple:
                    child, idx = e
                    shape, dt = child._out_meta[idx]
                else:
                    child = None
                    shape, dt = e.data.shape, e.data.dtype
                if arrays:
                    if type(g) is not np.ndarray:
                        g = g.data if isinstance(g, Tensor) else np.asarray(g)
                    if g.shape != shape:
                        g = sum_to_shape(g, shape)
                    if g.dtype is not dt:
                        g = g.astype(dt)
                else:
                    if type(g) is not Tensor:
                        g = Tensor._make(np.asarray(g), None, 0)
                    if g.data.shape != shape:
                        g = sum_to(g, shape)
                    if g.data.dtype is not dt:
                        g = g.astype(dt)
                if anomaly:
                    _check_backward(node, i, g)
                if child is None:
                    _collect(leaves, e, g)
                    continue
                slot = pending.get(child)
                if slot is None:
                    slot = pending[child] = [None] * len(child._out_meta)
                    heappush(heap, (-child._seq, child))
                slot[idx] = g if slot[idx] is None else slot[idx] + g
            if not retain_graph and node._saved is not None:
                node._saved = _FREED
                node._saved_arrays = None
        # Each leaf gets its whole gradient once (its hooks see the sum, as in PyTorch).
        handed = {id(s.data) for s in seeds}
        for leaf, g, summed in leaves.values():
            if arrays:
                # An array another leaf, the caller, or a view shares is copied; a sum is new.
                if not summed and (id(g) in handed or g.base is not None):
                    g = g.copy()
                handed.add(id(g))
                g = Tensor._make(g, None, 0)
            _accumulate(leaf, g, create_graph, captured)
    finally:
        STATE.grad_enabled = grad_was


def _collect(leaves: dict[int, list[Any]], leaf: Tensor, g: Any) -> None:
    """Sum the gradients a leaf receives during one walk."""
    entry = leaves.get(id(leaf))
    if entry is None:
        leaves[id(leaf)] = [leaf, g, False]
    else:
        entry[1] = entry[1] + g
        entry[2] = True


def _zeros(shape: tuple[int, ...], dtype: np.dtype, arrays: bool) -> Any:
    z = np.zeros(shape, dtype)
    return z if arrays else Tensor._make(z, None, 0)


def _output_hooks(node: Any, out_grads: list[Any], captured: dict[Any, Any] | None,
                  arrays: bool) -> None:
    """Run the hooks of the node's outputs (they see Tensors) and capture what was asked."""
    hooks = node._hooks or {}
    for i, g in enumerate(out_grads):
        if g is None:
            continue
        t = Tensor._make(g, None, 0) if arrays else g
        for hook in hooks.get(i, ()):
            if captured is not None and getattr(hook, "retains_grad", False):
                continue  # the transforms are pure: no .grad is written
            r = hook(t)
            if r is not None:
                t = r
        out_grads[i] = t.data if arrays else t
        if captured is not None:
            key = (node, i)
            if key in captured:
                captured[key] = t


def _accumulate(leaf: Tensor, g: Tensor, create_graph: bool,
                captured: dict[Any, Any] | None) -> None:
    r_hooked = None  # a hook's result may be the caller's own tensor: then .grad copies it
    if leaf._hooks:
        for hook in leaf._hooks:
            r = hook(g)
            if r is not None:
                g = r_hooked = r
    if captured is not None:
        key = id(leaf)
        if key in captured:
            prev = captured[key]
            captured[key] = g if prev is None else prev + g
        return
    if create_graph:
        leaf.grad = g if leaf.grad is None else leaf.grad + g
    elif leaf.grad is None:
        leaf.grad = g if r_hooked is None else Tensor._make(g.data.copy(), None, 0)
    else:
        leaf.grad = Tensor._make(leaf.grad.data + g.data, None, 0)


def _check_backward(node: Any, i: int, g: Any) -> None:
    data = g.data if isinstance(g, Tensor) else g
    if data.dtype.kind in "fc" and not np.isfinite(data).all():
        bad = "nan" if np.isnan(data).any() else "inf"
        where = _user_frame(node._stack) if node._stack else "an unknown line"
        raise FloatingPointError(
            f"detect_anomaly: the backward of '{node.op_name()}' produced {bad} in the gradient "
            f"of its input {i} (shape {g.shape}); the op was created at {where}")
