"""LocalResponseNorm: the layer of `nn.functional.local_response_norm`.

>>> import autodiff as ad, nn
>>> nn.LocalResponseNorm(2)
LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)
"""

from __future__ import annotations

from autodiff import Tensor
from nn.functional.local_response_norm import _window, local_response_norm
from nn.module import Module


class LocalResponseNorm(Module):
    """x / (k + alpha / size * sum of x^2 over `size` neighbouring channels)^beta, over axis 1
    of an (N, C, ...) input (`nn.functional.local_response_norm`); no parameters.

    >>> import autodiff as ad, nn
    >>> lrn = nn.LocalResponseNorm(size=1, alpha=1.0, beta=1.0, k=0.0)
    >>> lrn(ad.tensor([[[2.0], [4.0]]])).tolist()
    [[[0.5], [0.25]]]
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
                 ) -> None:
        super().__init__()
        self.size = _window(size, "LocalResponseNorm")
        self.alpha, self.beta, self.k = alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
