"""PyTorch's initializers that are not a plain draw per element: `orthogonal_` (a random
orthogonal matrix, QR of a Gaussian one), `eye_` (the identity), `dirac_` (convolutions that
pass their input through) and `trunc_normal_` (a normal cut to [a, b]). In place, from
autodiff's seeded generator, each keeping the tensor's dtype; all are in `nn.init`.

>>> import numpy as np, autodiff as ad, nn
>>> w = nn.init.orthogonal_(ad.zeros(3, 5))
>>> bool(np.allclose(w.data @ w.data.T, np.eye(3), atol=1e-6))
True
"""

from __future__ import annotations

import math

import numpy as np

import autodiff as ad
from autodiff import Tensor
from nn.functional._erf import erf_array
from nn.init import _fill, _nothing_to_fill


def orthogonal_(t: Tensor, gain: float = 1.0) -> Tensor:
    """A (semi-)orthogonal matrix times `gain`, as PyTorch's: the Q of the QR decomposition of
    a standard normal (rows, prod(other axes)) matrix (transposed when it is wide), each
    column's sign set by R's diagonal so that Q is uniform over orthogonal matrices. Rows
    (or columns, whichever are fewer) are orthonormal.

    >>> import numpy as np, autodiff as ad, nn
    >>> w = nn.init.orthogonal_(ad.zeros(4, 2), gain=2.0)
    >>> bool(np.allclose(w.data.T @ w.data, 4 * np.eye(2), atol=1e-5))
    True
    """
    if t.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, "
                         f"got shape {t.shape}")
    if t.size == 0:
        return t
    rows = t.shape[0]
    cols = t.size // rows
    flat = ad.generator().normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(t, (gain * q).reshape(t.shape))


def eye_(t: Tensor) -> Tensor:
    """The identity matrix (ones on the diagonal of a 2-d tensor, of any shape), in place.

    >>> import autodiff as ad, nn
    >>> nn.init.eye_(ad.zeros(2, 3)).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    if t.ndim != 2:
        raise ValueError(f"eye_: only 2-d tensors are supported, got shape {t.shape}")
    return _fill(t, np.eye(*t.shape))


def dirac_(t: Tensor, groups: int = 1) -> Tensor:
    """A convolution weight (out, in, *kernel) of 3 to 5 axes that passes its input through:
    in each of `groups` groups, output channel d of the group takes input channel d at the
    kernel's centre (the first min(out / groups, in) channels), as PyTorch's.

    >>> import autodiff as ad, nn
    >>> nn.init.dirac_(ad.zeros(2, 2, 3)).tolist()
    [[[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]
    """
    if t.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: only tensors of 3, 4 or 5 dimensions are supported, got "
                         f"shape {t.shape}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1 or \
            t.shape[0] % groups:
        raise ValueError(f"dirac_: dim 0 ({t.shape[0]}) must be divisible by groups, got "
                         f"groups={groups!r}")
    per_group = t.shape[0] // groups
    values = np.zeros(t.shape)
    centre = tuple(k // 2 for k in t.shape[2:])
    for g in range(groups):
        for d in range(min(per_group, t.shape[1])):
            values[(g * per_group + d, d, *centre)] = 1.0
    return _fill(t, values)


def trunc_normal_(t: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0) -> Tensor:
    """Samples of N(mean, std^2) conditioned on [a, b] (PyTorch's defaults: the absolute
    bounds -2 and 2, not in units of std), in place. Draws by the inverse CDF as PyTorch's,
    so every value lies in [a, b].

    >>> import autodiff as ad, nn
    >>> w = nn.init.trunc_normal_(ad.zeros(1000), std=0.02)
    >>> float(w.data.min()) >= -2.0, abs(float(w.data.std()) - 0.02) < 0.002
    (True, True)
    """
    if not std > 0 or not a < b:
        raise ValueError(f"trunc_normal_: needs std > 0 and a < b, got std={std}, a={a}, "
                         f"b={b}")
    if t.size == 0:
        return _nothing_to_fill(t)
    lo, hi = _normal_cdf((a - mean) / std), _normal_cdf((b - mean) / std)
    if hi - lo < 1e-12:
        raise ValueError(f"trunc_normal_: [a, b] = [{a}, {b}] holds no probability under "
                         f"N({mean}, {std}^2)")
    u = ad.generator().uniform(lo, hi, t.shape)
    values = mean + std * _normal_ppf(u)
    return _fill(t, np.clip(values, a, b))


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _normal_ppf(p: np.ndarray) -> np.ndarray:
    """The standard normal's quantile function: Acklam's rational approximation (relative
    error 1.2e-9), refined by two Newton steps on erf where |x| < 5."""
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-300, 1 - 1e-16)
    a = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
         1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
    b = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
         6.680131188771972e+01, -1.328068155288572e+01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
         -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
         3.754408661907416e+00)
    x = np.empty_like(p)
    low, high = p < 0.02425, p > 1 - 0.02425
    mid = ~(low | high)
    q = p[mid] - 0.5
    r = q * q
    x[mid] = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / \
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    for sel, sign, pp in ((low, 1.0, p[low]), (high, -1.0, 1 - p[high])):
        q = np.sqrt(-2 * np.log(pp))
        x[sel] = sign * (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    inner = np.abs(x) < 5  # (Newton's exp(x^2 / 2) grows without bound in the tails)
    for _ in range(2):  # Newton on cdf(x) - p
        xi = x[inner]
        e = 0.5 * (1 + erf_array(xi / math.sqrt(2))) - p[inner]
        x[inner] = xi - e * math.sqrt(2 * math.pi) * np.exp(xi * xi / 2)
    return x
