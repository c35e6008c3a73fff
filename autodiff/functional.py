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


class _Call:
    """One call of a transform: its arguments with fresh inputs at `argnums`."""

    def __init__(self, args: tuple[Any, ...], argnums: Argnums, who: str) -> None:
        self.who = who
        self.outer = STATE.grad_enabled  # a result may join outer graphs only if recording
        self.start = next(versions.numbers)  # nodes numbered later were made by this call
        nums = [argnums] if isinstance(argnums, int | np.integer) else list(argnums)
        self.args = list(args)
        self.inputs = []
        for i in nums:
            if not -len(args) <= i < len(args):
                raise ValueError(f"{who}: argnums {i} but the function got {len(args)} "
                                 "arguments")
            self.args[i] = self._fresh(self.args[i], i)
            self.inputs.append(self.args[i])

    def _fresh(self, a: Any, i: int) -> Tensor:
        t = a if isinstance(a, Tensor) else Tensor(a)
        if t.data.dtype.kind != "f":
            raise TypeError(f"{self.who}: argument {i} has dtype {t.dtype}; differentiate with "
                            "respect to floating inputs only")
        if self.outer and t.requires_grad:
            with enable_grad():
                return Input.apply(t)
        return Tensor._make(t.data, None, 0).requires_grad_()

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

    def zeros(self) -> tuple[Tensor, ...]:
        return tuple(Tensor._make(np.zeros_like(t.data), None, 0) for t in self.inputs)


def _scalar(out: Any, who: str) -> Tensor:
    if not isinstance(out, Tensor):
        raise TypeError(f"{who}: the function must return a Tensor, got {type(out).__name__}")
    if out.size != 1:
        raise ValueError(f"{who}: the function must return a scalar, got shape {out.shape} "
                         "(use jacobian or vjp for non-scalar outputs)")
    return out


def value_and_grad(f: Callable[..., Tensor], argnums: Argnums = 0
                   ) -> Callable[..., tuple[Tensor, Any]]:
    """A function returning (f(*args), df/d args[argnums]); f must return a scalar.

    >>> import autodiff as ad
    >>> v, g = ad.value_and_grad(lambda x: (x * x).sum())(ad.tensor([1.0, 2.0]))
    >>> v.item(), g.tolist()
    (5.0, [2.0, 4.0])
    """

    def wrapper(*args: Any) -> tuple[Tensor, Any]:
        call = _Call(args, argnums, "grad")
        with enable_grad():
            out = _scalar(f(*call.args), "grad")
            connected = call.connected(out)
            gs = call.zeros() if not out.requires_grad else gradients(
                out, call.inputs, retain_graph=connected, create_graph=connected,
                allow_unused=True)
        value = out if connected else out.detach()
        return value, (gs[0] if isinstance(argnums, int | np.integer) else tuple(gs))

    return wrapper


def grad(f: Callable[..., Tensor], argnums: Argnums = 0) -> Callable[..., Any]:
    """A function returning the gradient of scalar `f` with respect to args[argnums].

    >>> import autodiff as ad
    >>> ad.grad(lambda x, y: (x * y).sum(), argnums=(0, 1))(ad.tensor(2.0), ad.tensor(3.0))
    (tensor(3.), tensor(2.))
    """
    vg = value_and_grad(f, argnums)

    def wrapper(*args: Any) -> Any:
        return vg(*args)[1]

    return wrapper


def vjp(f: Callable[..., Tensor], *primals: Any) -> tuple[Tensor, Callable[[Any], tuple[Any, ...]]]:
    """f(*primals) and a function mapping a cotangent v (output-shaped) to v^T J per primal.

    >>> import autodiff as ad
    >>> out, pullback = ad.vjp(lambda x: x * 2, ad.tensor([1.0, 2.0]))
    >>> pullback(ad.ones(2))[0].tolist()
    [2.0, 2.0]
    """
    call = _Call(primals, tuple(range(len(primals))), "vjp")
    with enable_grad():
        out = f(*call.args)
    if not isinstance(out, Tensor):
        raise TypeError(f"vjp: the function must return a Tensor, got {type(out).__name__}")
    connected = call.connected(out)

    def pullback(v: Any) -> tuple[Tensor, ...]:
        if not out.requires_grad:
            return call.zeros()
        keep = connected or (isinstance(v, Tensor) and v.requires_grad and STATE.grad_enabled)
        with enable_grad():
            return gradients(out, call.inputs, grad_outputs=v, retain_graph=True,
                             create_graph=keep, allow_unused=True)

    return (out if connected else out.detach()), pullback


def jacobian(f: Callable[..., Tensor], argnums: Argnums = 0) -> Callable[..., Any]:
    """A function returning d f / d args[argnums], of shape out.shape + arg.shape.

    >>> import autodiff as ad
    >>> ad.jacobian(lambda x: x ** 2)(ad.tensor([1.0, 2.0])).tolist()
    [[2.0, 0.0], [0.0, 4.0]]
    """

    def wrapper(*args: Any) -> Any:
        call = _Call(args, argnums, "jacobian")
        with enable_grad():
            out = f(*call.args)
            if not isinstance(out, Tensor):
                raise TypeError("jacobian: the function must return a Tensor")
            connected = call.connected(out)
            flat = reshape(out, (-1,))
            rows = [_jacobian_row(flat, k, call, connected) for k in range(flat.size)]
        jacs = []
        for i, t in enumerate(call.inputs):
            r = [row[i] for row in rows]
            j = stack(r, axis=0) if r else Tensor._make(np.zeros((0, *t.shape), t.dtype), None, 0)
            jacs.append(reshape(j, out.shape + t.shape))
        return jacs[0] if isinstance(argnums, int | np.integer) else tuple(jacs)

    return wrapper


def _jacobian_row(flat: Tensor, k: int, call: _Call, connected: bool) -> tuple[Tensor, ...]:
    """The gradient of output element k with respect to each input."""
    if not flat.requires_grad:
        return call.zeros()
    e = np.zeros(flat.shape, flat.dtype)
    e[k] = 1
    return gradients(flat, call.inputs, grad_outputs=Tensor._make(e, None, 0),
                     retain_graph=True, create_graph=connected, allow_unused=True)


def hessian(f: Callable[..., Tensor], argnums: int = 0, mode: str = "rev"
            ) -> Callable[..., Tensor]:
    """A function returning the matrix of second derivatives of scalar f: jacobian(grad(f))
    (reverse over reverse, `mode="rev"`) or jacfwd(grad(f)) (forward over reverse, "fwd").

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
        rng = np.random.default_rng(0)
        self.us = [Tensor._make(rng.uniform(0.5, 1.5, o.shape).astype(o.dtype), None, 0)
                   .requires_grad_() for o in outs]
        live = [(o, u) for o, u in zip(outs, self.us) if o.requires_grad]
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


def _outputs(out: Any, who: str) -> list[Tensor]:
    outs = list(out) if isinstance(out, tuple) else [out]
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"{who}: the function must return a Tensor or a tuple of Tensors, "
                            f"got {type(o).__name__}")
    return outs


def _tangents(call: _Call, tangents: Sequence[Any], who: str) -> list[Tensor]:
    if len(tangents) != len(call.inputs):
        raise ValueError(f"{who}: {len(call.inputs)} primals but {len(tangents)} tangents")
    out = []
    for i, (p, t) in enumerate(zip(call.inputs, tangents)):
        t = t if isinstance(t, Tensor) else Tensor._make(np.asarray(t), None, 0)
        if t.shape != p.shape:
            raise ValueError(f"{who}: tangent {i} has shape {t.shape} but its primal has shape "
                             f"{p.shape}")
        out.append(t if t.dtype == p.dtype else t.astype(p.dtype))
    return out


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]
        ) -> tuple[Any, Any]:
    """(f(*primals), J v): the directional derivative of f at primals along tangents (one per
    primal, of its shape); f returns a Tensor or a tuple of Tensors.

    >>> import autodiff as ad
    >>> out, t = ad.jvp(lambda x: x ** 3, (ad.tensor([1.0, 2.0]),), (ad.tensor([1.0, 0.5]),))
    >>> out.tolist(), t.tolist()
    ([1.0, 8.0], [3.0, 6.0])
    """
    call = _Call(tuple(primals), tuple(range(len(primals))), "jvp")
    vs = _tangents(call, tangents, "jvp")
    with enable_grad():
        out = f(*call.args)
        outs = _outputs(out, "jvp")
        connected = any(call.connected(o) for o in outs)
        keep = connected or (STATE.grad_enabled and any(v.requires_grad for v in vs))
        jvs = _Pushforward(outs, call.inputs)(vs, keep)
    values = [o if connected else o.detach() for o in outs]
    if isinstance(out, tuple):
        return tuple(values), tuple(jvs)
    return values[0], jvs[0]


def linearize(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., Any]]:
    """f(*primals) and the linear map v -> J v at primals (f's forward pass and its recorded
    backward are kept, so each call costs one backward pass).

    >>> import autodiff as ad
    >>> out, f_jvp = ad.linearize(lambda x: x.sin(), ad.tensor([0.0, 1.0]))
    >>> f_jvp(ad.tensor([2.0, 0.0])).tolist()
    [2.0, 0.0]
    """
    call = _Call(primals, tuple(range(len(primals))), "linearize")
    with enable_grad():
        out = f(*call.args)
        outs = _outputs(out, "linearize")
        connected = any(call.connected(o) for o in outs)
        push = _Pushforward(outs, call.inputs)

    def f_jvp(*tangents: Any) -> Any:
        vs = _tangents(call, tangents, "linearize")
        keep = connected or (STATE.grad_enabled and any(v.requires_grad for v in vs))
        with enable_grad():
            jvs = push(vs, keep)
        return tuple(jvs) if isinstance(out, tuple) else jvs[0]

    values = [o if connected else o.detach() for o in outs]
    return (tuple(values) if isinstance(out, tuple) else values[0]), f_jvp


def jacfwd(f: Callable[..., Tensor], argnums: Argnums = 0) -> Callable[..., Any]:
    """A function returning d f / d args[argnums] by forward mode, one jvp per input element
    (better than `jacobian` when the inputs are fewer than the outputs); out.shape + arg.shape.

    >>> import autodiff as ad
    >>> ad.jacfwd(lambda x: x ** 2)(ad.tensor([1.0, 2.0])).tolist()
    [[2.0, 0.0], [0.0, 4.0]]
    """

    def wrapper(*args: Any) -> Any:
        call = _Call(args, argnums, "jacfwd")
        with enable_grad():
            out = f(*call.args)
            if not isinstance(out, Tensor):
                raise TypeError("jacfwd: the function must return a Tensor")
            connected = call.connected(out)
            push = _Pushforward([out], call.inputs)
            jacs = [_forward_columns(push, call, i, connected) for i in range(len(call.inputs))]
        shaped = [reshape(j, out.shape + t.shape) for j, t in zip(jacs, call.inputs)]
        return shaped[0] if isinstance(argnums, int | np.integer) else tuple(shaped)

    return wrapper


def _forward_columns(push: _Pushforward, call: _Call, i: int, connected: bool) -> Tensor:
    """J e_j for every element j of input i, stacked on a last axis: (out.size, in.size)."""
    t = call.inputs[i]
    cols = []
    for j in range(t.size):
        vs = [Tensor._make(np.zeros_like(u.data), None, 0) for u in call.inputs]
        vs[i].data.reshape(-1)[j] = 1
        cols.append(reshape(push(vs, connected)[0], (-1,)))
    out = push.outs[0]
    if not cols:
        return Tensor._make(np.zeros((out.size, 0), out.dtype), None, 0)
    return stack(cols, axis=-1)
