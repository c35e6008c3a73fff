"""SciPy's functions on Tensors, differentiable to any order: `autodiff.scipy.special` (erf,
gammaln, digamma, polygamma, expit, logit, xlogy, logsumexp, softmax, ...) and
`autodiff.scipy.stats` (norm, t, multivariate_normal), with SciPy's names and arguments.

An optional extra: the engine never needs SciPy, and `import autodiff` never imports it. This
package does (for forward values such as scipy.special.gammaln): install it with
`pip install 'autodiff-nn[scipy]'`.

>>> import autodiff as ad
>>> from autodiff.scipy import special, stats
>>> x = ad.tensor([0.5], requires_grad=True)
>>> stats.norm.logcdf(x).sum().backward()
>>> x.grad
tensor([0.50916046])
"""

try:
    import scipy.special  # noqa: F401  (absolute: SciPy itself, not this package)
except ImportError as e:  # pragma: no cover - the dev environment has SciPy
    raise ImportError(
        "autodiff.scipy needs SciPy (>= 1.10), which is not installed: "
        "pip install 'autodiff-nn[scipy]' (the optional extra 'scipy')") from e

from autodiff.scipy import special, stats

__all__ = ["special", "stats"]
