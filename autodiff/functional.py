"""Functional transforms: grad, value_and_grad, jacobian, hessian, vjp (as JAX and autograd).

They are pure: every `.grad` is left untouched. The gradient they return stays connected to
the input when the input requires grad, so transforms compose: `grad(grad(f))`.

>>> import autodiff as ad
>>> f = lambda x: x ** 3
>>> ad.grad(f)(ad.tensor(2.0)).item(), ad.grad(ad.grad(f))(ad.tensor(2.0)).item()
(12.0, 12.0)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autodiff.backward import gradients
from autodiff.grad_mode import enable_grad
from autodiff.ops.shape import reshape, stack
from autodiff.tensor import Tensor

Argnums = int | Sequence[int]


def _prepare(args: tuple[Any, ...], argnums: Argnums, who: str) -> tuple[list[Any], list[int],
                                                                         bool]:
    nums = [argnums] if isinstance(argnums, int) else list(argnums)
    args_ = list(args)
    connected = False
    for i in nums:
        if i >= len(args_) or i < -len(args_):
            raise ValueError(f"{who}: argnums {i} but the function got {len(args_)} arguments")
        a = args_[i]
        if isinstance(a, Tensor) and a.requires_grad:
            connected = True  # keep the result connected to the caller's graph
            continue
        t = a.detach() if isinstance(a, Tensor) else Tensor(a)
        if t.data.dtype.kind != "f":
            raise TypeError(f"{who}: argument {i} has dtype {t.dtype}; differentiate with "
                            "respect to floating inputs only")
        args_[i] = t.requires_grad_()
    return args_, nums, connected


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
        args_, nums, connected = _prepare(args, argnums, "grad")
        with enable_grad():
            out = _scalar(f(*args_), "grad")
            ins = [args_[i] for i in nums]
            if not out.requires_grad:
                gs = tuple(Tensor._make(np.zeros_like(t.data), None, 0) for t in ins)
            else:
                # retain_graph: f may use tensors of the caller's graph; pure means not freeing it
                gs = gradients(out, ins, retain_graph=True, create_graph=connected,
                               allow_unused=True)
        value = out if connected else out.detach()
        return value, (gs[0] if isinstance(argnums, int) else tuple(gs))

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
    args_, _nums, connected = _prepare(primals, tuple(range(len(primals))), "vjp")
    with enable_grad():
        out = f(*args_)
    if not isinstance(out, Tensor):
        raise TypeError(f"vjp: the function must return a Tensor, got {type(out).__name__}")

    def pullback(v: Any) -> tuple[Tensor, ...]:
        if not out.requires_grad:
            return tuple(Tensor._make(np.zeros_like(a.data), None, 0) for a in args_)
        with enable_grad():
            return gradients(out, args_, grad_outputs=v, retain_graph=True,
                             create_graph=connected or (isinstance(v, Tensor) and v.requires_grad),
                             allow_unused=True)

    return (out if connected else out.detach()), pullback


def jacobian(f: Callable[..., Tensor], argnums: Argnums = 0) -> Callable[..., Any]:
    """A function returning d f / d args[argnums], of shape out.shape + arg.shape.

    >>> import autodiff as ad
    >>> ad.jacobian(lambda x: x ** 2)(ad.tensor([1.0, 2.0])).tolist()
    [[2.0, 0.0], [0.0, 4.0]]
    """

    def wrapper(*args: Any) -> Any:
        args_, nums, connected = _prepare(args, argnums, "jacobian")
        ins = [args_[i] for i in nums]
        with enable_grad():
            out = f(*args_)
            if not isinstance(out, Tensor):
                raise TypeError("jacobian: the function must return a Tensor")
            rows: list[list[Tensor]] = [[] for _ in ins]
            flat = reshape(out, (-1,))
            for k in range(flat.size):
                if out.requires_grad:
                    e = np.zeros(flat.shape, out.dtype)
                    e[k] = 1
                    gs = gradients(flat, ins, grad_outputs=Tensor._make(e, None, 0),
                                   retain_graph=True, create_graph=connected, allow_unused=True)
                else:
                    gs = tuple(Tensor._make(np.zeros_like(t.data), None, 0) for t in ins)
                for r, g in zip(rows, gs):
                    r.append(g)
        jacs = []
        for t, r in zip(ins, rows):
            j = stack(r, axis=0) if r else Tensor._make(np.zeros((0, *t.shape), t.dtype), None, 0)
            jacs.append(reshape(j, out.shape + t.shape))
        return jacs[0] if isinstance(argnums, int) else tuple(jacs)

    return wrapper


def hessian(f: Callable[..., Tensor], argnums: int = 0) -> Callable[..., Tensor]:
    """A function returning the matrix of second derivatives of scalar f: jacobian(grad(f)).

    >>> import autodiff as ad
    >>> ad.hessian(lambda x: (x ** 3).sum())(ad.tensor([1.0, 2.0])).tolist()
    [[6.0, 0.0], [0.0, 12.0]]
    """
    return jacobian(grad(f, argnums), argnums)
