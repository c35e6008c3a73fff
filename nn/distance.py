"""Distance modules (see nn.functional.distance for the formulas), with PyTorch's names and
arguments.

>>> import autodiff as ad, nn
>>> nn.PairwiseDistance(eps=0.0)(ad.tensor([[0.0, 0.0]]), ad.tensor([[3.0, 4.0]])).tolist()
[5.0]
"""

from __future__ import annotations

from typing import Any

from autodiff import Tensor
from nn.functional import distance as F
from nn.functional.activation import axis_or_dim
from nn.module import Module


class CosineSimilarity(Module):
    """Cosine similarity along `axis` of the broadcast inputs, each norm at least `eps`
    (`nn.functional.cosine_similarity`); PyTorch's `dim=` is accepted as another name for
    `axis`.

    >>> import autodiff as ad, nn
    >>> nn.CosineSimilarity(dim=0)(ad.tensor([1.0, 0.0]), ad.tensor([2.0, 0.0])).item()
    1.0
    """

    def __init__(self, axis: int = 1, eps: float = 1e-8, *, dim: int | None = None) -> None:
        super().__init__()
        self.axis = axis_or_dim(type(self).__name__, axis, dim, 1)
        self.eps = eps

    def forward(self, x1: Tensor, x2: Any) -> Tensor:
        return F.cosine_similarity(x1, x2, self.axis, self.eps)



class PairwiseDistance(Module):
    """||x1 - x2 + eps||_p along the last axis (`nn.functional.pairwise_distance`).

    >>> import autodiff as ad, nn
    >>> nn.PairwiseDistance(p=1.0, eps=0.0)(ad.tensor([[1.0, 2.0]]), ad.tensor([[0.0, 0.0]]))
    tensor([3.])
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Any) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
