"""RReLU: the randomized leaky ReLU layer (`nn.functional.rrelu`).

>>> import autodiff as ad, nn
>>> nn.RReLU(0.1, 0.3)
RReLU(lower=0.1, upper=0.3)
"""

from __future__ import annotations

from autodiff import Tensor
from nn.functional.rrelu import check_bounds, rrelu
from nn.module import Module


class RReLU(Module):
    """x where x > 0, a * x elsewhere: in training a slope per element drawn uniformly from
    [lower, upper) (autodiff's seeded generator), in evaluation (lower + upper) / 2.

    >>> import autodiff as ad, nn
    >>> act = nn.RReLU(0.2, 0.4).eval()
    >>> act(ad.tensor([-10.0, 1.0])).tolist()
    [-3.0, 1.0]
    """

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False
                 ) -> None:
        super().__init__()
        check_bounds("RReLU", lower, upper)
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input: Tensor) -> Tensor:
        return rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        inplace = ", inplace=True" if self.inplace else ""
        return f"lower={self.lower}, upper={self.upper}{inplace}"
