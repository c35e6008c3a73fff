"""Activation functions, composed from autodiff ops; erf and softplus are primitives here.
Where a function has a kink, its gradient there is PyTorch's (relu6: 0 at 0 and 6; hardswish:
the outer pieces' at -3 and 3; selu, prelu: the negative piece's at 0).

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
from autodiff import inplace as in_place_writes
from autodiff.ops.reduce import with_dtype
from nn.functional._erf import erf_array, erf_float32

sigmoid = ad.sigmoid
tanh = ad.tanh


def relu(input: Any, inplace: bool = False) -> Tensor:
    """max(x, 0) (`autodiff.relu`; gradient 0 at 0, as PyTorch's). `inplace=True` writes the
    result into x's memory and returns x (see `in_place`).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.relu(ad.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    if inplace:
        return in_place("relu", input, ad.relu)
    return ad.relu(input)


def in_place(name: str, input: Any, fn: Any, **options: Any) -> Tensor:
    """x <- fn(x, **options) in x's memory, returned (PyTorch's `inplace=True`), by
    `autodiff.inplace.apply_`: the version counter moves, so a backward that saved x's old
    values raises; refused on a leaf that requires grad while grad mode is on; on any other
    tensor that requires grad the op is recorded and its gradient is the out-of-place one.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> x = ad.tensor([-1.0, 2.0])
    >>> F.relu(x, inplace=True) is x, x.tolist()
    (True, [0.0, 2.0])
    """
    label = name if name.endswith("_") else f"{name}(inplace=True)"  # relu_ or relu(inplace)
    return in_place_writes.apply_(_as_tensor(input), label, lambda t: fn(t, **options))


def softmax(x: Any, axis: int = -1, *, dim: int | None = None, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along `axis` (stable). PyTorch's `dim=` is accepted as another
    name for `axis` (nn.functional is PyTorch's namespace; NumPy has no softmax). `dtype`, as
    PyTorch's: x is cast to it first (a recorded cast: the gradient comes back in x's dtype).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.softmax(ad.tensor([[1.0, 1.0, 1.0, 1.0]]))
    tensor([[0.25, 0.25, 0.25, 0.25]])
    >>> F.softmax(ad.tensor([[0.0], [0.0]]), dim=0).tolist()
    [[0.5], [0.5]]
    >>> F.softmax(ad.tensor([0.0, 0.0]), dtype="float64").dtype
    dtype('float64')
    """
    return ad.softmax(_cast("softmax", x, dtype), axis=axis_or_dim("softmax", axis, dim, -1))


def log_softmax(x: Any, axis: int = -1, *, dim: int | None = None, dtype: Any = None
                ) -> Tensor:
    """x - logsumexp(x) along `axis` (stable); `dim=` and `dtype=` as in `softmax`.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.log_softmax(ad.tensor([[0.0, 0.0]]))
    tensor([[-0.6931472, -0.6931472]])
    >>> F.log_softmax(ad.tensor([[0.0, 0.0]]), dim=1)
    tensor([[-0.6931472, -0.6931472]])
    """
    return ad.log_softmax(_cast("log_softmax", x, dtype),
                          axis=axis_or_dim("log_softmax", axis, dim, -1))


def _cast(op: str, x: Any, dtype: Any) -> Any:
    """x cast to the floating `dtype` (None: x as it is), as a recorded op (the reductions'
    dtype= rule)."""
    if dtype is None:
        return x
    return with_dtype(op, x if isinstance(x, Tensor) else ad.tensor(x), dtype, floating=True)


def axis_or_dim(op: str, axis: int, dim: int | None, default: int) -> int:
    """`axis`, or PyTorch's `dim=` given in its place; both given (and different) is an
    error."""
    if dim is None:
        return axis
    if axis != default and axis != dim:
        raise TypeError(f"{op}: got axis={axis} and dim={dim}; dim is PyTorch's name for "
                        "axis, give one of them")
    return dim


def leaky_relu(x: Any, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, negative_slope * x elsewhere.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.leaky_relu(ad.tensor([-2.0, 3.0]), 0.1)
    tensor([-0.2,  3. ])
    """
    if inplace:
        return in_place("leaky_relu", x, leaky_relu, negative_slope=negative_slope)
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    return ad.where(x.data > 0, x, x * negative_slope)


def elu(x: Any, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, alpha * (exp(x) - 1) elsewhere (exp of min(x, 0): no overflow).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.elu(ad.tensor([-1.0, 2.0]))
    tensor([-0.6321206,  2.       ])
    """
    if inplace:
        return in_place("elu", x, elu, alpha=alpha)
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
    if beta == 0:  # (PyTorch returns inf everywhere)
        raise ValueError("softplus: beta must be nonzero (the result is log(1 + exp(beta x)) / "
                         "beta), got 0")
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


def _erf(x: np.ndarray) -> np.ndarray:
    """erf elementwise in x's dtype (Cody's rational approximations: see nn.functional._erf)."""
    return erf_array(x) if x.size else x.copy()


def erf(x: Any) -> Tensor:
    """The error function, elementwise."""
    return Erf.apply(x if isinstance(x, Tensor) else ad.tensor(x))


def gelu(x: Any, approximate: str = "none") -> Tensor:
    """x * Phi(x): with erf (`approximate="none"`; in float32 a fast erf, within 1.4e-6 of the
    exact GELU as PyTorch's is within 1.1e-6), or the tanh approximation.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.gelu(ad.tensor([-1.0, 0.0, 1.0]))
    tensor([-0.15865529,  0.        ,  0.8413447 ])
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    if approximate == "tanh":
        c = math.sqrt(2.0 / math.pi)
        return x * 0.5 * (ad.tanh((x + x * x * x * 0.044715) * c) + 1)
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(x)


class Gelu(ad.Function):
    """x * Phi(x), Phi(x) = (1 + erf(x / sqrt(2))) / 2, as one primitive (five nodes composed,
    each over the MLP's full width in a transformer); in float32 with `erf_float32`, within
    1.4e-6 of the exact GELU (PyTorch's float32 GELU: 1.1e-6). Backward: grad * (Phi(x) +
    x phi(x)), phi(x) = exp(-x^2 / 2) / sqrt(2 pi); on arrays Phi is forward's, as Tensors it
    is recomputed with `erf` so that the gradient can be differentiated again.

    >>> import autodiff as ad
    >>> x = ad.tensor([0.0], requires_grad=True)
    >>> Gelu.apply(x).sum().backward()
    >>> x.grad
    tensor([0.5])
    """

    name = "gelu"
    array_backward = True

    @staticmethod
    def forward(ctx, x):
        z = x * np.asarray(1 / math.sqrt(2.0), x.dtype)
        # float32: the fast erf, as accurate as PyTorch's float32 GELU (nn.functional._erf)
        cdf = erf_float32(z) if x.dtype == np.float32 else _erf(z)
        cdf += 1
        cdf *= 0.5
        ctx.save_for_backward(x)
        ctx.cdf = cdf
        return x * cdf

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if isinstance(grad, np.ndarray):
            cdf, pdf = ctx.cdf, np.exp(x * x * -0.5)
        else:
            cdf, pdf = (erf(x * (1 / math.sqrt(2.0))) + 1) * 0.5, ad.exp(x * x * -0.5)
        return grad * (cdf + x * pdf * (1 / math.sqrt(2 * math.pi)))


def silu(x: Any, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (SiLU, also called swish).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.silu(ad.tensor([-1.0, 0.0, 1.0]))
    tensor([-0.2689414,  0.       ,  0.7310586])
    """
    if inplace:
        return in_place("silu", x, silu)
    x = _as_tensor(x)
    return x * ad.sigmoid(x)


def mish(x: Any, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x)).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.mish(ad.tensor([-1.0, 0.0, 1.0]))
    tensor([-0.3034014,  0.       ,  0.8650984])
    """
    if inplace:
        return in_place("mish", x, mish)
    x = _as_tensor(x)
    return x * ad.tanh(softplus(x))


def hardswish(x: Any, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6: 0 up to -3, x from 3 on, x (x + 3) / 6 between; at -3 and 3
    the gradient is the outer piece's (0 and 1), as PyTorch's.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.hardswish(ad.tensor([-4.0, -1.0, 0.0, 1.0, 4.0]))
    tensor([-0.        , -0.33333334,  0.        ,  0.6666667 ,  4.        ])
    """
    if inplace:
        return in_place("hardswish", x, hardswish)
    x = _as_tensor(x)
    low, high = x.data <= -3, x.data >= 3
    return ad.where(low, x * 0, ad.where(high, x, x * (x + 3) / 6))


def relu6(x: Any, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6); gradient 1 strictly between 0 and 6, else 0 (PyTorch's).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.relu6(ad.tensor([-1.0, 3.0, 7.0]))
    tensor([0., 3., 6.])
    """
    if inplace:
        return in_place("relu6", x, relu6)
    x = _as_tensor(x)
    inside = (x.data > 0) & (x.data < 6)
    return ad.where(inside, x, np.clip(x.data, 0, 6))


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(x: Any, inplace: bool = False) -> Tensor:
    """scale * x for x > 0, scale * alpha * (e^x - 1) otherwise, with PyTorch's (self-
    normalizing) constants alpha = 1.6732632..., scale = 1.0507009...; e^x - 1 by expm1.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.selu(ad.tensor([-1.0, 0.0, 1.0]))
    tensor([-1.1113307,  0.       ,  1.050701 ])
    """
    if inplace:
        return in_place("selu", x, selu)
    x = _as_tensor(x)
    pos = x.data > 0
    neg = ad.where(pos, 0.0, x)  # expm1 of min(x, 0): no overflow in the unused branch
    return ad.where(pos, x * SELU_SCALE, ad.expm1(neg) * (SELU_ALPHA * SELU_SCALE))


def prelu(x: Any, weight: Any) -> Tensor:
    """x where x > 0, weight * x elsewhere, with a learned slope: `weight` holds one slope
    or one per channel (axis 1 of x; a 0-d or 1-d x has one channel).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.prelu(ad.tensor([[-2.0, -2.0], [1.0, 1.0]]), ad.tensor([0.1, 0.5]))
    tensor([[-0.2, -1. ],
            [ 1. ,  1. ]])
    """
    x, w = _as_tensor(x), _as_tensor(weight)
    channels = x.shape[1] if x.ndim >= 2 else 1
    if w.ndim > 1 or w.size not in (1, channels):
        raise ValueError(f"prelu: weight must hold 1 slope or one per channel ({channels} for "
                         f"input shape {x.shape}), got weight shape {w.shape}")
    if w.size != 1:  # one per channel (none for an input of 0 channels)
        w = w.reshape((channels,) + (1,) * (x.ndim - 2))
    elif w.ndim:
        w = w.reshape(())
    return ad.where(x.data > 0, x, w * x)


def hardtanh(input: Any, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
             ) -> Tensor:
    """min(max(x, min_val), max_val); gradient 1 strictly between the two, 0 elsewhere (at
    the ends too, as PyTorch's). `inplace=True` writes into x (see `in_place`).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.hardtanh(ad.tensor([-3.0, 0.5, 3.0]))
    tensor([-1. ,  0.5,  1. ])
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val must not be greater than max_val, got min_val="
                         f"{min_val} and max_val={max_val}")
    if inplace:
        return in_place("hardtanh", input, hardtanh, min_val=min_val, max_val=max_val)
    x = _as_tensor(input)
    inside = (x.data > min_val) & (x.data < max_val)
    return ad.where(inside, x, np.clip(x.data, min_val, max_val).astype(x.dtype, copy=False))


class Celu(ad.Function):
    """x where x > 0, alpha * expm1(x / alpha) elsewhere (expm1 of min(x, 0) / alpha: no
    overflow in the unused branch for alpha > 0). Backward: grad * exp(x / alpha) where
    x <= 0, in Tensor ops (differentiable again); selected where x >= 0 by the pass-through
    piece, so that at 0 the gradient is 1 and the second derivative 0, as PyTorch's."""

    name = "celu"

    @staticmethod
    def forward(ctx, x, *, alpha):
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        with np.errstate(over="ignore"):
            neg = np.expm1(np.minimum(x, 0) / alpha) * alpha
        return np.where(x > 0, x, neg).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        nonneg = x.data >= 0
        return ad.where(nonneg, grad, grad * ad.exp(ad.where(nonneg, 0.0, x) / ctx.alpha))


def celu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, alpha * (exp(x / alpha) - 1) elsewhere (the continuously
    differentiable ELU), as PyTorch's; the value by expm1 and the gradient exp(x / alpha),
    both exact in the tails (PyTorch 2.13's float64 gradient rounds 1 / alpha to float32).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.celu(ad.tensor([-2.0, 0.0, 2.0]), alpha=2.0)
    tensor([-1.2642411,  0.       ,  2.       ])
    """
    if inplace:
        return in_place("celu", input, celu, alpha=alpha)
    if alpha == 0:
        raise ValueError("celu: alpha must be nonzero (the negative part is alpha * (exp(x / "
                         "alpha) - 1)), got 0")
    return Celu.apply(_as_tensor(input), alpha=alpha)


def glu(input: Any, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """a * sigmoid(b), a and b the first and second halves of x along `axis` (whose size must
    be even); PyTorch's `dim=` is accepted as another name for `axis`.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.glu(ad.tensor([[2.0, 4.0, 0.0, 0.0]]))
    tensor([[1., 2.]])
    """
    axis = axis_or_dim("glu", axis, dim, -1)
    x = _as_tensor(input)
    if x.ndim == 0:
        raise ValueError("glu: needs a tensor of at least 1 dimension (it halves one), got a "
                         "0-d tensor")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"glu: axis {axis} is out of range for an input of shape {x.shape}")
    n = x.shape[axis]
    if n % 2:
        raise ValueError(f"glu: the halved axis must have an even size, but axis {axis} of "
                         f"shape {x.shape} has size {n}")
    a, b = ad.split(x, 2, axis=axis)
    return a * ad.sigmoid(b)


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else ad.tensor(x)
