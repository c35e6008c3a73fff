"""EmbeddingBag: a learned table whose rows are summed, averaged or maxed per bag (PyTorch's
`nn.EmbeddingBag`).

>>> import autodiff as ad, nn
>>> bags = nn.EmbeddingBag(10, 3, mode="sum")
>>> bags(ad.tensor([1, 2, 4, 4, 3]), ad.tensor([0, 2])).shape
(2, 3)
"""

from __future__ import annotations

from typing import Any

import autodiff as ad
from autodiff import Tensor
from nn.embedding import embedding_table
from nn.functional.embedding_bag import check_mode, embedding_bag
from nn.module import Module


class EmbeddingBag(Module):
    """`weight` (num_embeddings, embedding_dim) drawn from N(0, 1), the `padding_idx` row
    zeroed; calling it with (input, offsets=None, per_sample_weights=None) reduces each bag
    of rows by `mode` (see `nn.functional.embedding_bag`).

    >>> import autodiff as ad, nn
    >>> nn.EmbeddingBag(10, 3, mode="max", padding_idx=0)
    EmbeddingBag(10, 3, mode='max', padding_idx=0)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight: Any = None, include_last_offset: bool = False,
                 padding_idx: int | None = None, dtype: Any = None) -> None:
        super().__init__()
        _check_layer(num_embeddings, embedding_dim, mode, sparse, padding_idx)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.mode, self.sparse = scale_grad_by_freq, mode, sparse
        self.include_last_offset = include_last_offset
        self.padding_idx = None if padding_idx is None else padding_idx % num_embeddings
        self.weight = embedding_table("EmbeddingBag", num_embeddings, embedding_dim, _weight,
                                      dtype, self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True,
                        max_norm: float | None = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> EmbeddingBag:
        """An EmbeddingBag holding a copy of the 2-d `embeddings` (frozen unless
        `freeze=False`).

        >>> import autodiff as ad, nn
        >>> bags = nn.EmbeddingBag.from_pretrained(ad.tensor([[1.0, 2.0], [3.0, 4.0]]))
        >>> bags(ad.tensor([[0, 1]])).tolist(), bags.weight.requires_grad
        ([[2.0, 3.0]], False)
        """
        data = (embeddings if isinstance(embeddings, Tensor) else ad.tensor(embeddings)).data
        if data.ndim != 2:
            raise ValueError(f"EmbeddingBag.from_pretrained: embeddings must be 2-d, got shape "
                             f"{data.shape}")
        bags = cls(data.shape[0], data.shape[1], max_norm, norm_type, scale_grad_by_freq, mode,
                   sparse, data.copy(), include_last_offset, padding_idx)
        bags.weight.requires_grad = not freeze
        return bags

    def forward(self, input: Any, offsets: Any = None, per_sample_weights: Any = None
                ) -> Tensor:
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                             self.scale_grad_by_freq, self.mode, self.sparse,
                             per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s


def _check_layer(num_embeddings: int, embedding_dim: int, mode: str, sparse: bool,
                 padding_idx: int | None) -> None:
    if num_embeddings <= 0 or embedding_dim <= 0:
        raise ValueError(f"EmbeddingBag: sizes must be positive, got num_embeddings="
                         f"{num_embeddings}, embedding_dim={embedding_dim}")
    check_mode("EmbeddingBag", mode, sparse)
    if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"EmbeddingBag: padding_idx {padding_idx} is out of range for "
                         f"{num_embeddings} embeddings")
