"""Weight normalization and spectral normalization as parametrizations, PyTorch's
`torch.nn.utils.parametrizations.weight_norm` and `spectral_norm` (their names, defaults,
state-dict keys and buffers).

- `weight_norm`: w = g v / ||v||, the norm over every axis but `dim` (the whole tensor with
  `dim=None`); `g` is `parametrizations.weight.original0`, `v` is `original1`.
- `spectral_norm`: w = W / sigma(W), sigma the largest singular value of W (as a matrix: axis
  `dim` first, the others flattened), estimated by power iteration on the buffers `u`, `v`,
  which advance `n_power_iterations` steps at each access in training mode only.

>>> import autodiff as ad, nn
>>> from nn.utils.parametrizations import weight_norm
>>> m = weight_norm(nn.Linear(3, 2))
>>> [k for k, _ in m.named_parameters()]
['bias', 'parametrizations.weight.original0', 'parametrizations.weight.original1']
"""

from __future__ import annotations

import numpy as np

import autodiff as ad
import nn.functional as F
from autodiff import Tensor
from autodiff.replay import replayed
from nn.conv import ConvTranspose2d
from nn.module import Module
from nn.utils.parametrize import register_parametrization

__all__ = ["spectral_norm", "weight_norm"]


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize `module.<name>` as w = g v / ||v|| (PyTorch's
    `torch.nn.utils.parametrizations.weight_norm`): the norm is taken over every axis but
    `dim` (g has the size of w along `dim`, 1 along the others), over the whole tensor with
    `dim=None` or `dim=-1` (g is then 0-d). g and v start as ||w|| and w, so the module
    computes what it did. They are `module.parametrizations.<name>.original0` and
    `original1`. Returns `module`.

    >>> import autodiff as ad, nn
    >>> from nn.utils.parametrizations import weight_norm
    >>> m = weight_norm(nn.Linear(3, 2))
    >>> m.parametrizations.weight.original0.shape, m.parametrizations.weight.original1.shape
    ((2, 1), (2, 3))
    """
    weight = getattr(module, name, None)
    if isinstance(weight, Tensor):
        _axis("weight_norm", weight.ndim, -1 if dim is None else dim, whole=True)
    register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Reparametrize `module.<name>` as W / sigma(W) (PyTorch's
    `torch.nn.utils.parametrizations.spectral_norm`), sigma = u^T W v the largest singular
    value of W seen as a matrix (axis `dim` first, the others flattened; `dim` defaults to 1
    for ConvTranspose2d, 0 otherwise), u and v estimated by power iteration:
    u <- W v / max(||W v||, eps), v <- W^T u / max(||W^T u||, eps). They start from normal
    draws (`ad.manual_seed`) and 15 iterations; each access of `module.<name>` in training
    mode runs `n_power_iterations` more (none in eval mode; once per call under
    `autodiff.checkpoint.checkpoint` and `vmap`, whose later runs reuse the first's u, v).
    They are the buffers `parametrizations.<name>.0._u` and `_v`, as in PyTorch. A 1-d
    tensor is divided by its norm. Returns `module`.

    >>> import numpy as np, autodiff as ad, nn
    >>> from nn.utils.parametrizations import spectral_norm
    >>> ad.manual_seed(0)
    >>> m = spectral_norm(nn.Linear(4, 3), n_power_iterations=10)
    >>> w = m.weight.detach().numpy()
    >>> round(float(np.linalg.svd(w, compute_uv=False)[0]), 4)
    1.0
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if isinstance(module, ConvTranspose2d) else 0
    register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


class _WeightNorm(Module):
    """w = g v / ||v|| (the norm over every axis but `dim`; the whole tensor for -1)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return _norm_except_dim(weight, self.dim), weight


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """The 2-norm of `v` over every axis but `dim`, kept as size-1 axes (PyTorch's
    `norm_except_dim`); over the whole tensor, 0-d, for dim -1."""
    if dim == -1:
        return ad.linalg.vector_norm(v)
    axis = _axis("weight_norm", v.ndim, dim, whole=True)
    others = tuple(a for a in range(v.ndim) if a != axis)
    return ad.linalg.vector_norm(v, axis=others, keepdims=True)


class _SpectralNorm(Module):
    """W / sigma(W), sigma by power iteration on the buffers `_u`, `_v` (training mode)."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        self.dim = _axis("spectral_norm", ndim, dim)
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            with ad.no_grad():
                w = self._matrix(weight)
                h, k = w.shape
                rng = ad.generator()
                u = ad.tensor(rng.standard_normal(h).astype(w.dtype))
                v = ad.tensor(rng.standard_normal(k).astype(w.dtype))
                self.register_buffer("_u", F.normalize(u, axis=0, eps=eps))
                self.register_buffer("_v", F.normalize(v, axis=0, eps=eps))
                self._power_method(w, 15)

    def _matrix(self, weight: Tensor) -> Tensor:
        """The weight as a matrix: axis `dim` first, the others flattened."""
        if self.dim != 0:
            weight = ad.moveaxis(weight, self.dim, 0)
        return weight.reshape(weight.shape[0], -1)

    def _power_method(self, w: Tensor, n_power_iterations: int) -> None:
        """n steps u <- normalize(W v), v <- normalize(W^T u), written into the buffers."""
        with ad.no_grad():
            for _ in range(n_power_iterations):
                self._u.data[...] = F.normalize(w @ self._v, axis=0, eps=self.eps).data
                self._v.data[...] = F.normalize(w.T @ self._u, axis=0, eps=self.eps).data
            ad.increment_version(self._u)
            ad.increment_version(self._v)

    def _step(self, w: Tensor) -> tuple[np.ndarray, np.ndarray]:
        """The training-mode power steps, and copies of the buffers they leave."""
        self._power_method(w, self.n_power_iterations)
        return self._u.data.copy(), self._v.data.copy()

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return F.normalize(weight, axis=0, eps=self.eps)
        w = self._matrix(weight)
        if self.training:  # once: a checkpoint's recomputation reads the first run's u, v
            u_data, v_data = replayed(lambda: self._step(w))
        else:
            u_data, v_data = self._u.data.copy(), self._v.data.copy()
        u = ad.tensor(u_data)  # copies: a later power step writes the buffers
        v = ad.tensor(v_data)
        sigma = (u * (w @ v)).sum()
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def _axis(who: str, ndim: int, dim: int, whole: bool = False) -> int:
    """`dim` as an axis of an `ndim`-d weight (-1 means the whole tensor for weight_norm)."""
    if not isinstance(dim, int | np.integer):
        raise TypeError(f"{who}: dim must be an integer or None, got {type(dim).__name__}")
    if whole and dim == -1:
        return -1
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{who}: Dimension out of range (expected to be in range of "
                         f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}] but got {dim})")
    return int(dim) % max(ndim, 1)
