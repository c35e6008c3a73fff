"""NumPy functions applied to a Tensor: differentiable where the op exists (the op registry's
NumPy tables, `autodiff/ops/registry.py`; scipy.special's ufuncs reach autodiff.scipy.special),
a clear TypeError where it does not (the graph is never dropped silently).

>>> import numpy as np
>>> import autodiff as ad
>>> x = ad.tensor([0.0, 1.0], requires_grad=True)
>>> y = np.exp(x)
>>> type(y).__name__, y.requires_grad
('Tensor', True)
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from autodiff.ops import registry
from autodiff.tensor import Tensor

# Ufuncs whose result carries no gradient: they get the arrays and return a plain Tensor.
COMPARISONS = {np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
               np.logical_and, np.logical_or, np.logical_not, np.isnan, np.isinf, np.isfinite,
               np.signbit}

# Functions whose result is not differentiable: the tensors' arrays are passed through.
FACTS = {np.shape, np.ndim, np.size, np.allclose, np.isclose, np.array_equal, np.nonzero,
         np.count_nonzero, np.any, np.all, np.result_type, np.iscomplexobj, np.isrealobj}


def _plain(x: Any) -> Any:
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, list | tuple):
        return type(x)(_plain(i) for i in x)
    return x


_OUT = ("the argument 'out' is not supported: NumPy would write the result into an array "
        "outside the graph; use the tensor it returns")


def array_ufunc(ufunc: Any, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if kwargs.get("out") is not None:
        suffix = "" if method == "__call__" else "." + method
        raise TypeError(f"{_name(ufunc)}{suffix} on autodiff Tensors: {_OUT}")
    if method == "__call__":
        fn = registry.NUMPY_UFUNCS.get(ufunc) or _scipy_special(ufunc)
        if fn is not None and not kwargs:
            return fn(*inputs)
        if ufunc in COMPARISONS:
            return Tensor._make(ufunc(*_plain(inputs), **kwargs), None, 0)
        if fn is not None:
            raise TypeError(f"{_name(ufunc)} on autodiff Tensors takes no keyword arguments, got "
                            f"{', '.join(f'{k}=' for k in kwargs)}; use the autodiff op "
                            "(ad.where for a mask, astype for a dtype)")
    raise TypeError(
        f"{_name(ufunc)}{'' if method == '__call__' else '.' + method} is not supported on "
        "autodiff Tensors (it would drop the graph); use the autodiff op, or np.asarray(t) to "
        "leave the graph on purpose")


def _scipy_special(ufunc: Any) -> Any:
    """The op of autodiff.scipy.special for one of scipy.special's ufuncs (scipy.special.erf),
    or None. SciPy is loaded already when one of its ufuncs is called: autodiff never imports
    it otherwise."""
    if not _from_scipy_special(ufunc):
        return None
    from autodiff.scipy import special

    return special.SCIPY_UFUNCS.get(ufunc)


def _from_scipy_special(ufunc: Any) -> bool:
    special = sys.modules.get("scipy.special")
    return special is not None and getattr(special, ufunc.__name__, None) is ufunc


def _name(ufunc: Any) -> str:
    return f"{'scipy.special' if _from_scipy_special(ufunc) else 'np'}.{ufunc.__name__}"


def array_function(func: Any, types: tuple[type, ...], args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> Any:
    fn = registry.NUMPY_FUNCTIONS.get(func)
    if fn is not None:
        if kwargs.get("out") is not None:
            raise TypeError(f"{_func_name(func)} on autodiff Tensors: {_OUT}")
        if "out" in kwargs:  # out=None, NumPy's default, written out
            kwargs = {k: v for k, v in kwargs.items() if k != "out"}
        try:
            return fn(*args, **kwargs)
        except TypeError as err:
            if "unexpected keyword argument" not in str(err):
                raise
            raise TypeError(f"{_func_name(func)} on autodiff Tensors: {err}; supported "
                            "arguments are those of the autodiff op") from None
    if func in FACTS:
        return func(*_plain(args), **{k: _plain(v) for k, v in kwargs.items()})
    raise TypeError(
        f"{_func_name(func)} is not supported on autodiff Tensors (it would drop the graph); "
        "use the autodiff op, or np.asarray(t) to leave the graph on purpose")


def _func_name(func: Any) -> str:
    """np.sum, np.linalg.eig, np.fft.fft: the name a user wrote."""
    module = getattr(func, "__module__", None) or "numpy"
    sub = module.split(".")[1:2] if module.startswith("numpy.") else []
    sub = [] if sub and sub[0].startswith("_") else sub  # numpy._core.fromnumeric: np.sum
    return ".".join(["np", *sub, func.__name__])
