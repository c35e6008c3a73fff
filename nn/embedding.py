"""Embedding: a learned lookup table, rows indexed by integers (PyTorch's `nn.Embedding`).

>>> import autodiff as ad, nn
>>> emb = nn.Embedding(10, 3)
>>> emb(ad.tensor([[1, 2, 4], [4, 3, 9]])).shape
(2, 3, 3)
"""

from __future__ import annotations

from typing import Any

import autodiff as ad
from autodiff import Tensor
from nn import init
from nn.functional.lookup import embedding
from nn.module import Module, Parameter


class Embedding(Module):
    """`weight` (num_embeddings, embedding_dim) drawn from N(0, 1), the `padding_idx` row
    zeroed; calling it looks up rows (see `nn.functional.embedding` for `padding_idx`,
    `max_norm`, `norm_type`, `scale_grad_by_freq`).

    >>> import autodiff as ad, nn
    >>> nn.Embedding(10, 3, padding_idx=0)
    Embedding(10, 3, padding_idx=0)
    >>> nn.Embedding(10, 3, padding_idx=0).weight[0].tolist()
    [0.0, 0.0, 0.0]
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight: Any = None, _freeze: bool = False, dtype: Any = None) -> None:
        super().__init__()
        if num_embeddings <= 0 or embedding_dim <= 0:
            raise ValueError(f"Embedding: sizes must be positive, got num_embeddings="
                             f"{num_embeddings}, embedding_dim={embedding_dim}")
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"Embedding: padding_idx {padding_idx} is out of range for "
                             f"{num_embeddings} embeddings")
        if sparse:
            raise ValueError("Embedding: sparse gradients do not exist in this library; use "
                             "sparse=False (dense gradients; optim.SparseAdam then moves only "
                             "the rows a batch looked up, as PyTorch's does with sparse=True)")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = None if padding_idx is None else padding_idx % num_embeddings
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        self.weight = embedding_table("Embedding", num_embeddings, embedding_dim, _weight,
                                      dtype, self.padding_idx, requires_grad=not _freeze)

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True,
                        padding_idx: int | None = None, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An Embedding holding a copy of the 2-d `embeddings` (frozen unless
        `freeze=False`).

        >>> import autodiff as ad, nn
        >>> emb = nn.Embedding.from_pretrained(ad.tensor([[1.0, 2.0], [3.0, 4.0]]))
        >>> emb(ad.tensor([1])).tolist(), emb.weight.requires_grad
        ([[3.0, 4.0]], False)
        """
        data = (embeddings if isinstance(embeddings, Tensor) else ad.tensor(embeddings)).data
        shape = data.shape
        if len(shape) != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-d, got shape "
                             f"{shape}")
        return cls(shape[0], shape[1], padding_idx, max_norm, norm_type, scale_grad_by_freq,
                   sparse, _weight=data.copy(), _freeze=freeze)

    def forward(self, x: Any) -> Tensor:
        return embedding(x, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        return s


def embedding_table(layer: str, num_embeddings: int, embedding_dim: int, weight: Any,
                    dtype: Any, padding_idx: int | None, requires_grad: bool = True
                    ) -> Parameter:
    """The (num_embeddings, embedding_dim) weight of an embedding layer: `weight` as given
    (its shape checked), or N(0, 1) with the padding row zero, as PyTorch's.

    >>> embedding_table("Embedding", 3, 2, None, None, padding_idx=0).data[0].tolist()
    [0.0, 0.0]
    """
    if weight is None:
        w = Parameter(ad.zeros(num_embeddings, embedding_dim, dtype=dtype),
                      requires_grad=requires_grad)
        init.normal_(w)
        if padding_idx is not None:
            w.data[padding_idx] = 0
        return w
    data = weight.data if isinstance(weight, Tensor) else weight
    if tuple(getattr(data, "shape", ())) != (num_embeddings, embedding_dim):
        raise ValueError(f"{layer}: _weight must have shape ({num_embeddings}, "
                         f"{embedding_dim}), got {getattr(data, 'shape', None)}")
    return Parameter(data, requires_grad=requires_grad)
