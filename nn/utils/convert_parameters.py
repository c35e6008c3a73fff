"""All of a model's parameters as one vector and back, PyTorch's
`torch.nn.utils.parameters_to_vector` and `vector_to_parameters` (for second-order methods,
line searches, evolution strategies, flat-vector optimizers).

>>> import autodiff as ad, nn
>>> model = nn.Linear(3, 2)
>>> vec = nn.utils.parameters_to_vector(model.parameters())
>>> vec.shape
(8,)
>>> nn.utils.vector_to_parameters(ad.zeros(8), model.parameters())
>>> model.bias.tolist()
[0.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Iterable

import autodiff as ad
from autodiff import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened (row-major) and concatenated into one 1-d tensor, in the
    order given; differentiable (the gradient flows back to each parameter).

    >>> import autodiff as ad, nn
    >>> w = nn.Parameter([[1.0, 2.0], [3.0, 4.0]]); b = nn.Parameter([5.0])
    >>> nn.utils.parameters_to_vector([w, b]).tolist()
    [1.0, 2.0, 3.0, 4.0, 5.0]
    """
    params = list(_tensors("parameters_to_vector", parameters))
    if not params:
        raise ValueError("parameters_to_vector: expected a non-empty iterable of tensors "
                         "(model.parameters()), got none")
    return ad.concatenate([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Put the consecutive slices of the 1-d `vec` into the parameters, in the order given
    (each reshaped to its parameter's shape), as PyTorch's: each parameter stays the same
    object (an optimizer built on it keeps working), its array becomes a view of `vec`'s
    memory, with `vec`'s dtype, and no graph is recorded. `vec` must have exactly as many
    elements as the parameters together.

    >>> import autodiff as ad, nn
    >>> w = nn.Parameter([[0.0, 0.0]]); b = nn.Parameter([0.0])
    >>> nn.utils.vector_to_parameters(ad.tensor([1.0, 2.0, 3.0]), [w, b])
    >>> w.tolist(), b.tolist()
    ([[1.0, 2.0]], [3.0])
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, but got: "
                        f"{type(vec).__module__}.{type(vec).__name__}")
    params = list(_tensors("vector_to_parameters", parameters))
    total = sum(p.data.size for p in params)
    if vec.ndim != 1 or vec.data.size != total:
        raise ValueError(f"vector_to_parameters: vec must be a 1-d tensor of {total} elements "
                         f"(the {len(params)} parameters' sizes summed), got shape {vec.shape}")
    start = 0
    for p in params:
        n = p.data.size
        p.data = vec.data[start:start + n].reshape(p.shape)
        start += n


def _tensors(who: str, parameters: Iterable[Tensor]) -> Iterable[Tensor]:
    if isinstance(parameters, Tensor):
        raise TypeError(f"{who}: expected an iterable of tensors (model.parameters(), or "
                        f"[t] for one), got a Tensor of shape {parameters.shape}")
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"{who}: parameter {i} is a {type(p).__name__}, not a Tensor")
        yield p
