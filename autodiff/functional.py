"""Functional transforms: grad, value_and_grad, jacobian, hessian, vjp (reverse mode) and jvp,
jacfwd, linearize (forward mode), as in JAX and HIPS autograd.

They are pure: every `.grad` is left untouched. They compose to any depth:

- Each call differentiates with respect to fresh inputs of its own: a new leaf for a plain
  argument, or, for a tensor of an outer graph, a new node that passes it on (`input`). So two
  arguments that are the same tensor get their own gradients, and an inner `grad` never mixes
  its perturbation with an outer one (no perturbation confusion).
- When the function's value depends on tensors of an outer graph (an argument that requires
  grad, a closed-over parameter or intermediate) and grad mode is on, the gradient is computed
  with `create_graph=True`, so it stays connected to every outer graph it depends on.
  Otherwise it is a plain constant.

Arguments and results may be trees (tuples, lists, dicts of Tensors, as torch.func's and JAX's
pytrees): the gradient with respect to a dict of parameters is a dict of the same keys.
`has_aux=True` lets the function return (output, aux), aux handed back untouched.

Forward mode is reverse mode twice (the "double vjp"): with a cotangent u that requires grad,
the reverse pass g(u) = J^T u is recorded (create_graph), and since g is linear in u, the
gradient of <g(u), v> with respect to u is J v. So every op with a second derivative has a
forward mode, with no tangent rule of its own; a jvp costs about a forward and two backward
passes (PyTorch's `torch.autograd.functional.jvp` does the same).

>>> import autodiff as ad
>>> f = lambda x: x ** 3
>>> ad.grad(f)(ad.tensor(2.0)).item(), ad.grad(ad.grad(f))(ad.tensor(2.0)).item()
(12.0, 12.0)
>>> ad.grad(lambda x: x * ad.grad(lambda y: x * y)(2.0))(1.0).item()  # d/dx x * x
2.0
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autodiff import versions
from autodiff.backward import gradients
from autodiff.function import Function
from autodiff.grad_mode import STATE, enable_grad
from autodiff.ops.shape import reshape, stack
from autodiff.pytree import Rebuild, flatten, holds_tensors
from autodiff.tensor import Tensor

Argnums = int | Sequence[int]


class Input(Function):
    """A fresh input of a transform that passes on a tensor of an outer graph: its own node,
    so gradients with respect to it are its own, while the outer graph stays reachable."""

    name = "input"
    array_backward = True

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, grad):
        return grad


def _argnums(argnums: Any, who: str) -> list[int]:
    if type(argnums) is int:  # (the usual case, at every call)
        return [argnums]
    one = isinstance(argnums, int | np.integer) and not isinstance(argnums, bool)
    nums = [argnums] if one else argnums
    if not isinstance(nums, Sequence) or isinstance(nums, str) or not all(
            isinstance(i, int | np.integer) and not isinstance(i, bool) for i in nums):
        raise TypeError(f"{who}: argnums must be an int or a tuple of ints, got {argnums!r}")
    return [int(i) for i in nums]


class _Call:
    """One call of a transform: its arguments with fresh inputs at `argnums` (every leaf of an
    argument that is a tree), and how to give results back in the arguments' structure."""

    def __init__(self, args: tuple[Any, ...], argnums: Argnums, who: str) -> None:
        self.who = who
        self.single = isinstance(argnums, int | np.integer)
        self.outer = STATE.grad_enabled  # a result may join outer graphs only if recording
        self.start = next(versions.numbers)  # nodes numbered later were made by this call
        self.args = list(args)
        self.inputs: list[Tensor] = []  # the fresh leaves, argument after argument
        self.groups: list[tuple[int, int, Rebuild | None]] = []  # (first, count, rebuild)
        for i in _argnums(argnums, who):
            if not -len(args) <= i < len(args):
                raise ValueError(f"{who}: argnums {i} but the function got {len(args)} "
                                 "arguments")
            leaves, rebuild = flatten(self.args[i]) if holds_tensors(self.args[i]) else (
                [self.args[i]], None)
            fresh = [self._fresh(a, i) for a in leaves]
            self.groups.append((len(self.inputs), len(fresh), rebuild))
            self.inputs.extend(fresh)
            self.args[i] = fresh[0] if rebuild is None else rebuild(fresh)

    def _fresh(self, a: Any, i: int) -> Tensor:
        t = a if isinstance(a, Tensor) else Tensor(a)
        if t.data.dtype.kind != "f":
            raise TypeError(f"{self.who}: argument {i} has dtype {t.dtype}; differentiate with "
                            "respect to floating inputs only")
        if self.outer and t.requires_grad:
            with enable_grad():
                return Input.apply(t)
        return Tensor._make(t.data, None, 0).requires_grad_()

    def per_argument(self, flat: Sequence[Any]) -> list[Any]:
        """Results given one per fresh leaf, regrouped in the structure of each argument."""
        return [flat[first] if rebuild is None else rebuild(list(flat[first:first + n]))
                for first, n, rebuild in self.groups]

    def shaped(self, flat: Sequence[Any]) -> Any:
        """As `per_argument`, then one result for an int argnums, a tuple for a sequence."""
        per = self.per_argument(flat)
        return per[0] if self.single else tuple(per)

    def leaves_like(self, values: Sequence[Any], who: str, what: str) -> list[Any]:
        """`values` (one per argument, a tree where the argument is one) as one per leaf."""
        if len(values) != len(self.groups):
            raise ValueError(f"{who}: {len(self.groups)} primals but {len(values)} {what}")
        out: list[Any] = []
        for k, (v, (_, n, rebuild)) in enumerate(zip(values, self.groups)):
            leaves = [v] if rebuild is None else flatten(v)[0]
            if len(leaves) != n:
                raise ValueError(f"{who}: {what[:-1]} {k} has {len(leaves)} leaves but its "
                                 f"primal has {n}; give it the primal's structure")
            out.extend(leaves)
        return out

    def connected(self, out: Tensor) -> bool:
        """Does `out` depend on a tensor that requires grad other than this call's fresh
        inputs (so that its gradient must stay connected to an outer graph)?"""
        if not self.outer or out.grad_fn is None:
            return False
        fresh = {id(t) for t in self.inputs if t.grad_fn is None}
        seen = {out.grad_fn}
        stack = [out.grad_fn]
        while stack:
            node = stack.pop()
            if node._seq < self.start:
                return True  # made before this call: an outer graph
            for e in node._edges:
                if type(e) is tuple:
                    if e[0] not in seen:
                        seen.add(e[0])
                        stack.append(e[0])
                elif e is not None and id(e) not in fresh:
                    return True  # a leaf of an outer graph (a parameter, an argument)
        return False

    def result(self, t: Any, connected: bool) -> Any:
        """A Tensor the function returned, as the transform hands it back: detached unless it
        must stay connected to an outer graph."""
        return t if connected or not isinstance(t, Tensor) else t.detach()

    def aux(self, aux: Any) -> Any:
        """The function's auxiliary result, each Tensor in it detached unless connected."""
        leaves, rebuild = flatten(aux)
        return rebuild([self.result(a, isinstance(a, Tensor) and self.connected(a))
                        for a in leaves])

    def zeros(self) -> tuple[Tensor, ...]:
        return tuple(Tensor._make(np.zeros_like(t.data), None, 0) for t in self.inputs)


def _split_aux(out: Any, has_aux: bool, who: str) -> tuple[Any, Any]:
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple | list) and len(out) == 2):
        raise TypeError(f"{who}: with has_aux=True the function must return a pair (output, "
                        f"aux), got {type(out).__name__}")
    return out[0], out[1]


def _scalar(out: Any, who: str) -> Tensor:
    if not isinstance(out, Tensor):
        hint = " (to return more, pass has_aux=True and return (scalar, aux))" if isinstance(
            out, tuple | list) else ""
        raise TypeError(f"{who}: the function must return a Tensor, got "
                        f"{type(out).__name__}{hint}")
    if out.size != 1:
        raise ValueError(f"{who}: the function must return a scalar, got shape {out.shape} "
                         "(use jacobian or vjp for non-scalar outputs)")
    return out


def _outputs(out: Any, who: str) -> tuple[list[Tensor], Rebuild]:
    """The Tensors of a function's result (a Tensor or a tree of them) and its structure."""
    outs, rebuild = flatten(out)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"{who}: the function must return a Tensor or a tuple of "
                            f"Tensors (or a list or dict of them), got {type(o).__name__}"
                            + (f" inside a {type(out).__name__}" if o is not out else ""))
    return outs, rebuild


def value_and_grad(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False
                   ) -> Callable[..., tuple[Any, Any]]:
    """A function returning (f(*args), df/d args[argnums]); f must return a scalar. An argument
    may be a tuple, list or dict of Tensors: its gradient has the same structure. With
    `has_aux=True` f returns (scalar, aux) and the value is (f's scalar, aux).

    >>> import autodiff as ad
    >>> v, g = ad.value_and_grad(lambda x: (x * x).sum())(ad.tensor([1.0, 2.0]))
    >>> v.item(), g.tolist()
    (5.0, [2.0, 4.0])
    >>> (v, n), g = ad.value_and_grad(lambda p: ((p["w"] * 3).sum(), 7), has_aux=True)(
    ...     {"w": ad.tensor([1.0, 2.0])})
    >>> v.item(), n, g
    (9.0, 7, {'w': tensor([3., 3.])})
    """

    def wrapper(*args: Any) -> tuple[Any, Any]:
        call = _Call(args, argnums, "grad")
        with enable_grad():
            out, aux = _split_aux(f(*call.args), has_aux, "grad")
            out = _scalar(out, "grad")
            connected = call.connected(out)
            gs = call.zeros() if not out.requires_grad else gradients(
                out, call.inputs, retain_graph=connected, create_graph=connected,
                allow_unused=True)
        value = call.result(out, connected)
        return ((value, call.aux(aux)) if has_aux else value), call.shaped(gs)

    return wrapper


def grad(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False
         ) -> Callable[..., Any]:
    """A function returning the gradient of scalar `f` with respect to args[argnums] (each in
    its argument's structure); with `has_aux=True`, f returns (scalar, aux) and the function
    returns (gradient, aux), as torch.func.grad.

    >>> import autodiff as ad
    >>> ad.grad(lambda x, y: (x * y).sum(), argnums=(0, 1))(ad.tensor(2.0), ad.tensor(3.0))
    (tensor(3.), tensor(2.))
    >>> ad.grad(lambda p: (p[0] * p[1]).sum())((ad.tensor(2.0), ad.tensor(3.0)))
    (tensor(3.), tensor(2.))
    """
    vg = value_and_grad(f, argnums, has_aux)

    def wrapper(*args: Any) -> Any:
        value, g = vg(*args)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(f: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """f(*primals) and a function mapping a cotangent v (shaped as the output: a Tensor, or a
    tree of them when f returns one) to v^T J per primal; with `has_aux=True` f returns
    (output, aux) and aux comes third, as torch.func.vjp.

    >>> import autodiff as ad
    >>> out, pullback = ad.vjp(lambda x: x * 2, ad.tensor([1.0, 2.0]))
    >>> pullback(ad.ones(2))[0].tolist()
    [2.0, 2.0]
    >>> out, pullback = ad.vjp(lambda x: (x * 2, x.sum()), ad.tensor([1.0, 2.0]))
    >>> pullback((ad.ones(2), ad.tensor(1.0)))[0].tolist()
    [3.0, 3.0]
    """
    call = _Call(primals, tuple(range(len(primals))), "vjp")
    with enable_grad():
        out, aux = _split_aux(f(*call.args), has_aux, "vjp")
    outs, rebuild = _outputs(out, "vjp")
    connected = any(call.connected(o) for o in outs)

    def pullback(v: Any) -> tuple[Any, ...]:
        vs = [v] if isinstance(out, Tensor) else flatten(v)[0]
        if len(vs) != len(outs):
            raise ValueError(f"vjp: the cotangent has {len(vs)} leaves but the output has "
                             f"{len(outs)}; give it the output's structure")
        live = [(o, c) for o, c in zip(outs, vs) if o.requires_grad]
        if not live:
            return tuple(call.per_argument(call.zeros()))
        keep = connected or (STATE.grad_enabled and any(
            isinstance(c, Tensor) and c.requires_grad for c in vs))
        with enable_grad():
            gs = gradients([o for o, _ in live], call.inputs, grad_outputs=[c for _, c in live],
                           retain_graph=True, create_graph=keep, allow_unused=True)
        return tuple(call.per_argument(gs))

    value = rebuild([call.result(o, connected) for o in outs])
    return (value, pullback, call.aux(aux)) if has_aux else (value, pullback)


def jacobian(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False
             ) -> Callable[..., Any]:
    """A function returning d f / d args[argnums], of shape out.shape + arg.shape, by reverse
    mode (one vector-Jacobian product per output element). Trees nest as torch.func.jacrev's:
    for each output Tensor, the Jacobians in the structure of args[argnums]. With
    `has_aux=True` f returns (output, aux) and the function returns (Jacobian, aux).

    >>> import autodiff as ad
    >>> ad.jacobian(lambda x: x ** 2)(ad.tensor([1.0, 2.0])).tolist()
    [[2.0, 0.0], [0.0, 4.0]]
    >>> ad.jacobian(lambda x: (x * 3, x.sum()))(ad.tensor([1.0, 2.0]))[1].tolist()
    [1.0, 1.0]
    """

    def wrapper(*args: Any) -> Any:
        call = _Call(args, argnums, "jacobian")
        with enable_grad():
            out, aux = _split_aux(f(*call.args), has_aux, "jacobian")
            outs, rebuild = _outputs(out, "jacobian")
            jacs = [_reverse_rows(o, call) for o in outs]
        result = rebuild([call.shaped(j) for j in jacs])
        return (result, call.aux(aux)) if has_aux else result

    return wrapper


def _reverse_rows(out: Tensor, call: _Call) -> list[Tensor]:
    """d out / d input for each fresh input, of shape out.shape + input.shape."""
    connected = call.connected(out)
    flat = reshape(out, (-1,))
    rows = [_jacobian_row(flat, k, call, connected) for k in range(flat.size)]
    jacs = []
    for i, t in enumerate(call.inputs):
        r = [row[i] for row in rows]
        j = stack(r, axis=0) if r else Tensor._make(np.zeros((0, *t.shape), t.dtype), None, 0)
        jacs.append(reshape(j, out.shape + t.shape))
    return jacs


def _jacobian_row(flat: Tensor, k: int, call: _Call, connected: bool) -> tuple[Tensor, ...]:
    """The gradient of output element k with respect to each input."""
    if not flat.requires_grad:
        return call.zeros()
    e = np.zeros(flat.shape, flat.dtype)
    e[k] = 1
    return gradients(flat, call.inputs, grad_outputs=Tensor._make(e, None, 0),
                     retain_graph=True, create_graph=connected, allow_unused=True)


def hessian(f: Callable[..., Tensor], argnums: Argnums = 0, mode: str = "rev"
            ) -> Callable[..., Any]:
    """A function returning the matrix of second derivatives of scalar f: jacobian(grad(f))
    (reverse over reverse, `mode="rev"`) or jacfwd(grad(f)) (forward over reverse, "fwd").
    With a tuple `argnums`, the blocks H[i][j] = d2f / d args[i] d args[j], as
    torch.func.hessian's.

    >>> import autodiff as ad
    >>> ad.hessian(lambda x: (x ** 3).sum())(ad.tensor([1.0, 2.0])).tolist()
    [[6.0, 0.0], [0.0, 12.0]]
    >>> ad.hessian(lambda x: (x ** 3).sum(), mode="fwd")(ad.tensor([1.0, 2.0])).tolist()
    [[6.0, 0.0], [0.0, 12.0]]
    """
    if mode not in ("rev", "fwd"):
        raise ValueError(f"hessian: mode must be 'rev' or 'fwd', got {mode!r}")
    outer = jacobian if mode == "rev" else jacfwd
    return outer(grad(f, argnums), argnums)


# -- forward mode ------------------------------------------------------------------------------

class _Pushforward:
    """J applied to tangents, for the outputs of one call: J^T u is recorded once, with a
    cotangent u per output that requires grad; each J v is then the gradient of <J^T u, v>
    with respect to u (a backward pass through the recorded backward)."""

    def __init__(self, outs: list[Tensor], inputs: list[Tensor]) -> None:
        self.outs = outs
        # Any u gives the same J v (g is linear in u), but not zero: a backward that checks
        # which outputs the loss uses (eigh's and svd's at a repeated value), or one that left
        # the graph (the walk then raises), must see a cotangent that uses every output.
        # (an output that does not require grad, an integer one say, gets a zero tangent)
        live = [(o, Tensor._make(_spread(o), None, 0).requires_grad_())
                for o in outs if o.requires_grad]
        self.live_us = [u for _, u in live]
        self.gs = gradients([o for o, _ in live], inputs, grad_outputs=self.live_us,
                            create_graph=True, allow_unused=True) if live else ()

    def __call__(self, tangents: list[Tensor], create_graph: bool) -> list[Tensor]:
        total = None
        for g, t in zip(self.gs, tangents):
            if g.requires_grad:
                term = (g * t).sum()
                total = term if total is None else total + term
        zeros = [Tensor._make(np.zeros_like(o.data), None, 0) for o in self.outs]
        if total is None or not total.requires_grad:
            return zeros
        jvs = iter(gradients(total, self.live_us, retain_graph=True, create_graph=create_graph,
                             allow_unused=True))
        return [next(jvs) if o.requires_grad else z for o, z in zip(self.outs, zeros)]


def _spread(o: Tensor) -> np.ndarray:
    """Values in [0.5, 1.5) of o's shape and dtype, spread out (the golden-ratio sequence, no
    two alike nearby), so that no structure of J makes J^T u vanish by accident."""
    return ((np.arange(o.size) * 0.6180339887498949) % 1 + 0.5).reshape(o.shape).astype(o.dtype)


def _tangents(call: _Call, tangents: Sequence[Any], who: str) -> list[Tensor]:
    """One tangent per fresh input, of its shape and dtype (a tree where the primal is one)."""
    out = []
    for i, (p, t) in enumerate(zip(call.inputs, call.leaves_like(tangents, who, "tangents"))):
        t = t if isinstance(t, Tensor) else Tensor._make(np.asarray(t), None, 0)
        if t.shape != p.shape:
            raise ValueError(f"{who}: tangent {i} has shape {t.shape} but its primal has shape "
                             f"{p.shape}")
        out.append(t if t.dtype == p.dtype else t.astype(p.dtype))
    return out


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any],
        has_aux: bool = False) -> tuple[Any, ...]:
    """(f(*primals), J v): the directional derivative of f at primals along tangents (one per
    primal, of its shape, or of its structure when the primal is a tuple, list or dict of
    Tensors); f returns a Tensor or a tree of them, and J v has the same structure. With
    `has_aux=True` f returns (output, aux) and aux comes third, as torch.func.jvp.

    >>> import autodiff as ad
    >>> out, t = ad.jvp(lambda x: x ** 3, (ad.tensor([1.0, 2.0]),), (ad.tensor([1.0, 0.5]),))
    >>> out.tolist(), t.tolist()
    ([1.0, 8.0], [3.0, 6.0])
    """
    primals, tangents = _sequence(primals, "primals"), _sequence(tangents, "tangents")
    call = _Call(primals, tuple(range(len(primals))), "jvp")
    vs = _tangents(call, tangents, "jvp")
    with enable_grad():
        out, aux = _split_aux(f(*call.args), has_aux, "jvp")
        outs, rebuild = _outputs(out, "jvp")
        connected = any(call.connected(o) for o in outs)
        keep = connected or (STATE.grad_enabled and any(v.requires_grad for v in vs))
        jvs = _Pushforward(outs, call.inputs)(vs, keep)
    value = rebuild([call.result(o, connected) for o in outs])
    return (value, rebuild(jvs), call.aux(aux)) if has_aux else (value, rebuild(jvs))


def _sequence(xs: Any, what: str) -> Sequence[Any]:
    if not isinstance(xs, tuple | list):
        raise TypeError(f"jvp: {what} must be a tuple or list (one per argument of the "
                        f"function), got {type(xs).__name__}")
    return xs


def linearize(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., Any]]:
    """f(*primals) and the linear map v -> J v at primals (f's forward pass and its recorded
    backward are kept, so each call costs one backward pass); trees as in `jvp`.

    >>> import autodiff as ad
    >>> out, f_jvp = ad.linearize(lambda x: x.sin(), ad.tensor([0.0, 1.0]))
    >>> f_jvp(ad.tensor([2.0, 0.0])).tolist()
    [2.0, 0.0]
    """
    call = _Call(primals, tuple(range(len(primals))), "linearize")
    with enable_grad():
        outs, rebuild = _outputs(f(*call.args), "linearize")
        connected = any(call.connected(o) for o in outs)
        push = _Pushforward(outs, call.inputs)

    def f_jvp(*tangents: Any) -> Any:
        vs = _tangents(call, tangents, "linearize")
        keep = connected or (STATE.grad_enabled and any(v.requires_grad for v in vs))
        with enable_grad():
            return rebuild(push(vs, keep))

    return rebuild([call.result(o, connected) for o in outs]), f_jvp


def jacfwd(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False
           ) -> Callable[..., Any]:
    """A function returning d f / d args[argnums] by forward mode, one jvp per input element
    (better than `jacobian` when the inputs are fewer than the outputs); out.shape + arg.shape,
    trees and `has_aux` as in `jacobian`.

    >>> import autodiff as ad
    >>> ad.jacfwd(lambda x: x ** 2)(ad.tensor([1.0, 2.0])).tolist()
    [[2.0, 0.0], [0.0, 4.0]]
    """

    def wrapper(*args: Any) -> Any:
        call = _Call(args, argnums, "jacfwd")
        with enable_grad():
            out, aux = _split_aux(f(*call.args), has_aux, "jacfwd")
            outs, rebuild = _outputs(out, "jacfwd")
            connected = any(call.connected(o) for o in outs)
            push = _Pushforward(outs, call.inputs)
            cols = [_forward_columns(push, call, i, connected) for i in range(len(call.inputs))]
        result = rebuild([call.shaped([reshape(c[k], o.shape + t.shape)
                                       for c, t in zip(cols, call.inputs)])
                          for k, o in enumerate(outs)])
        return (result, call.aux(aux)) if has_aux else result

    return wrapper


def _forward_columns(push: _Pushforward, call: _Call, i: int, connected: bool
                     ) -> list[Tensor]:
    """For each output, J e_j for every element j of input i, stacked on a last axis:
    (out.size, in.size)."""
    t = call.inputs[i]
    cols: list[list[Tensor]] = [[] for _ in push.outs]
    for j in range(t.size):
        vs = [Tensor._make(np.zeros_like(u.data), None, 0) for u in call.inputs]
        vs[i].data.reshape(-1)[j] = 1
        for k, jv in enumerate(push(vs, connected)):
            cols[k].append(reshape(jv, (-1,)))
    return [stack(c, axis=-1) if c else Tensor._make(np.zeros((o.size, 0), o.dtype), None, 0)
            for c, o in zip(cols, push.outs)]
