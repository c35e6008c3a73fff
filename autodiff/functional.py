"""Functional transforms: grad, value_and_grad, jacobian, hessian, vjp (as JAX and autograd).

They are pure: every `.grad` is left untouched. They compose to any depth:

- Each call differentiates with respect to fresh inputs of its own: a new leaf for a plain
  argument, or, for a tensor of an outer graph, a new node that passes it on (`input`). So two
  arguments that are the same tensor get their own gradients, and an inner `grad` never mixes
  its perturbation with an outer one (no perturbation confusion).
- When the function's value depends on tensors of an outer graph (an argument that requires
  grad, a closed-over parameter or intermediate) and grad mode is on, the gradient is computed
  with `create_graph=True`, so it stays connected to every outer graph it depends on.
  Otherwise it is a plain constant.

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


def hessian(f: Callable[..., Tensor], argnums: int = 0) -> Callable[..., Tensor]:
    """A function returning the matrix of second derivatives of scalar f: jacobian(grad(f)).

    >>> import autodiff as ad
    >>> ad.hessian(lambda x: (x ** 3).sum())(ad.tensor([1.0, 2.0])).tolist()
    [[6.0, 0.0], [0.0, 12.0]]
    """
    return jacobian(grad(f, argnums), argnums)
