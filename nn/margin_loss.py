"""Margin loss layers (`nn.functional.margin_loss` and the triplet loss with a distance of
your own), with PyTorch's names and arguments; `reduction` (and what followed PyTorch's
deprecated `size_average`, `reduce`) keyword-only, as the other losses.

>>> import autodiff as ad, nn
>>> nn.MultiMarginLoss()(ad.tensor([[0.1, 0.2, 0.4, 0.8]]), [3]).item()
0.325
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autodiff import Tensor
from nn.functional import margin_loss
from nn.functional.ranking_loss import triplet_margin_with_distance_loss
from nn.loss import _Loss, _WeightedLoss


class SoftMarginLoss(_Loss):
    """log(1 + exp(-y x)) for labels y = +-1 (`nn.functional.soft_margin_loss`).

    >>> import autodiff as ad, nn
    >>> round(nn.SoftMarginLoss()(ad.tensor([0.0]), ad.tensor([1.0])).item(), 4)
    0.6931
    """

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return margin_loss.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """The logistic loss of 0/1 targets, averaged over the classes
    (`nn.functional.multilabel_soft_margin_loss`); `weight` is a buffer.

    >>> import autodiff as ad, nn
    >>> round(nn.MultiLabelSoftMarginLoss()(ad.tensor([[0.0]]), ad.tensor([[1.0]])).item(), 4)
    0.6931
    """

    def __init__(self, weight: Any = None, *, reduction: str = "mean") -> None:
        super().__init__(weight, reduction)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return margin_loss.multilabel_soft_margin_loss(input, target, self.weight,
                                                       reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """x where y = 1, max(0, margin - x) where y = -1 (`nn.functional.hinge_embedding_loss`).

    >>> import autodiff as ad, nn
    >>> nn.HingeEmbeddingLoss(margin=2.0)(ad.tensor([0.5]), ad.tensor([-1.0])).item()
    1.5
    """

    def __init__(self, margin: float = 1.0, *, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return margin_loss.hinge_embedding_loss(input, target, self.margin,
                                                reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """The multi-class hinge loss of scores and one label per sample
    (`nn.functional.multi_margin_loss`); `weight` (one per class) is a buffer.

    >>> import autodiff as ad, nn
    >>> nn.MultiMarginLoss(p=2)(ad.tensor([[0.1, 0.2, 0.4, 0.8]]), [3]).item()
    0.1525
    """

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Any = None, *,
                 reduction: str = "mean") -> None:
        super().__init__(weight, reduction)
        self.p, self.margin = p, margin

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return margin_loss.multi_margin_loss(input, target, self.p, self.margin, self.weight,
                                             reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """The multi-label hinge loss of scores and each sample's classes, ended by -1
    (`nn.functional.multilabel_margin_loss`).

    >>> import autodiff as ad, nn
    >>> round(nn.MultiLabelMarginLoss()(ad.tensor([[0.1, 0.2, 0.4, 0.8]]),
    ...                                 [[3, 0, -1, 1]]).item(), 4)
    0.85
    """

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return margin_loss.multilabel_margin_loss(input, target, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """max(0, d(a, p) - d(a, n) + margin) with a distance of your own
    (`nn.functional.triplet_margin_with_distance_loss`); every argument keyword-only, as
    PyTorch's.

    >>> import autodiff as ad, nn
    >>> loss = nn.TripletMarginWithDistanceLoss(distance_function=lambda u, v: ad.abs(u - v))
    >>> loss(ad.tensor([0.0]), ad.tensor([1.0]), ad.tensor([3.0])).item()
    0.0
    """

    def __init__(self, *, distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
                 margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.distance_function, self.margin, self.swap = distance_function, margin, swap

    def forward(self, anchor: Tensor, positive: Any, negative: Any) -> Tensor:
        return triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction)
