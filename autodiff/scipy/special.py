"""scipy.special on Tensors: SciPy's names, arguments and values, gradients to any order.

Primitives where the function has no composite in the engine's ops: erf, erfc, erfinv,
logit, entr, gammaln (backward: digamma), digamma (backward: polygamma(1, x)) and
polygamma(n, x) (backward: polygamma(n + 1, x)), so every order of derivative exists. Their
forward is SciPy's own function; the result keeps the input's floating dtype (integers compute
in float64, as SciPy). Composites: expit (the engine's sigmoid), xlogy, xlog1py, logsumexp,
softmax, log_softmax.

SciPy's ufuncs applied to a Tensor reach these functions (`scipy.special.erf(t)` is
`special.erf(t)`, differentiable); SciPy's other functions (logsumexp, softmax, polygamma)
turn their argument into an array, which a tensor that requires grad refuses.

>>> import autodiff as ad
>>> from autodiff.scipy import special
>>> x = ad.tensor([0.5, 2.0], requires_grad=True)
>>> special.gammaln(x).sum().backward()
>>> x.grad  # digamma(x)
tensor([-1.96351   ,  0.42278433])
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.special as sp

from autodiff.function import Function
from autodiff.ops.activation import sigmoid
from autodiff.ops.axes import normalize_axes
from autodiff.ops.elementwise import abs, exp, log
from autodiff.ops.indexing import where
from autodiff.ops.reduce import max_shift, sum
from autodiff.ops.shape import broadcast_to, reshape
from autodiff.scipy._convert import floats
from autodiff.tensor import Tensor

__all__ = ["digamma", "entr", "erf", "erfc", "erfinv", "expit", "gammaln", "log_softmax",
           "logit", "logsumexp", "polygamma", "softmax", "xlog1py", "xlogy"]

Axis = int | Sequence[int] | None

_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _value(out: Any, x: np.ndarray) -> np.ndarray:
    """SciPy's result as an array of x's dtype (SciPy returns float64 for some float32 input,
    float32 for float16, and a NumPy scalar for a 0-d array)."""
    return np.asarray(out, dtype=x.dtype)


class Erf(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _value(sp.erf(x), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (_TWO_OVER_SQRT_PI * exp(-(x * x)))


class Erfc(Function):
    """1 - erf(x) without the cancellation: erfc(6) = 2e-17 exactly, not 0."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _value(sp.erfc(x), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (-_TWO_OVER_SQRT_PI * exp(-(x * x)))


class Erfinv(Function):
    @staticmethod
    def forward(ctx, x):
        out = _value(sp.erfinv(x), x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (math.sqrt(math.pi) / 2 * exp(out * out))


class Gammaln(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _value(sp.gammaln(x), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * digamma(x)


class Digamma(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _value(sp.digamma(x), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * polygamma(1, x)


class Polygamma(Function):
    @staticmethod
    def forward(ctx, x, *, n):
        ctx.save_for_backward(x)
        ctx.n = n
        return _value(sp.polygamma(n, x), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * polygamma(ctx.n + 1, x)


class Logit(Function):
    """A primitive rather than log(p) - log1p(-p): that difference cancels near p = 1/2 (a
    relative error up to 4e-11 in float64 and 2e-5 in float32, SciPy's 2e-16)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _value(sp.logit(x), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * (1 - x))


class Entr(Function):
    """A primitive for PyTorch's gradient at 0, -(1 + log 0) = +inf (the one-sided
    derivative); a composite with a where at 0 would make it 0."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _value(sp.entr(x), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):  # log(0), log(x < 0): as SciPy
            return grad * -(1 + log(x))


class Log1p(Function):
    """log(1 + y), accurate for small y (for xlog1py and the t distribution)."""

    @staticmethod
    def forward(ctx, y):
        ctx.save_for_backward(y)
        return np.log1p(y)

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad / (1 + y)


def _log1p(y: Tensor) -> Tensor:
    """log(1 + y) of a floating tensor (for xlog1py and stats.t; ad.log1p may replace it)."""
    return Log1p.apply(y)


def erf(x: Any) -> Tensor:
    """The error function, 2/sqrt(pi) times the integral of exp(-t^2) from 0 to x.

    >>> import autodiff as ad
    >>> from autodiff.scipy import special
    >>> x = ad.tensor([0.0, 1.0], requires_grad=True)
    >>> special.erf(x)
    tensor([0.       , 0.8427008], grad_fn=<erf>)
    >>> special.erf(x).sum().backward(); x.grad  # 2/sqrt(pi) exp(-x^2)
    tensor([1.1283792, 0.4151075])
    """
    return Erf.apply(*floats(x))


def erfc(x: Any) -> Tensor:
    """1 - erf(x), accurate where it is tiny (large x).

    >>> import autodiff as ad
    >>> from autodiff.scipy import special
    >>> special.erfc(ad.tensor([0.0, 6.0], dtype="float64"))
    tensor([1.000000e+00, 2.151974e-17], dtype=float64)
    """
    return Erfc.apply(*floats(x))


def erfinv(x: Any) -> Tensor:
    """The inverse of erf on (-1, 1) (+-inf at +-1); its derivative is sqrt(pi)/2
    exp(erfinv(x)^2).

    >>> import autodiff as ad
    >>> from autodiff.scipy import special
    >>> x = ad.tensor([0.0, 0.5], requires_grad=True)
    >>> special.erfinv(x)
    tensor([0.       , 0.4769363], grad_fn=<erfinv>)
    >>> special.erfinv(x).sum().backward(); x.grad
    tensor([0.88622695, 1.112585  ])
    """
    return Erfinv.apply(*floats(x))


def gammaln(x: Any) -> Tensor:
    """log |Gamma(x)|; its derivative is digamma(x), differentiable again.

    >>> import autodiff as ad
    >>> from autodiff.scipy import special
    >>> special.gammaln(ad.tensor([1.0, 5.0, -0.5]))
    tensor([0.       , 3.1780539, 1.2655121])
    """
    return Gammaln.apply(*floats(x))


def digamma(x: Any) -> Tensor:
    """psi(x) = d/dx log Gamma(x) (SciPy's `digamma`, also `psi`); its derivative is
    polygamma(1, x).

    >>> import autodiff as ad
    >>> from autodiff.scipy import special
    >>> x = ad.tensor([1.0], requires_grad=True)
    >>> special.digamma(x)
    tensor([-0.5772157], grad_fn=<digamma>)
    >>> special.digamma(x).sum().backward(); x.grad  # pi^2 / 6
    tensor([1.644934])
    """
    return Digamma.apply(*floats(x))


def polygamma(n: Any, x: Any) -> Tensor:
    """The n-th derivative of digamma (n >= 0, integers, broadcast with x); differentiable in
    x to any order (its derivative is polygamma(n + 1, x)), not in n.

    >>> import autodiff as ad
    >>> from autodiff.scipy import special
    >>> special.polygamma(1, ad.tensor([1.0, 2.0]))
    tensor([1.644934 , 0.6449341])
    >>> special.polygamma([0, 2], ad.tensor(1.0))
    tensor([-0.5772157, -2.4041138])
    """
    if isinstance(n, Tensor) and n.requires_grad:
        raise TypeError("polygamma: not differentiable in n (an integer order); pass n as an "
                        "integer, an integer array or a tensor that does not require grad")
    order = np.array(n.data if isinstance(n, Tensor) else n)  # a copy: ctx keeps it
    if order.dtype.kind not in "iuf" or (order.dtype.kind == "f" and
                                         not np.all(order == np.round(order))):
        raise ValueError(f"polygamma: n must be an integer or integers, got {n!r}")
    if (order < 0).any():
        raise ValueError(f"polygamma: n must be >= 0, got {n!r}")
    return Polygamma.apply(*floats(x), n=order.astype(np.int64))


def expit(x: Any) -> Tensor:
    """The logistic sigmoid 1 / (1 + exp(-x)) (the engine's sigmoid, stable in both tails).

    >>> import autodiff as ad
    >>> from autodiff.scipy import special
    >>> special.expit(ad.tensor([0.0, 1000.0, -1000.0]))
    tensor([0.5, 1. , 0. ])
    """
    return sigmoid(*floats(x))


def logit(x: Any) -> Tensor:
    """log(p / (1 - p)), the inverse of expit; +-inf at 1 and 0, nan outside [0, 1].

    >>> import autodiff as ad
    >>> from autodiff.scipy import special
    >>> p = ad.tensor([0.5, 0.9], requires_grad=True)
    >>> special.logit(p)
    tensor([0.       , 2.1972244], grad_fn=<logit>)
    >>> special.logit(p).sum().backward(); p.grad  # 1 / (p (1 - p))
    tensor([ 4.      , 11.111109])
    """
    return Logit.apply(*floats(x))


def entr(x: Any) -> Tensor:
    """-x log(x) for x > 0, 0 at 0, -inf below (elementwise entropy). Gradient -(1 + log x):
    +inf at 0, as PyTorch's special.entr.

    >>> import autodiff as ad
    >>> from autodiff.scipy import special
    >>> special.entr(ad.tensor([0.0, 0.5, 1.0, -1.0]))
    tensor([ 0.       ,  0.3465736, -0.       ,       -inf])
    """
    return Entr.apply(*floats(x))


def xlogy(x: Any, y: Any) -> Tensor:
    """x * log(y), 0 where x = 0 (unless y is nan), as SciPy; broadcasts.

    Gradients log(y) and x / y; where x = 0 and y <= 0 (or +inf), both are 0 (PyTorch: 0 for
    x, nan for y; xlogy(0, y) = 0 for every y, so 0 is the partial derivative in y).

    >>> import autodiff as ad
    >>> from autodiff.scipy import special
    >>> x = ad.tensor([0.0, 0.0, 2.0], requires_grad=True)
    >>> special.xlogy(x, ad.tensor([0.0, 2.0, 3.0]))
    tensor([0.       , 0.       , 2.1972246], grad_fn=<mul>)
    >>> special.xlogy(x, ad.tensor([0.0, 2.0, 3.0])).sum().backward(); x.grad
    tensor([0.       , 0.6931472, 1.0986123])
    """
    x, y = floats(x, y)
    with np.errstate(divide="ignore", invalid="ignore"):
        fix = (x.data == 0) & ((y.data <= 0) | (y.data == np.inf))  # 0 * log(y) is not 0
        if fix.any():
            y = where(fix, 1.0, y)
        return x * log(y)


def xlog1py(x: Any, y: Any) -> Tensor:
    """x * log1p(y), 0 where x = 0 (unless y is nan), as SciPy; broadcasts. Gradients
    log1p(y) and x / (1 + y); where x = 0 and y <= -1 (or +inf), both are 0 (as xlogy).

    >>> import autodiff as ad
    >>> from autodiff.scipy import special
    >>> special.xlog1py(ad.tensor([0.0, 2.0]), ad.tensor([-1.0, 1e-8], dtype="float64"))
    tensor([0.e+00, 2.e-08], dtype=float64)
    """
    x, y = floats(x, y)
    with np.errstate(divide="ignore", invalid="ignore"):
        fix = (x.data == 0) & ((y.data <= -1) | (y.data == np.inf))
        if fix.any():
            y = where(fix, 0.0, y)
        return x * _log1p(y)


def _axes(op: str, axis: Axis, ndim: int) -> tuple[int, ...]:
    """The reduced axes, sorted; None: all; a 0-d input takes axis 0 or -1 (SciPy makes it
    1-d first)."""
    if axis is None:
        return tuple(range(ndim))
    if ndim == 0 and hasattr(axis, "__index__") and operator.index(axis) in (0, -1):
        return ()
    return tuple(sorted(normalize_axes(op, axis, ndim)))


def _reduced(out: Tensor, axes: tuple[int, ...], keepdims: bool) -> Tensor:
    return out if keepdims else reshape(out, [n for i, n in enumerate(out.shape)
                                              if i not in axes])


def logsumexp(a: Any, axis: Axis = None, b: Any = None, keepdims: bool = False,
              return_sign: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """log(sum(b * exp(a))) over `axis` (all axes when None), stable for large |a| (the
    largest a is shifted out). `b` (weights, broadcast with a) may be negative: with
    `return_sign`, returns (log|sum|, its sign); otherwise a negative sum gives nan. Where b
    is 0, a is ignored (even inf), as SciPy. Differentiable in a and b.

    >>> import autodiff as ad
    >>> from autodiff.scipy import special
    >>> a = ad.tensor([1000.0, 1000.0], requires_grad=True)
    >>> special.logsumexp(a)
    tensor(1000.6932, grad_fn=<reshape>)
    >>> special.logsumexp(a).backward(); a.grad  # softmax(a)
    tensor([0.5, 0.5])
    >>> special.logsumexp(ad.tensor([1.0, 2.0]), b=[1.0, -1.0], return_sign=True)
    (tensor(1.541325), tensor(-1.))
    """
    if b is None:
        (a,) = floats(a)
    else:
        a, b = floats(a, b)
        shape = np.broadcast_shapes(a.shape, b.shape)
        a, b = (t if t.shape == shape else broadcast_to(t, shape) for t in (a, b))
    if a.ndim == 0:  # 1-d, as SciPy (keepdims gives shape (1,))
        a, b = reshape(a, (1,)), None if b is None else reshape(b, (1,))
    axes = _axes("logsumexp", axis, a.ndim)
    with np.errstate(divide="ignore", invalid="ignore"):
        if b is not None:
            ignored = (b.data == 0) & ~np.isfinite(a.data)
            if ignored.any():
                a = where(ignored, -np.inf, a)
            kept = Tensor._make(np.where(b.data == 0, -np.inf, a.data).astype(a.dtype), None, 0)
            shift = max_shift(kept, axes)  # the largest a whose weight is not 0
            s = sum(b * exp(a - shift), axes, keepdims=True)
        else:
            shift = max_shift(a, axes)
            s = sum(exp(a - shift), axes, keepdims=True)
        negative = s.data < 0
        out = log(abs(s) if negative.any() else s) + shift
        if negative.any() and not return_sign:
            out = out + np.where(negative, np.nan, 0).astype(out.dtype)
    out = _reduced(out, axes, keepdims)
    if not return_sign:
        return out
    sign = Tensor._make(np.sign(s.data), None, 0)
    return out, _reduced(sign, axes, keepdims)


def softmax(x: Any, axis: Axis = None) -> Tensor:
    """exp(x) / sum(exp(x)) over `axis` (SciPy's default None: over every element), as
    e / sum(e) with e = exp(x - max): no overflow.

    >>> import autodiff as ad
    >>> from autodiff.scipy import special
    >>> special.softmax(ad.tensor([[1.0, 1.0], [0.0, 1e4]]))
    tensor([[0., 0.],
            [0., 1.]])
    >>> special.softmax(ad.tensor([[1.0, 1.0], [0.0, 1e4]]), axis=1)
    tensor([[0.5, 0.5],
            [0. , 1. ]])
    """
    (x,) = floats(x)
    axes = _axes("softmax", axis, x.ndim)
    e = exp(x - max_shift(x, axes))
    return e / sum(e, axes, keepdims=True)


def log_softmax(x: Any, axis: Axis = None) -> Tensor:
    """log(softmax(x)) over `axis` (None: every element), as (x - m) - log(sum(exp(x - m)))
    with m the max: exact where softmax underflows.

    >>> import autodiff as ad
    >>> from autodiff.scipy import special
    >>> special.log_softmax(ad.tensor([1000.0, 1.0]))
    tensor([   0., -999.])
    """
    (x,) = floats(x)
    axes = _axes("log_softmax", axis, x.ndim)
    d = x - max_shift(x, axes)
    with np.errstate(divide="ignore"):
        return d - log(sum(exp(d), axes, keepdims=True))


# scipy.special's ufuncs applied to a Tensor (Tensor.__array_ufunc__) reach these.
SCIPY_UFUNCS = {sp.erf: erf, sp.erfc: erfc, sp.erfinv: erfinv, sp.gammaln: gammaln,
                sp.psi: digamma, sp.expit: expit, sp.logit: logit, sp.entr: entr,
                sp.xlogy: xlogy, sp.xlog1py: xlog1py}
