"""Dropout (inverted; off in eval mode).

>>> import autodiff as ad, nn
>>> nn.Dropout(0.5).eval()(ad.ones(3)).tolist()
[1.0, 1.0, 1.0]
"""

from __future__ import annotations

from autodiff import Tensor
from nn.functional.dropout import dropout, dropout2d, dropout3d
from nn.module import Module


class Dropout(Module):
    """Inverted dropout with probability p in training, the identity in eval; `inplace`
    writes into the input (see `nn.functional.dropout`).

    >>> import autodiff as ad, nn
    >>> nn.Dropout(0.25)
    Dropout(p=0.25, inplace=False)
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) with probability p (off in eval).

    >>> import autodiff as ad, nn
    >>> ad.manual_seed(0)
    >>> d = nn.Dropout2d(0.5)
    >>> y = d(ad.ones((1, 8, 2, 2)))
    >>> sorted(set(y.numpy().ravel().tolist()))
    [0.0, 2.0]
    >>> d.eval(); d(ad.ones((1, 8, 2, 2))).numpy().min()
    Dropout2d(p=0.5, inplace=False)
    np.float32(1.0)
    """

    def forward(self, x: Tensor) -> Tensor:
        return dropout2d(x, self.p, self.training, self.inplace)


class Dropout3d(Dropout):
    """Zero whole channels of (N, C, D, H, W), or (C, D, H, W) unbatched, with probability p
    (F.dropout3d; off in eval).

    >>> import autodiff as ad, nn
    >>> nn.Dropout3d(0.2)
    Dropout3d(p=0.2, inplace=False)
    >>> nn.Dropout3d().eval()(ad.ones((2, 3, 2, 2, 2))).numpy().min()
    np.float32(1.0)
    """

    def forward(self, x: Tensor) -> Tensor:
        return dropout3d(x, self.p, self.training, self.inplace)
