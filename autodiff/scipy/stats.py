"""scipy.stats on Tensors: `norm` (pdf, logpdf, cdf, logcdf), `t` (logpdf) and
`multivariate_normal` (logpdf), with SciPy's names and arguments, differentiable to any order
in every float argument (x, loc, scale, df, mean, cov). Calling one freezes its parameters, as
SciPy's: `norm(loc, scale).logpdf(x)`.

Values equal SciPy's; the dtype follows the engine (a float32 graph stays float32, where
SciPy's stats compute in float64). A scale or df <= 0 gives nan, as SciPy.

>>> import autodiff as ad
>>> from autodiff.scipy import stats
>>> loc = ad.tensor(0.0, requires_grad=True)
>>> stats.norm.logpdf(ad.tensor([1.0, 3.0]), loc).sum().backward()
>>> loc.grad  # sum of (x - loc) / scale^2
tensor(4.)
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import scipy.special as sp

from autodiff.function import Function
from autodiff.ops.elementwise import exp, log
from autodiff.ops.indexing import where
from autodiff.ops.reduce import sum
from autodiff.ops.shape import reshape
from autodiff.scipy._convert import floats
from autodiff.scipy.special import _log1p, digamma, erfc
from autodiff.tensor import Tensor

__all__ = ["multivariate_normal", "multivariate_normal_gen", "norm", "norm_gen", "t", "t_gen"]

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_SQRT_HALF = math.sqrt(0.5)


class LogNdtr(Function):
    """log Phi(z), SciPy's log_ndtr: accurate far in the lower tail, where Phi(z) underflows
    (log Phi(-40) = -804.6). Its derivative phi/Phi is a primitive of its own."""

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return np.asarray(sp.log_ndtr(z), dtype=z.dtype)

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad * PdfOverCdf.apply(z)


class PdfOverCdf(Function):
    """r(z) = phi(z) / Phi(z), as sqrt(2/pi) / erfcx(-z / sqrt 2) (erfcx(u) = exp(u^2)
    erfc(u)): no exp of -z^2/2 to underflow, so r(-1e4) = 1e4 to the last digit; 0 where
    phi underflows. Its derivative is -r (z + r)."""

    @staticmethod
    def forward(ctx, z):
        out = np.asarray(_SQRT_2_OVER_PI / sp.erfcx(-_SQRT_HALF * z), dtype=z.dtype)
        ctx.save_for_backward(z, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        z, r = ctx.saved_tensors
        return grad * (-r * (z + r))


class LogPochHalf(Function):
    """log(Gamma(a + 1/2) / Gamma(a)) as SciPy's t computes it, log(poch(a, 1/2)): the
    difference of two gammaln loses df * 3e-16 relative (3e-10 at df = 1e6). Its derivative,
    digamma(a + 1/2) - digamma(a), is differentiable again."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.asarray(np.log(sp.poch(a, 0.5)), dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * (digamma(a + 0.5) - digamma(a))


class Solve(Function):
    """x with a @ x = b, for a (d, d) and b (d, k); the backward solves with a.T."""

    @staticmethod
    def forward(ctx, a, b):
        x = np.linalg.solve(a, b)
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        gb = Solve.apply(a.T, grad)
        return (-(gb @ x.T) if need_a else None), (gb if need_b else None)


class LogDet(Function):
    """log det(a) of a positive definite matrix; its gradient is inv(a).T."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.asarray(np.linalg.slogdet(a)[1], dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * Solve.apply(a.T, np.eye(a.shape[0], dtype=a.dtype))


def _nan_where(out: Tensor, bad: np.ndarray) -> Tensor:
    """out, nan where `bad` (an invalid parameter, as SciPy)."""
    if not bad.any():
        return out
    return out + np.where(bad, np.nan, 0).astype(out.dtype)


def _quiet(method: Any) -> Any:
    """Invalid parameters (scale or df <= 0) give nan, without NumPy's warnings on the way."""

    @functools.wraps(method)
    def quiet(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(divide="ignore", invalid="ignore"):
            return method(*args, **kwargs)

    return quiet


class _Frozen:
    """A distribution with its parameters fixed: norm(1.0, 2.0).logpdf(x)."""

    def __init__(self, dist: Any, **params: Any) -> None:
        self._dist, self._params = dist, params

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # not a method of the distribution (copy, pickle, ...)
            raise AttributeError(name)
        return functools.partial(getattr(self._dist, name), **self._params)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        return f"{type(self._dist).__name__[:-4]}({args})"


class norm_gen:
    """The normal distribution of mean `loc` and standard deviation `scale` (SciPy's
    `scipy.stats.norm`); `norm(loc, scale)` freezes them.

    >>> import autodiff as ad
    >>> from autodiff.scipy.stats import norm
    >>> norm.pdf(ad.tensor([0.0, 1.0]))
    tensor([0.3989423 , 0.24197072])
    >>> norm(1.0, 2.0).logpdf(ad.tensor([1.0]))
    tensor([-1.6120857])
    """

    @_quiet
    def logpdf(self, x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Tensor:
        """-(x - loc)^2 / (2 scale^2) - log(scale) - log(sqrt(2 pi)).

        >>> import autodiff as ad
        >>> from autodiff.scipy.stats import norm
        >>> scale = ad.tensor(2.0, requires_grad=True)
        >>> norm.logpdf(ad.tensor(2.0), 0.0, scale).backward()
        >>> scale.grad  # (z^2 - 1) / scale
        tensor(0.)
        """
        x, loc, scale = floats(x, loc, scale)
        z = (x - loc) / scale
        return _nan_where(-0.5 * (z * z) - log(scale) - _LOG_SQRT_2PI, scale.data <= 0)

    @_quiet
    def pdf(self, x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Tensor:
        """exp(logpdf).

        >>> import autodiff as ad
        >>> from autodiff.scipy.stats import norm
        >>> norm.pdf(ad.tensor(3.0), loc=1.0, scale=2.0)
        tensor(0.12098536)
        """
        return exp(self.logpdf(x, loc, scale))

    @_quiet
    def cdf(self, x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Tensor:
        """Phi((x - loc) / scale) = erfc(-z / sqrt 2) / 2: no cancellation in the lower tail.

        >>> import autodiff as ad
        >>> from autodiff.scipy.stats import norm
        >>> norm.cdf(ad.tensor([0.0, -10.0], dtype="float64"))
        tensor([5.000000e-01, 7.619853e-24], dtype=float64)
        """
        x, loc, scale = floats(x, loc, scale)
        z = (x - loc) / scale
        return _nan_where(0.5 * erfc(-_SQRT_HALF * z), scale.data <= 0)

    @_quiet
    def logcdf(self, x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Tensor:
        """log Phi((x - loc) / scale) (SciPy's log_ndtr), accurate far in the lower tail; its
        gradient phi/Phi is computed without dividing two underflowing numbers.

        >>> import autodiff as ad
        >>> from autodiff.scipy.stats import norm
        >>> x = ad.tensor([-40.0, 0.0], dtype="float64", requires_grad=True)
        >>> norm.logcdf(x)
        tensor([-804.608442,   -0.693147], dtype=float64, grad_fn=<logndtr>)
        >>> norm.logcdf(x).sum().backward(); x.grad
        tensor([40.024969,  0.797885], dtype=float64)
        """
        x, loc, scale = floats(x, loc, scale)
        z = (x - loc) / scale
        return _nan_where(LogNdtr.apply(z), scale.data <= 0)

    def __call__(self, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """The distribution with loc and scale fixed: norm(loc, scale).logpdf(x)."""
        return _Frozen(self, loc=loc, scale=scale)


class t_gen:
    """Student's t distribution with `df` degrees of freedom, location `loc` and scale
    `scale` (SciPy's `scipy.stats.t`); `t(df, loc, scale)` freezes them.

    >>> import autodiff as ad
    >>> from autodiff.scipy.stats import t
    >>> t.logpdf(ad.tensor([0.0, 1.0]), df=3.0)
    tensor([-1.0008888, -1.576253 ])
    """

    @_quiet
    def logpdf(self, x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Tensor:
        """log(Gamma((df + 1) / 2) / Gamma(df / 2)) - log(df pi) / 2 - log(scale)
        - (df + 1) / 2 log1p(z^2 / df), z = (x - loc) / scale; the normal's where df = inf.
        Differentiable in x, df, loc and scale (in df through digamma).

        >>> import autodiff as ad
        >>> from autodiff.scipy.stats import t
        >>> df = ad.tensor(4.0, requires_grad=True)
        >>> t.logpdf(ad.tensor(1.0), df).backward()
        >>> df.grad
        tensor(0.02861437)
        """
        x, df, loc, scale = floats(x, df, loc, scale)
        z = (x - loc) / scale
        normal = df.data == np.inf
        nu = where(normal, 1.0, df) if normal.any() else df  # finite in both branches
        out = (LogPochHalf.apply(0.5 * nu) - 0.5 * log(nu * math.pi)
               - 0.5 * (nu + 1) * _log1p(z * z / nu) - log(scale))
        if normal.any():
            out = where(normal, -0.5 * (z * z) - _LOG_SQRT_2PI - log(scale), out)
        return _nan_where(out, (scale.data <= 0) | (df.data <= 0))

    def __call__(self, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """The distribution with df, loc and scale fixed: t(df, loc, scale).logpdf(x)."""
        return _Frozen(self, df=df, loc=loc, scale=scale)


class multivariate_normal_gen:
    """The normal distribution of a vector (SciPy's `scipy.stats.multivariate_normal`):
    `mean` (default zeros) and `cov` (a matrix, a vector for a diagonal one, or a number for a
    multiple of the identity); `multivariate_normal(mean, cov)` freezes them.

    >>> import autodiff as ad
    >>> from autodiff.scipy.stats import multivariate_normal
    >>> multivariate_normal.logpdf(ad.tensor([0.0, 0.0]), cov=[[2.0, 0.5], [0.5, 1.0]])
    tensor(-2.1176848)
    """

    def logpdf(self, x: Any, mean: Any = None, cov: Any = 1.0,
               allow_singular: bool = False) -> Tensor:
        """-(d log(2 pi) + log det(cov) + (x - mean)^T cov^-1 (x - mean)) / 2 for each point
        (the last axis of x), with SciPy's shapes: a 1-d x is one point (or, when d = 1,
        points), size-1 axes of the result are squeezed.

        `cov` must be positive definite (a singular one raises, allow_singular=True included);
        it is read as its symmetric part (cov + cov.T) / 2, so its gradient is symmetric, as
        PyTorch's and JAX's (SciPy reads the lower triangle: the same for a symmetric cov).

        >>> import autodiff as ad
        >>> from autodiff.scipy.stats import multivariate_normal
        >>> mean = ad.tensor([0.0, 0.0], requires_grad=True)
        >>> x = ad.tensor([[1.0, 2.0], [0.0, 1.0]])
        >>> multivariate_normal.logpdf(x, mean, cov=2.0)
        tensor([-3.7810242, -2.7810242], grad_fn=<reshape>)
        >>> multivariate_normal.logpdf(x, mean, cov=2.0).sum().backward(); mean.grad
        tensor([0.5, 1.5])
        """
        op = "multivariate_normal.logpdf"
        x, cov, *given = floats(x, cov, *([] if mean is None else [mean]))
        dim = given[0].size if given else 1 if cov.ndim < 2 else cov.shape[0]
        mean = given[0] if given else Tensor._make(np.zeros(dim, x.dtype), None, 0)
        if dim == 1:
            mean, cov = _reshaped(op, "mean", mean, (1,)), _reshaped(op, "cov", cov, (1, 1))
        if mean.shape != (dim,):
            raise ValueError(f"{op}: mean must be a vector of length {dim}, got shape "
                             f"{mean.shape}")
        sigma = _covariance(op, cov, dim)
        try:
            np.linalg.cholesky(sigma.data)
        except np.linalg.LinAlgError:
            raise ValueError(f"{op}: cov must be positive definite; got {sigma.data.tolist()} "
                             "(a singular cov is not supported, allow_singular=True "
                             "included)") from None
        points = x.reshape((1,)) if x.ndim == 0 else x if x.ndim > 1 else \
            x.reshape((-1, 1) if dim == 1 else (1, -1))
        if points.shape[-1] != dim:
            raise ValueError(f"{op}: the points' last axis must have length {dim} (the "
                             f"dimension of mean and cov); got x of shape {x.shape}")
        d = reshape(points - mean, (-1, dim)).T  # (dim, n)
        maha = sum(d * Solve.apply(sigma, d), 0)
        out = -0.5 * (dim * 2 * _LOG_SQRT_2PI + LogDet.apply(sigma) + maha)
        return reshape(out, [n for n in points.shape[:-1] if n != 1])

    def __call__(self, mean: Any = None, cov: Any = 1.0, allow_singular: bool = False) -> Any:
        """The distribution with mean and cov fixed: multivariate_normal(mean, cov).logpdf(x)."""
        return _Frozen(self, mean=mean, cov=cov, allow_singular=allow_singular)


def _reshaped(op: str, name: str, v: Tensor, shape: tuple[int, ...]) -> Tensor:
    if v.size != math.prod(shape):
        raise ValueError(f"{op}: {name} of shape {v.shape} does not fit dimension 1")
    return reshape(v, shape)


def _covariance(op: str, cov: Tensor, dim: int) -> Tensor:
    """cov as a symmetric (dim, dim) matrix: a number times the identity, a diagonal, or the
    symmetric part of a matrix."""
    eye = np.eye(dim, dtype=cov.dtype)
    if cov.ndim == 0:
        return cov * eye
    if cov.ndim == 1 and cov.shape == (dim,):
        return reshape(cov, (dim, 1)) * eye
    if cov.shape == (dim, dim):
        return 0.5 * (cov + cov.T)
    raise ValueError(f"{op}: cov of shape {cov.shape} does not fit dimension {dim} (a number, "
                     f"a vector of length {dim} or a ({dim}, {dim}) matrix)")


norm = norm_gen()
t = t_gen()
multivariate_normal = multivariate_normal_gen()
