"""Initializers, in place, from autodiff's seeded generator; each keeps the tensor's dtype.

fan_in / fan_out of a weight of shape (out, in, *kernel) are in * prod(kernel) and
out * prod(kernel). Xavier (Glorot): std = gain * sqrt(2 / (fan_in + fan_out)); Kaiming (He):
std = gain / sqrt(fan); a uniform initializer with std s draws from [-s sqrt(3), s sqrt(3)].

>>> import autodiff as ad, nn
>>> w = ad.zeros(256, 128)
>>> _ = nn.init.kaiming_normal_(w, nonlinearity="relu")
>>> abs(float(w.data.std()) - (2 / 128) ** 0.5) < 0.01
True
"""

from __future__ import annotations

import math
import warnings

import numpy as np

import autodiff as ad
from autodiff import Tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain, as PyTorch's: linear, the convolutions (conv1d/2d/3d,
    conv_transpose1d/2d/3d) and sigmoid 1, tanh 5/3, relu sqrt(2), leaky_relu
    sqrt(2 / (1 + slope^2)) (`param` the slope, 0.01 by default), selu 3/4.

    >>> import autodiff as ad
    >>> from nn import init
    >>> init.calculate_gain('tanh'), round(init.calculate_gain('relu'), 4)
    (1.6666666666666667, 1.4142)
    >>> init.calculate_gain('selu'), init.calculate_gain('conv_transpose2d')
    (0.75, 1.0)
    """
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, int | float | np.floating | np.integer) and \
                not isinstance(param, bool) and math.isfinite(param):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4  # PyTorch's choice, for self-normalizing networks
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


_LINEAR = ("linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
           "conv_transpose2d", "conv_transpose3d")


def _fans(t: Tensor) -> tuple[int, int]:
    if t.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor of at least 2 dimensions, got "
                         f"shape {t.shape}")
    receptive = int(np.prod(t.shape[2:])) if t.ndim > 2 else 1
    return t.shape[1] * receptive, t.shape[0] * receptive


def _fill(t: Tensor, values: np.ndarray) -> Tensor:
    with ad.no_grad():
        t.data[...] = values.astype(t.dtype, copy=False)
    ad.increment_version(t)
    return t


def zeros_(t: Tensor) -> Tensor:
    """Fill `t` with zeros, in place; returns `t`.

    >>> import autodiff as ad
    >>> from nn import init
    >>> ad.manual_seed(0)
    >>> w = ad.zeros(2, 3)
    >>> _ = init.zeros_(w)
    >>> w.numpy().tolist()
    [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    return _fill(t, np.zeros(t.shape))


def ones_(t: Tensor) -> Tensor:
    """Fill `t` with ones, in place; returns `t`.

    >>> import autodiff as ad
    >>> from nn import init
    >>> ad.manual_seed(0)
    >>> w = ad.zeros(2, 3)
    >>> _ = init.ones_(w)
    >>> w.numpy().tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """
    return _fill(t, np.ones(t.shape))


def constant_(t: Tensor, value: float) -> Tensor:
    """Fill `t` with `value`, in place; returns `t`.

    >>> import autodiff as ad
    >>> from nn import init
    >>> ad.manual_seed(0)
    >>> w = ad.zeros(2, 3)
    >>> _ = init.constant_(w, 0.5)
    >>> w.numpy().tolist()
    [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]
    """
    return _fill(t, np.full(t.shape, value))


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill `t` with samples of N(mean, std^2) from the seeded generator, in place.

    >>> import autodiff as ad
    >>> from nn import init
    >>> ad.manual_seed(0)
    >>> w = ad.zeros(2, 3)
    >>> _ = init.normal_(w, mean=0.0, std=0.01)
    >>> bool(abs(w.numpy()).max() < 0.1)
    True
    """
    return _fill(t, ad.generator().normal(mean, std, t.shape))


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill `t` with samples of U(a, b) from the seeded generator, in place.

    >>> import autodiff as ad
    >>> from nn import init
    >>> ad.manual_seed(0)
    >>> w = ad.zeros(2, 3)
    >>> _ = init.uniform_(w, -1.0, 1.0)
    >>> bool((abs(w.numpy()) <= 1).all())
    True
    """
    return _fill(t, ad.generator().uniform(a, b, t.shape))


def xavier_uniform_(t: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)), in place.

    >>> import autodiff as ad
    >>> from nn import init
    >>> ad.manual_seed(0)
    >>> w = ad.zeros(2, 3)
    >>> _ = init.xavier_uniform_(w)
    >>> bool(abs(w.numpy()).max() <= (6 / (2 + 3)) ** 0.5)
    True
    """
    fan_in, fan_out = _fans(t)
    if t.size == 0:
        return _nothing_to_fill(t)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound)


def xavier_normal_(t: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)), in place.

    >>> import autodiff as ad
    >>> from nn import init
    >>> ad.manual_seed(0)
    >>> w = ad.zeros(2, 3)
    >>> _ = init.xavier_normal_(w)
    >>> w.shape
    (2, 3)
    """
    fan_in, fan_out = _fans(t)
    if t.size == 0:
        return _nothing_to_fill(t)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _nothing_to_fill(t: Tensor) -> Tensor:
    """A tensor with no elements, returned as it is with PyTorch's warning (its fan may be
    0, which the formulas divide by)."""
    warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
    return t


def _kaiming_std(t: Tensor, a: float, mode: str, nonlinearity: str,
                 check_only: bool = False) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(t)
    gain = calculate_gain(nonlinearity, a)
    if check_only:
        return gain
    fan = fan_in if mode == "fan_in" else fan_out
    return gain / math.sqrt(fan)


def kaiming_uniform_(t: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Tensor:
    """He uniform: U(-b, b) with b = gain * sqrt(3 / fan), fan = fan_in or fan_out by
    `mode`, in place.

    >>> import autodiff as ad
    >>> from nn import init
    >>> ad.manual_seed(0)
    >>> w = ad.zeros(2, 3)
    >>> _ = init.kaiming_uniform_(w, nonlinearity='relu')
    >>> bool(abs(w.numpy()).max() <= (6 / 3) ** 0.5)
    True
    """
    if t.size == 0:
        _kaiming_std(t, a, mode, nonlinearity, check_only=True)
        return _nothing_to_fill(t)
    bound = math.sqrt(3.0) * _kaiming_std(t, a, mode, nonlinearity)
    return uniform_(t, -bound, bound)


def kaiming_normal_(t: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Tensor:
    """He normal: N(0, std^2) with std = gain / sqrt(fan), fan = fan_in or fan_out by
    `mode`, in place.

    >>> import autodiff as ad
    >>> from nn import init
    >>> ad.manual_seed(0)
    >>> w = ad.zeros(2, 3)
    >>> _ = init.kaiming_normal_(w, nonlinearity='relu')
    >>> w.shape
    (2, 3)
    """
    if t.size == 0:
        _kaiming_std(t, a, mode, nonlinearity, check_only=True)
        return _nothing_to_fill(t)
    return normal_(t, 0.0, _kaiming_std(t, a, mode, nonlinearity))




# orthogonal_, eye_, dirac_ and trunc_normal_ live in nn.init_structured (after _fill above)
from nn.init_structured import dirac_, eye_, orthogonal_, trunc_normal_  # noqa: E402

__all__ = ["calculate_gain", "constant_", "dirac_", "eye_", "kaiming_normal_",
           "kaiming_uniform_", "normal_", "ones_", "orthogonal_", "trunc_normal_",
           "uniform_", "xavier_normal_", "xavier_uniform_", "zeros_"]
