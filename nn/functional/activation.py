"""Activation functions, composed from autodiff ops; erf and softplus are primitives here.

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.leaky_relu(ad.tensor([-2.0, 3.0]), 0.1).tolist()
[-0.2, 3.0]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor

relu = ad.relu
sigmoid = ad.sigmoid
tanh = ad.tanh


def softmax(x: Any, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along `axis` (stable).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.softmax(ad.tensor([[1.0, 1.0, 1.0, 1.0]]))
    tensor([[0.25, 0.25, 0.25, 0.25]])
    """
    return ad.softmax(x, axis=axis)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along `axis` (stable).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.log_softmax(ad.tensor([[0.0, 0.0]]))
    tensor([[-0.6931472, -0.6931472]])
    """
    return ad.log_softmax(x, axis=axis)


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, negative_slope * x elsewhere.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.leaky_relu(ad.tensor([-2.0, 3.0]), 0.1)
    tensor([-0.2,  3. ])
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    return ad.where(x.data > 0, x, x * negative_slope)


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """x where x > 0, alpha * (exp(x) - 1) elsewhere (exp of min(x, 0): no overflow).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.elu(ad.tensor([-1.0, 2.0]))
    tensor([-0.6321206,  2.       ])
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    neg = ad.where(x.data > 0, 0.0, x)
    return ad.where(x.data > 0, x, (ad.exp(neg) - 1) * alpha)


class Softplus(ad.Function):
    """log(1 + e^z) / beta with z = beta * x, as PyTorch's: x itself where z > threshold;
    elsewhere max(z, 0) + log1p(e^-|z|), which neither overflows (large z) nor loses e^z
    (very negative z). The backward is sigmoid(z) (1 above the threshold), in Tensor ops."""

    @staticmethod
    def forward(ctx, x, *, beta, threshold):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        z = x * beta
        out = (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))) / beta
        return np.where(z > threshold, x, out)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        z = x * ctx.beta
        return ad.where(z.data > ctx.threshold, grad, grad * ad.sigmoid(z))


def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta, stable everywhere, with PyTorch's signature and values:
    x itself where beta * x > threshold. The gradient is sigmoid(beta * x), exact also at 0.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> x = ad.tensor([-50.0, 0.0, 100.0], requires_grad=True)
    >>> F.softplus(x)
    tensor([1.928750e-22, 6.931472e-01, 1.000000e+02], grad_fn=<softplus>)
    >>> F.softplus(x).sum().backward(); x.grad
    tensor([1.928750e-22, 5.000000e-01, 1.000000e+00])
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    return Softplus.apply(x, beta=beta, threshold=threshold)


def logsigmoid(x: Any) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), stable everywhere (PyTorch's `F.logsigmoid`): about x
    for very negative x, about -e^-x for large x.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.logsigmoid(ad.tensor([-200.0, 0.0, 30.0]))
    tensor([-2.000000e+02, -6.931472e-01, -9.357623e-14])
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    return -softplus(-x, threshold=math.inf)


class Erf(ad.Function):
    """The error function; forward to float32 precision, backward 2/sqrt(pi) exp(-x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _erf(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ad.exp(-(x * x)) * (2.0 / math.sqrt(math.pi))


_ERF = np.frompyfunc(math.erf, 1, 1)


def _erf(x: np.ndarray) -> np.ndarray:
    """math.erf elementwise (exact to double precision), in x's dtype."""
    return np.asarray(_ERF(x), dtype=np.float64).astype(x.dtype) if x.size else x.copy()


def erf(x: Any) -> Tensor:
    """The error function, elementwise."""
    return Erf.apply(x if isinstance(x, Tensor) else ad.tensor(x))


def gelu(x: Any, approximate: str = "none") -> Tensor:
    """x * Phi(x): exact with erf (`approximate="none"`), or the tanh approximation.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.gelu(ad.tensor([-1.0, 0.0, 1.0]))
    tensor([-0.15865526,  0.        ,  0.8413447 ])
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    if approximate == "tanh":
        c = math.sqrt(2.0 / math.pi)
        return x * 0.5 * (ad.tanh((x + x * x * x * 0.044715) * c) + 1)
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return x * 0.5 * (erf(x * (1 / math.sqrt(2.0))) + 1)
