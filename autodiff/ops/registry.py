"""The op registry: one declaration beside an op's public function makes the op reachable
every way a user calls it.

    @register(np.cumsum, method=True)
    def cumsum(x, axis=None): ...

- `ad.cumsum`: the function itself, exported by its module's `__all__` (the same file);
- `np.cumsum(t)`: NumPy's function (or ufunc) dispatches to it through `__array_function__`
  (`__array_ufunc__`); several NumPy names may map to one op (`np.amax`, `np.max`);
- `t.cumsum(...)`: the Tensor method, where `method=True` (the op's own name), a name, or a
  pair (name, function taking the tensor first) for a method whose arguments differ from the
  function's, such as `t.reshape(2, 3)`. Operators register the same way (`method="__add__"`).
- `namespace="linalg"` puts the op in a namespace module instead (`ad.linalg.inv`, not `ad.inv`;
  `autodiff/linalg.py` re-exports it): its public name, the key of `OPS`, is "linalg.inv".

`Tensor` installs every registered method once, when the package is imported; `numpy_interop`
reads the NumPy tables. A test checks that every registered op is in its module's `__all__`.

An op or method that takes NumPy's `axis=` or `keepdims=` (or `ddof=`) is registered through
`explain_pytorch_keywords`: a call in PyTorch's spelling, `t.sum(dim=1)`, raises a TypeError
that names the op and NumPy's word, instead of Python's "unexpected keyword argument".

>>> import numpy as np
>>> from autodiff.ops import registry
>>> registry.NUMPY_FUNCTIONS[np.sum].__name__, registry.METHODS["sum"].__name__
('sum', 'sum')
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Op:
    """One registered op: its public function, the NumPy names that reach it, its methods."""

    fn: Callable[..., Any]
    numpy: tuple[Any, ...]
    methods: tuple[str, ...]
    differentiable: bool = True  # False: its result carries no gradient (argmax, imag)
    convention: str = ""  # its gradient where the function has a kink or a jump (docs/numpy.md)
    namespace: str = ""  # "linalg": reached as ad.linalg.<name> (autodiff/linalg.py)


OPS: dict[str, Op] = {}  # public name -> op ("sum", or "linalg.inv" for an op of a namespace)
NUMPY_UFUNCS: dict[np.ufunc, Callable[..., Any]] = {}  # np.exp -> exp
NUMPY_FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {}  # np.sum -> sum
METHODS: dict[str, Callable[..., Any]] = {}  # Tensor method name -> function(tensor, ...)
# Called with (name, function) for every method, those registered so far and those to come:
# Tensor installs them this way (autodiff/tensor.py).
_installer: list[Callable[[str, Callable[..., Any]], None]] = []


def install_methods(install: Callable[[str, Callable[..., Any]], None]) -> None:
    """Call `install(name, fn)` for every method registered, now and later."""
    _installer.append(install)
    for name, fn in METHODS.items():
        install(name, fn)


Method = bool | str | tuple[str, Callable[..., Any]]


def register(*numpy: Any, method: Method | list[Method] = False, public: bool = True,
             differentiable: bool = True, convention: str = "",
             namespace: str = "") -> Callable[[F], F]:
    """Register the decorated function as an op; see the module docstring.

    `numpy`: NumPy functions or ufuncs that dispatch to it. `method`: True (a Tensor method of
    the same name), a name, a pair (name, function of the tensor and the method's arguments),
    or a list of these. `public=False` for a NumPy adapter that is not an `ad.` name.
    `differentiable=False` for an op whose result carries no gradient (an index, a count);
    `convention`: the gradient it takes where the math has none ("0 at x = 0, as PyTorch").
    `namespace`: the module the op belongs to instead of `autodiff` ("linalg": `ad.linalg.inv`).
    """

    def decorate(fn: F) -> F:
        fn = explain_pytorch_keywords(fn, f"{namespace}.{fn.__name__}" if namespace else None)
        names = []
        for m in method if isinstance(method, list) else [method]:
            if m is False:
                continue
            name, impl = (fn.__name__, fn) if m is True else (m, fn) if isinstance(m, str) else m
            register_method(name, impl)
            names.append(name)
        for f in numpy:
            _add(NUMPY_UFUNCS if isinstance(f, np.ufunc) else NUMPY_FUNCTIONS, f, fn, "NumPy")
        if public:
            name = f"{namespace}.{fn.__name__}" if namespace else fn.__name__
            _add(OPS, name, Op(fn, numpy, tuple(names), differentiable, convention, namespace),
                 "op")
        return fn

    return decorate


def register_method(name: str, fn: Callable[..., Any]) -> None:
    """A Tensor method (an operator, say) that is not an op's own function."""
    fn = explain_pytorch_keywords(fn, name)
    if name in METHODS and not _reloaded(METHODS[name], fn):
        raise ValueError(f"register: method {name!r} is registered twice")
    for install in _installer:
        install(name, fn)  # may refuse the name
    METHODS[name] = fn


def _reloaded(old: Any, new: Any) -> bool:
    """Whether `new` is `old` defined again by the same source: its module run a second time
    (pytest importing an op module's doctests by path does that). The new one replaces it."""
    def source(f: Any) -> tuple[Any, ...]:
        f = inspect.unwrap(getattr(f, "fn", f))  # an Op's function, under its explanation
        f = getattr(f, "fget", f)  # a property's getter
        line = getattr(getattr(f, "__code__", None), "co_firstlineno", None)
        return getattr(f, "__module__", None), getattr(f, "__qualname__", None), line

    if inspect.unwrap(old) is inspect.unwrap(new):
        return True  # the same function (an op imported by the module run again)
    return None not in source(old) and source(old) == source(new)


def _add(table: dict[Any, Any], key: Any, value: Any, what: str) -> None:
    if key in table and not _reloaded(table[key], value):
        raise ValueError(f"register: {what} {getattr(key, '__name__', key)!r} is registered "
                         "twice")
    table[key] = value


# PyTorch's keyword -> NumPy's, for the ops that take NumPy's and not PyTorch's.
PYTORCH_KEYWORDS = {"dim": "axis", "dims": "axis", "keepdim": "keepdims", "correction": "ddof",
                    "unbiased": "ddof"}


def explain_pytorch_keywords(fn: F, name: str | None = None) -> F:
    """`fn` itself, unless it takes NumPy's `axis=`, `keepdims=` or `ddof=` where PyTorch says
    `dim=` (or `dims=`), `keepdim=`, `correction=` (or `unbiased=`): then `fn` called through a
    wrapper that turns Python's "unexpected keyword argument" for PyTorch's word into a
    TypeError naming the op (`name`, or the function's), NumPy's word and the value given.
    A correct call costs one more Python frame, nothing else (docs/performance.md).

    >>> import autodiff as ad
    >>> @ad.explain_pytorch_keywords
    ... def total(x, axis=None, keepdims=False):
    ...     return ad.sum(x, axis=axis, keepdims=keepdims)
    >>> total(ad.ones((2, 3)), axis=1)
    tensor([3., 3.])
    >>> total(ad.ones((2, 3)), dim=1)
    Traceback (most recent call last):
        ...
    TypeError: total: this library uses NumPy's axis= (axis=1), not dim=
    """
    if not inspect.isfunction(fn) or hasattr(fn, "pytorch_keywords"):  # a property, or done
        return fn
    code = fn.__code__  # (not inspect.signature: this runs for every op, at import)
    if code.co_flags & inspect.CO_VARKEYWORDS:
        return fn
    params = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    spelled = {t: n for t, n in PYTORCH_KEYWORDS.items() if n in params and t not in params}
    if not spelled:
        return fn
    op = name or fn.__name__

    @functools.wraps(fn)
    def explained(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TypeError:
            used = [k for k in kwargs if k in spelled]
            if used:
                raise TypeError(pytorch_keyword_message(op, {k: kwargs[k] for k in used})) \
                    from None
            raise

    explained.pytorch_keywords = spelled  # type: ignore[attr-defined]
    return explained  # type: ignore[return-value]


def pytorch_keyword_message(op: str, given: dict[str, Any]) -> str:
    """`op: this library uses NumPy's axis= (axis=1), not dim=` for PyTorch's keywords `given`.

    >>> pytorch_keyword_message("std", {"unbiased": True})
    "std: this library uses NumPy's ddof= (ddof=1), not unbiased="
    """
    numpy = {k: PYTORCH_KEYWORDS[k] for k in given}
    values = {k: int(v) if k == "unbiased" else v for k, v in given.items()}  # True: ddof=1
    words = " and ".join(f"{n}=" for n in numpy.values())
    example = ", ".join(f"{numpy[k]}={v!r}" for k, v in values.items())
    return (f"{op}: this library uses NumPy's {words} ({example}), not "
            f"{' and '.join(f'{k}=' for k in given)}")
