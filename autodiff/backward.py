"""Reverse mode: one iterative walk over the graph, from the outputs to the leaves.

Nodes run newest first, popped from a heap keyed on their creation number: a node is always
made after the tensors it consumes, so when it is popped every node that consumes its outputs
has already run and sent its gradient. No dependency counts, no recursion: a graph a million
nodes deep is fine. Gradients sent to the same tensor are summed. Each gradient an op returns
is checked against the input it is for (its dtype, and its shape or a shape the input
broadcast to, which is then summed back here, in one place, for every op). Leaves get their
summed gradient once, at the end (their hooks see the sum); an array the walk made is handed
over without a copy, one that someone else may hold (the caller's seed, a view) is copied.

`gradients` (and the functional transforms built on it) walks only the part of the graph that
leads to the inputs asked for, and writes no `.grad`.

>>> import autodiff as ad
>>> x = ad.tensor(3.0, requires_grad=True)
>>> (dx,) = ad.gradients(x * x, [x])
>>> dx.item(), x.grad is None
(6.0, True)
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from heapq import heappop, heappush
from typing import Any

import numpy as np

from autodiff import dtypes, versions
from autodiff.function import _FREED, Function, _check_current, _Output, _user_frame, check_saved
from autodiff.grad_mode import STATE
from autodiff.ops.shape import sum_to, sum_to_shape
from autodiff.tensor import Tensor


def backward(root: Tensor, grad: Any = None, retain_graph: bool = False,
             create_graph: bool = False) -> None:
    """Accumulate the gradient of `root` into the `.grad` of every leaf that requires grad."""
    seed = _seed(root, grad, "backward()")
    _walk([root], [seed], retain_graph or create_graph, create_graph, None, None)


def gradients(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
              grad_outputs: Any = None, retain_graph: bool | None = None,
              create_graph: bool = False, allow_unused: bool = False) -> tuple[Tensor, ...]:
    """The gradients of `outputs` with respect to `inputs`, leaving every `.grad` untouched
    (PyTorch's `torch.autograd.grad`). With `create_graph=True` they can be differentiated.
    Inputs may be leaves or tensors an op made; only the part of the graph between the outputs
    and the inputs is walked.

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
    captured: dict[Any, Any] = {_key(t): None for t in ins}
    needed = _leading_to(outs, captured)
    _walk(outs, seeds, keep, create_graph, captured, needed)
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


def boundary_gradients(outputs: list[Tensor], grad_outputs: list[Any], inputs: list[Tensor],
                       floor: int, create_graph: bool) -> tuple[Tensor | None, ...]:
    """The gradients of `outputs` (seeded with `grad_outputs`) with respect to `inputs`, where
    the inputs cut the graph: only the nodes made after creation number `floor` run, the
    inputs' own nodes and everything older are neither run nor freed, and no hook of an input
    runs (the walk that reaches them later runs them once). None for an input that no output
    reaches. A `checkpoint`'s backward, on the graph its recomputation recorded."""
    seeds = [_seed(o, g, "checkpoint") for o, g in zip(outputs, grad_outputs)]
    captured: dict[Any, Any] = {_key(t): None for t in inputs}
    needed = {n for n in _leading_to(outputs, captured, floor) if n._seq > floor}
    _walk(outputs, seeds, create_graph, create_graph, captured, needed, floor)
    return tuple(captured[_key(t)] for t in inputs)


def _key(t: Tensor) -> Any:
    """Leaves are keyed by identity; other tensors by the (node, output) that made them."""
    return id(t) if t.grad_fn is None else (t.grad_fn, t._index)


def _seed(root: Tensor, grad: Any, where: str) -> Tensor:
    if not isinstance(root, Tensor) or not root.requires_grad:
        raise RuntimeError(f"{where}: the tensor does not require grad and has no grad_fn, so "
                           "there is nothing to differentiate (did an input set "
                           "requires_grad=True? was it computed under no_grad()?)")
    if root.grad_fn is not None and root.grad_fn._seq < versions.last_write:
        _check_current(where, root)
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
    if g.dtype != root.dtype:  # the seed is a constant: it takes the output's dtype
        g = g.astype(root.dtype)
    if g.shape != root.shape:
        raise RuntimeError(f"{where}: grad has shape {g.shape} but the output has shape "
                           f"{root.shape}; they must match")
    return g


def _leading_to(outs: list[Tensor], captured: dict[Any, Any], floor: int | None = None
                ) -> set[Function]:
    """The nodes a walk from `outs` must reach to deliver every captured gradient: those with
    a path to a captured input (iteratively, in post-order), and the captured nodes. The
    search does not go below nodes made before creation number `floor`."""
    wanted_nodes = {k[0] for k in captured if type(k) is tuple}
    leaf_ids = {k for k in captured if type(k) is not tuple}
    # Nodes older than every captured node cannot lead to one; with no leaf to reach, the
    # search stops there.
    if floor is None:
        floor = min((n._seq for n in wanted_nodes), default=0) if not leaf_ids else 0
    needed: set[Function] = set(wanted_nodes)  # (one may be below the floor: never visited)
    done: set[Function] = set()
    stack = [(o.grad_fn, False) for o in outs if o.grad_fn is not None]
    while stack:
        node, expanded = stack.pop()
        if node in done:
            continue
        if not expanded:
            stack.append((node, True))
            stack.extend((e[0], False) for e in node._edges
                         if type(e) is tuple and e[0]._seq >= floor and e[0] not in done)
            continue
        done.add(node)
        if node in wanted_nodes or any(
                (e[0] in needed) if type(e) is tuple else (e is not None and id(e) in leaf_ids)
                for e in node._edges):
            needed.add(node)
    return needed


class _Walk:
    """What one backward pass holds while it runs."""

    __slots__ = ("anomaly", "arrays", "captured", "floor", "heap", "leaves", "needed", "pending",
                 "probed")

    def __init__(self, create_graph: bool, captured: dict[Any, Any] | None,
                 needed: set[Function] | None, floor: int) -> None:
        # Without create_graph nothing of the backward is recorded, so gradients travel as
        # plain arrays, and ops whose backward works on arrays too (array_backward) get arrays.
        self.arrays = not create_graph
        self.captured = captured  # gradients() only: what to capture, by _key
        self.needed = needed  # gradients() only: the nodes that lead to a captured input
        self.pending: dict[Function, list[Any]] = {}  # node -> gradient of each output
        self.heap: list[tuple[int, Function]] = []  # (-creation number, node)
        self.leaves: dict[int, list[Any]] = {}  # id(leaf) -> [leaf, gradient, summed?]
        self.anomaly = STATE.anomaly  # (a thread-local: read once per walk, not per node)
        self.probed: set[type] = set()  # Function classes _check_recorded asked again
        self.floor = floor  # boundary_gradients: nodes older than this are cut (captured only)


def _walk(roots: list[Tensor], seeds: list[Tensor], retain_graph: bool, create_graph: bool,
          captured: dict[Any, Any] | None, needed: set[Function] | None, floor: int = 0
          ) -> None:
    w = _Walk(create_graph, captured, needed, floor)
    for root, seed in zip(roots, seeds):
        _send(w, root if root.grad_fn is None else (root.grad_fn, root._index),
              seed.data if w.arrays else seed)
    grad_was = STATE.grad_enabled  # (as set_grad_enabled, without its object per call)
    arrays_was = STATE.walk_arrays  # (a backward may walk a graph of its own inside)
    STATE.grad_enabled = create_graph
    STATE.walk_arrays = w.arrays
    try:
        while w.heap:
            node = heappop(w.heap)[1]
            out_grads = w.pending.pop(node)
            if node._seq < floor:  # (boundary_gradients) an input's node: captured, not run
                _output_hooks(node, out_grads, captured, w.arrays, run_hooks=False)
                continue
            if node._hooks or captured is not None:
                _output_hooks(node, out_grads, captured, w.arrays)
            if needed is None or node in needed:
                _run_node(w, node, out_grads)
            if not retain_graph and node._saved is not None:
                node._saved = _FREED
                node._saved_arrays = None
        _hand_over_leaves(w, seeds, create_graph)
    finally:
        STATE.grad_enabled = grad_was
        STATE.walk_arrays = arrays_was


def _send(w: _Walk, e: Any, g: Any) -> None:
    """Add gradient `g` to what edge `e` (a leaf, or (node, output index)) has received."""
    if type(e) is not tuple:
        entry = w.leaves.get(id(e))
        if entry is None:
            w.leaves[id(e)] = [e, g, False]
        else:
            entry[1] = entry[1] + g
            entry[2] = True
        return
    node, i = e
    slot = w.pending.get(node)
    if slot is None:
        slot = w.pending[node] = [None] * len(node._out_meta)
        heappush(w.heap, (-node._seq, node))
    slot[i] = g if slot[i] is None else slot[i] + g


def _run_node(w: _Walk, node: Function, out_grads: list[Any]) -> None:
    """Run one node's backward and send each gradient it returns to its input."""
    if node._saved is not None and node._seq < versions.last_write:
        check_saved(node)  # something was written in place since this node was made
    incoming = out_grads  # (before the unused outputs get zeros)
    if len(out_grads) > 1 and any(g is None for g in out_grads):
        out_grads = [_zeros(s, d, w.arrays) if g is None else g
                     for g, (s, d) in zip(out_grads, node._out_meta)]
    if w.arrays and not node.array_backward:  # this backward needs Tensors
        out_grads = [Tensor._make(g, None, 0) for g in out_grads]
    if len(out_grads) == 1:  # (a plain call costs less than one that unpacks a list)
        grads = node.backward(node, out_grads[0])
    else:
        grads = node.backward(node, *out_grads)
    edges = node._edges
    if type(grads) is not tuple:
        grads = (grads,)
    if len(grads) != len(edges):
        raise RuntimeError(
            f"the backward of '{node.op_name()}' returned {len(grads)} gradients but its "
            f"forward took {len(edges)} positional arguments (options must be keyword-only)")
    if not w.arrays:
        _check_recorded(node, incoming, out_grads, grads, w.probed)
    arrays, needed, anomaly = w.arrays, w.needed, w.anomaly
    for i, e in enumerate(edges):
        g = grads[i]
        if e is None or g is None or (needed is not None and not _wanted(w, e)):
            continue
        if type(e) is tuple:
            shape, dt = e[0]._out_meta[e[1]]
        else:
            shape, dt = e.data.shape, e.data.dtype
        if not (arrays and type(g) is np.ndarray and g.shape == shape and g.dtype is dt):
            g = _conform(g, shape, dt, arrays, node, i)
        if anomaly:
            _check_backward(node, i, g)
        _send(w, e, g)


def _check_recorded(node: Function, incoming: list[Any], out_grads: list[Any],
                    grads: tuple[Any, ...], probed: set[type]) -> None:
    """With create_graph, refuse a backward that left the graph (.data, NumPy, ad.tensor of a
    result): differentiating it again would give silent zeros (missing terms of a second
    derivative, a zero tangent in forward mode).

    A backward is linear in its incoming gradients, so when they all require grad a correct
    one returns gradients that do too (or zeros). When one does not (the constant seed of
    `backward(create_graph=True)` or `grad(grad(f))`, and every node up to the first one whose
    gradient depends on an input), a constant gradient is ambiguous: right for an op linear in
    that input (d(2x) = 2 g), wrong for one that left the graph. Only then is the backward
    asked again, with the constant incoming gradients replaced by probes that require grad: a
    correct backward's answer now depends on them; the first answer is the one kept. Not asked
    again: the engine's own ops (the op table checks their second derivatives), and a Function
    that saved no tensor of the graph (its gradient cannot depend on the inputs: a module
    hook, a scale; so a backward with side effects runs twice only when it could be wrong),
    and a Function class already asked in this walk (`probed`: one more backward per class and
    walk, not per node, when the gradient stays constant through a network)."""
    recorded = all(type(c) is Tensor and c._requires_grad for c in incoming if c is not None)
    if not recorded and (node._engine_op or type(node) in probed or not _saves_recorded(node)):
        return
    suspect = [i for i, g in enumerate(grads) if _constant_nonzero(node, i, g)]
    if not suspect:
        return
    if not recorded:
        probes = [c if c._requires_grad else _probe(c) for c in out_grads]
        again = node.backward(node, *probes)
        again = again if type(again) is tuple else (again,)
        suspect = [i for i in suspect if _constant_nonzero(node, i, again[i])]
        if not suspect:
            probed.add(type(node))
            return
    raise RuntimeError(
        f"the backward of '{node.op_name()}' ({type(node).__qualname__}) returned a "
        f"gradient for input {suspect[0]} that is not connected to the incoming gradient: the "
        "backward left the graph (NumPy on .data, .numpy(), .item(), or ad.tensor(...) "
        "of a result), so it cannot be differentiated again, which forward mode (jvp, "
        "jacfwd, linearize, hessian(mode='fwd')), create_graph=True (grad of grad, hessian) "
        "and gradgradcheck need. Write the backward in Tensor operations on grad and "
        "ctx.saved_tensors.")


def _constant_nonzero(node: Function, i: int, g: Any) -> bool:
    """Is `g`, the gradient for input `i`, nonzero and not recorded (it requires no grad)?"""
    if g is None or (type(g) is Tensor and g._requires_grad) or node._edges[i] is None:
        return False
    data = g.data if isinstance(g, Tensor) else np.asarray(g)
    return bool(np.any(data != 0))


def _saves_recorded(node: Function) -> bool:
    """Did the node's forward save a tensor of the graph (an input that requires grad, an
    output) for its backward, which a second derivative would go through?"""
    saved = node._saved
    return type(saved) is tuple and any(
        type(s) is _Output or (isinstance(s, Tensor) and s._requires_grad) for s in saved)


def _probe(g: Tensor) -> Tensor:
    """A leaf with `g`'s values that requires grad: what a backward's answer must depend on."""
    p = Tensor._make(g.data, None, 0)
    p._requires_grad = True
    return p


def _wanted(w: _Walk, e: Any) -> bool:
    """Does edge `e` lead to a gradient that gradients() asked for?"""
    if type(e) is tuple:  # a node on the way, or a captured input's node (boundary_gradients)
        return e[0] in w.needed or e in w.captured  # type: ignore[operator]
    return id(e) in w.captured  # type: ignore[operator]


def _conform(g: Any, shape: tuple[int, ...], dt: np.dtype, arrays: bool, node: Function,
             i: int) -> Any:
    """Gradient `g` for input `i` of `node` (of `shape` and dtype `dt`) as the walk carries it
    (an array, or a Tensor with create_graph), summed back to `shape` if it has a shape the
    input broadcast to. Any other shape, or another dtype, is an error."""
    if arrays:
        if type(g) is not np.ndarray:
            g = g.data if isinstance(g, Tensor) else np.asarray(g)
        data = g
    else:
        if type(g) is not Tensor:
            g = Tensor._make(np.asarray(g), None, 0)
        data = g.data
    if data.dtype != dt or (data.shape != shape and not _broadcasts(shape, data.shape)):
        raise RuntimeError(
            f"the backward of '{node.op_name()}' returned a gradient of shape {data.shape} and "
            f"dtype {data.dtype} for input {i}, which has shape {shape} and dtype {dt}: a "
            "gradient must have the input's dtype and its shape (or the shape it was "
            "broadcast to)")
    if data.shape != shape:
        g = sum_to_shape(g, shape) if arrays else sum_to(g, shape)
    return g


def _broadcasts(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Does `shape` broadcast to `target` (so that a gradient of `target` sums back)?"""
    lead = len(target) - len(shape)
    return lead >= 0 and all(n == 1 or n == m for n, m in zip(shape, target[lead:]))


def _zeros(shape: tuple[int, ...], dtype: np.dtype, arrays: bool) -> Any:
    z = np.zeros(shape, dtype)
    return z if arrays else Tensor._make(z, None, 0)


def _output_hooks(node: Function, out_grads: list[Any], captured: dict[Any, Any] | None,
                  arrays: bool, run_hooks: bool = True) -> None:
    """Run the hooks of the node's outputs (they see Tensors) and capture what was asked."""
    hooks = (node._hooks or {}) if run_hooks else {}
    for i, g in enumerate(out_grads):
        if g is None:
            continue
        t = Tensor._make(g, None, 0) if arrays else g
        for hook in sorted(hooks.get(i, ()), key=_retains):  # retain_grad last, as PyTorch
            if captured is not None and _retains(hook):
                continue  # the transforms are pure: no .grad is written
            t = _hooked(hook, t)
        out_grads[i] = t.data if arrays else t
        if captured is not None:
            key = (node, i)
            if key in captured:
                captured[key] = t


def _retains(hook: Any) -> bool:
    """Is this the hook retain_grad() made (which keeps what the other hooks made of it)?"""
    return getattr(hook, "retains_grad", False)


def _hooked(hook: Any, g: Tensor) -> Tensor:
    """What `hook(g)` makes of the gradient: its result, which must look like `g`, or `g`."""
    r = hook(g)
    if r is None:
        return g
    data = r.data if isinstance(r, Tensor) else None
    if data is None or data.shape != g.data.shape or data.dtype != g.data.dtype:
        got = (f"shape {data.shape} and dtype {data.dtype}" if data is not None
               else f"a {type(r).__name__}")
        raise RuntimeError(
            f"the hook {getattr(hook, '__qualname__', hook)!s} returned {got} for a gradient of "
            f"shape {g.data.shape} and dtype {g.data.dtype}; a hook must return a Tensor of "
            "the same shape and dtype, or None")
    return r


def _hand_over_leaves(w: _Walk, seeds: list[Tensor], create_graph: bool) -> None:
    """Give each leaf its whole gradient once (its hooks see the sum, as in PyTorch). Every
    hook runs first; then the `.grad`s are written together, all or none: an exception (a
    KeyboardInterrupt) in a hook, or while they are written, leaves every `.grad` as it was
    before the backward. The writes hold GRAD_LOCK, so that backward calls in several threads
    through one graph sum their gradients (no `+=` of one overwrites another's). A leaf whose
    requires_grad was turned off since the forward gets no `.grad` (PyTorch's AccumulateGrad
    skips it too; so does checkpoint, which recomputes without it)."""
    handed = {id(s.data) for s in seeds}
    ready = []
    for leaf, g, summed in w.leaves.values():
        if w.arrays:
            # An array another leaf, the caller, or a view shares is copied; a sum is new.
            if not summed and (id(g) in handed or g.base is not None):
                g = g.copy()
            handed.add(id(g))
            g = Tensor._make(g, None, 0)
        hooked = False  # a hook's result may be the caller's own tensor: then .grad copies it
        # (a boundary walk, checkpoint's recomputation, only captures: the hooks run outside)
        for hook in (leaf._hooks or ()) if not w.floor else ():
            r = _hooked(hook, g)
            hooked = hooked or r is not g
            g = r
        if w.captured is not None:
            _capture(w.captured, leaf, g)
        elif leaf._requires_grad:  # (frozen since the forward: no .grad, as PyTorch's)
            ready.append((leaf, g, hooked))
    if ready:
        with GRAD_LOCK:
            _write_grads(ready, create_graph)


# One read-modify-write of a .grad at a time, across threads (the leaves' hand-over above and
# the hook retain_grad() adds).
GRAD_LOCK = threading.Lock()


def _capture(captured: dict[Any, Any], leaf: Tensor, g: Tensor) -> None:
    key = id(leaf)
    if key in captured:
        prev = captured[key]
        captured[key] = g if prev is None else prev + g


def _write_grads(ready: list[tuple[Tensor, Tensor, bool]], create_graph: bool) -> None:
    """Add each gradient to its leaf's `.grad`; on an exception part way, put back the ones
    already written and re-raise."""
    before: list[tuple[Tensor, Tensor | None]] = []
    try:
        for leaf, g, hooked in ready:
            prev = leaf._grad  # (the slot, not the checked property: the walk checked g)
            before.append((leaf, prev))
            if create_graph:
                leaf._grad = g if prev is None else prev + g
            elif prev is None:
                leaf._grad = Tensor._make(g.data.copy(), None, 0) if hooked else g
            else:
                leaf._grad = Tensor._make(prev.data + g.data, None, 0)
    except BaseException:
        for leaf, prev in before:
            leaf._grad = prev
        raise


def _check_backward(node: Function, i: int, g: Any) -> None:
    data = g.data if isinstance(g, Tensor) else g
    if data.dtype.kind in "fc" and not np.isfinite(data).all():
        bad = "nan" if np.isnan(data).any() else "inf"
        where = _user_frame(node._stack) if node._stack else "an unknown line"
        raise FloatingPointError(
            f"detect_anomaly: the backward of '{node.op_name()}' produced {bad} in the gradient "
            f"of its input {i} (shape {g.shape}); the op was created at {where}")

