"""Loss modules (see nn.functional for the formulas), with PyTorch's names and arguments.

Each keeps PyTorch's signature without the deprecated `size_average` and `reduce`; where those
stood before an argument, it and the ones after it are keyword-only, so a positional call
written for PyTorch fails loudly instead of binding a value to another argument. Class weights
(`weight`, `pos_weight`) are buffers, as PyTorch's: in `state_dict()` and cast by `.double()`.
Losses print as PyTorch's do, without their arguments.

>>> import autodiff as ad, nn
>>> nn.MSELoss()(ad.tensor([1.0, 2.0]), ad.tensor([1.0, 4.0])).item()
2.0
>>> nn.CrossEntropyLoss(label_smoothing=0.1)
CrossEntropyLoss()
"""

from __future__ import annotations

from typing import Any

from autodiff import Tensor
from nn.functional import likelihood_loss, ranking_loss, regression_loss
from nn.functional import loss as F
from nn.module import Module


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", _buffer(type(self).__name__, "weight", weight))


def _buffer(owner: str, name: str, value: Any) -> Tensor | None:
    if isinstance(value, str):
        raise TypeError(f"{owner}: {name} must be an array of weights, got the string "
                        f"{value!r}; reduction is a keyword argument: reduction={value!r}")
    return value if value is None or isinstance(value, Tensor) else Tensor(value)


class MSELoss(_Loss):
    """(input - target)^2, reduced (`nn.functional.mse_loss`).

    >>> import autodiff as ad, nn
    >>> nn.MSELoss(reduction="sum")(ad.tensor([1.0, 2.0]), ad.tensor([0.0, 0.0])).item()
    5.0
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """|input - target|, reduced (`nn.functional.l1_loss`).

    >>> import autodiff as ad, nn
    >>> nn.L1Loss()(ad.tensor([1.0, 2.0]), ad.tensor([0.0, 0.0])).item()
    1.5
    """

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return regression_loss.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Quadratic below `beta`, linear above (`nn.functional.smooth_l1_loss`).

    >>> import autodiff as ad, nn
    >>> nn.SmoothL1Loss(beta=0.5)(ad.tensor([0.25, 2.0]), ad.tensor([0.0, 0.0])).item()
    0.90625
    """

    def __init__(self, *, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return regression_loss.smooth_l1_loss(input, target, reduction=self.reduction,
                                              beta=self.beta)


class HuberLoss(_Loss):
    """Quadratic below `delta`, linear with slope delta above (`nn.functional.huber_loss`).

    >>> import autodiff as ad, nn
    >>> nn.HuberLoss(delta=0.5)(ad.tensor([0.25, 2.0]), ad.tensor([0.0, 0.0])).item()
    0.453125
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return regression_loss.huber_loss(input, target, self.reduction, self.delta)


class KLDivLoss(_Loss):
    """KL(target || model) from the model's log-probabilities (`nn.functional.kl_div`);
    the default "mean" warns, as PyTorch's, that "batchmean" is the KL divergence.

    >>> import autodiff as ad, nn
    >>> loss = nn.KLDivLoss(reduction="batchmean", log_target=True)
    >>> loss(ad.tensor([[-1.0, -2.0]]), ad.tensor([[-1.0, -2.0]])).item()
    0.0
    """

    def __init__(self, *, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities (`nn.functional.binary_cross_entropy`).

    >>> import autodiff as ad, nn
    >>> round(nn.BCELoss()(ad.tensor([0.5]), ad.tensor([1.0])).item(), 4)
    0.6931
    """

    def __init__(self, weight: Any = None, *, reduction: str = "mean") -> None:
        super().__init__(weight, reduction)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy of logits, stable, with `weight` and `pos_weight`
    (`nn.functional.binary_cross_entropy_with_logits`).

    >>> import autodiff as ad, nn
    >>> loss = nn.BCEWithLogitsLoss(pos_weight=ad.tensor([3.0]))
    >>> round(loss(ad.tensor([0.0]), ad.tensor([1.0])).item(), 4)  # 3 log 2
    2.0794
    """

    def __init__(self, weight: Any = None, *, reduction: str = "mean",
                 pos_weight: Any = None) -> None:
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", _buffer(type(self).__name__, "pos_weight",
                                                   pos_weight))

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities, with class `weight` and `ignore_index`
    (`nn.functional.nll_loss`).

    >>> import autodiff as ad, nn
    >>> nn.NLLLoss(ignore_index=1)(ad.tensor([[-0.5, -1.0], [-2.0, -0.1]]), [0, 1]).item()
    0.5
    """

    def __init__(self, weight: Any = None, *, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy of logits with labels or probabilities, class `weight`,
    `ignore_index` and `label_smoothing` (`nn.functional.cross_entropy`).

    >>> import autodiff as ad, nn
    >>> loss = nn.CrossEntropyLoss(weight=ad.tensor([1.0, 3.0]))
    >>> round(loss(ad.tensor([[0.0, 0.0], [0.0, 0.0]]), [0, 1]).item(), 4)  # log 2
    0.6931
    """

    def __init__(self, weight: Any = None, *, ignore_index: int = -100,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class CosineEmbeddingLoss(_Loss):
    """1 - cos for alike pairs (y = 1), max(0, cos - margin) for unlike ones (y = -1)
    (`nn.functional.cosine_embedding_loss`).

    >>> import autodiff as ad, nn
    >>> nn.CosineEmbeddingLoss()(ad.tensor([[1.0, 0.0]]), ad.tensor([[2.0, 0.0]]),
    ...                          ad.tensor([1.0])).item()
    0.0
    """

    def __init__(self, margin: float = 0.0, *, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Any) -> Tensor:
        return ranking_loss.cosine_embedding_loss(input1, input2, target, self.margin,
                                                  reduction=self.reduction)


class MarginRankingLoss(_Loss):
    """max(0, -y (x1 - x2) + margin) (`nn.functional.margin_ranking_loss`).

    >>> import autodiff as ad, nn
    >>> nn.MarginRankingLoss(margin=1.0)(ad.tensor([1.0]), ad.tensor([0.0]),
    ...                                  ad.tensor([-1.0])).item()
    2.0
    """

    def __init__(self, margin: float = 0.0, *, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Any) -> Tensor:
        return ranking_loss.margin_ranking_loss(input1, input2, target, self.margin,
                                                reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """max(0, d(a, p) - d(a, n) + margin), d the pairwise distance
    (`nn.functional.triplet_margin_loss`).

    >>> import autodiff as ad, nn
    >>> loss = nn.TripletMarginLoss(margin=0.5, p=1.0, eps=0.0)
    >>> loss(ad.tensor([[0.0]]), ad.tensor([[1.0]]), ad.tensor([[2.0]])).item()
    0.0
    """

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, *, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor: Tensor, positive: Any, negative: Any) -> Tensor:
        return ranking_loss.triplet_margin_loss(anchor, positive, negative, self.margin,
                                                self.p, self.eps, self.swap,
                                                reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """The Poisson negative log-likelihood of a (log-)rate (`nn.functional.poisson_nll_loss`).

    >>> import autodiff as ad, nn
    >>> nn.PoissonNLLLoss()(ad.tensor([0.0]), ad.tensor([1.0])).item()
    1.0
    """

    def __init__(self, log_input: bool = True, full: bool = False, *, eps: float = 1e-8,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input: Tensor, target: Any) -> Tensor:
        return likelihood_loss.poisson_nll_loss(log_input, target, self.log_input, self.full,
                                                eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """The Gaussian negative log-likelihood of a mean and a variance
    (`nn.functional.gaussian_nll_loss`).

    >>> import autodiff as ad, nn
    >>> nn.GaussianNLLLoss()(ad.tensor([1.0]), ad.tensor([1.0]), ad.tensor([1.0])).item()
    0.0
    """

    def __init__(self, *, full: bool = False, eps: float = 1e-6,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.full, self.eps = full, eps

    def forward(self, input: Tensor, target: Any, var: Any) -> Tensor:
        return likelihood_loss.gaussian_nll_loss(input, target, var, self.full, self.eps,
                                                 self.reduction)
