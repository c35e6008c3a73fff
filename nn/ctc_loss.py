"""CTCLoss: the connectionist temporal classification loss layer (`nn.functional.ctc_loss`).

>>> import nn
>>> nn.CTCLoss(blank=1, zero_infinity=True)
CTCLoss()
"""

from __future__ import annotations

from typing import Any

from autodiff import Tensor
from nn.functional.ctc_loss import REDUCTIONS, ctc_loss
from nn.loss import _Loss


class CTCLoss(_Loss):
    """-log p(target | log_probs) summed over alignments; called with (log_probs, targets,
    input_lengths, target_lengths) as `nn.functional.ctc_loss`.

    >>> import numpy as np
    >>> import nn
    >>> lp = np.log(np.full((2, 1, 2), 0.5))
    >>> round(nn.CTCLoss(reduction="sum")(lp, [[1]], [2], [1]).item(), 6)
    0.287682
    """

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False
                 ) -> None:
        if reduction not in REDUCTIONS:
            raise ValueError(f"CTCLoss: reduction must be 'none', 'mean' or 'sum', got "
                             f"{reduction!r}")
        if blank < 0:
            raise ValueError(f"CTCLoss: blank must be a class index (>= 0), got {blank}")
        super().__init__(reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs: Tensor, targets: Any, input_lengths: Any,
                target_lengths: Any) -> Tensor:
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                        self.reduction, self.zero_infinity)
