"""NumPy functions applied to a Tensor: differentiable where the op exists, a clear TypeError
where it does not (the graph is never dropped silently).

>>> import numpy as np
>>> import autodiff as ad
>>> x = ad.tensor([0.0, 1.0], requires_grad=True)
>>> y = np.exp(x)
>>> type(y).__name__, y.requires_grad
('Tensor', True)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autodiff.ops import activation, arith, elementwise, indexing, linalg, reduce, shape
from autodiff.tensor import Tensor

UFUNCS: dict[Any, Callable[..., Any]] = {
    np.add: arith.add,
    np.subtract: arith.sub,
    np.multiply: arith.mul,
    np.true_divide: arith.div,
    np.negative: arith.neg,
    np.positive: lambda x: x,
    np.power: arith.pow,
    np.maximum: arith.maximum,
    np.minimum: arith.minimum,
    np.exp: elementwise.exp,
    np.log: elementwise.log,
    np.sqrt: elementwise.sqrt,
    np.absolute: elementwise.abs,
    np.tanh: elementwise.tanh,
    np.sin: elementwise.sin,
    np.cos: elementwise.cos,
    np.matmul: linalg.matmul,
    np.square: lambda x: arith.mul(x, x),
    np.reciprocal: lambda x: arith.div(1.0, x),
}

COMPARISONS = {np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
               np.logical_and, np.logical_or, np.logical_not, np.isnan, np.isinf, np.isfinite,
               np.sign, np.signbit}

FUNCTIONS: dict[Any, Callable[..., Any]] = {
    np.sum: reduce.sum,
    np.mean: reduce.mean,
    np.var: reduce.var,
    np.std: reduce.std,
    np.max: reduce.max,
    np.min: reduce.min,
    np.amax: reduce.max,
    np.amin: reduce.min,
    np.reshape: shape.reshape,
    np.transpose: shape.transpose,
    np.swapaxes: shape.swapaxes,
    np.broadcast_to: shape.broadcast_to,
    np.expand_dims: shape.expand_dims,
    np.squeeze: shape.squeeze,
    np.concatenate: shape.concatenate,
    np.stack: shape.stack,
    np.split: shape.split,
    np.pad: shape.pad,
    np.where: indexing.where,
    np.clip: elementwise.clip,
    np.matmul: linalg.matmul,
    np.exp: elementwise.exp,
}


def _dot(a: Any, b: Any) -> Tensor:
    """np.dot for what the engine has: 0-D operands multiply, 1-D and 2-D go through matmul."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return arith.mul(a, b)
    if np.ndim(a) > 2 or np.ndim(b) > 2:
        raise TypeError(f"np.dot on autodiff Tensors takes 0-D, 1-D or 2-D operands, got shapes "
                        f"{np.shape(a)} and {np.shape(b)}; use autodiff.matmul for batches")
    return linalg.matmul(a, b)


FUNCTIONS[np.dot] = _dot

# Functions whose result is not differentiable: the tensors' arrays are passed through.
FACTS = {np.shape, np.ndim, np.size, np.allclose, np.isclose, np.array_equal, np.argmax,
         np.argmin, np.argsort, np.nonzero, np.count_nonzero, np.any, np.all, np.result_type,
         np.iscomplexobj, np.isrealobj}

_ = activation


def _plain(x: Any) -> Any:
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, list | tuple):
        return type(x)(_plain(i) for i in x)
    return x


def array_ufunc(ufunc: Any, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if method == "__call__" and not kwargs.get("out"):
        if ufunc in UFUNCS and not kwargs:
            return UFUNCS[ufunc](*inputs)
        if ufunc in COMPARISONS:
            return Tensor._make(ufunc(*_plain(inputs), **kwargs), None, 0)
    raise TypeError(
        f"np.{ufunc.__name__}{'' if method == '__call__' else '.' + method} is not supported on "
        "autodiff Tensors (it would drop the graph); use the autodiff op, or np.asarray(t) to "
        "leave the graph on purpose")


def array_function(func: Any, types: tuple[type, ...], args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> Any:
    if func in FUNCTIONS:
        try:
            return FUNCTIONS[func](*args, **kwargs)
        except TypeError as err:
            if "unexpected keyword argument" not in str(err):
                raise
            raise TypeError(f"np.{func.__name__} on autodiff Tensors: {err}; supported "
                            "arguments are those of the autodiff op") from None
    if func in FACTS:
        return func(*_plain(args), **{k: _plain(v) for k, v in kwargs.items()})
    raise TypeError(
        f"np.{func.__name__} is not supported on autodiff Tensors (it would drop the graph); "
        "use the autodiff op, or np.asarray(t) to leave the graph on purpose")
