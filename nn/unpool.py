"""MaxUnpool1d, MaxUnpool2d and MaxUnpool3d (PyTorch's): a max pool undone from the indices
it returned (nn.functional.unpool).

>>> import autodiff as ad, nn
>>> pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
>>> y, indices = pool(ad.arange(16.0).reshape(1, 1, 4, 4))
>>> unpool(y, indices).shape
(1, 1, 4, 4)
"""

from __future__ import annotations

from typing import Any

from autodiff import Tensor
from nn.functional.conv import _pair
from nn.functional.conv_3d import triple
from nn.functional.pooling1d import single
from nn.functional.unpool import max_unpool1d, max_unpool2d, max_unpool3d
from nn.module import Module


class MaxUnpool2d(Module):
    """Each value at its index in a zero output (F.max_unpool2d); sizes kept as pairs, as
    PyTorch's. `forward(x, indices, output_size=None)`.

    >>> import nn
    >>> nn.MaxUnpool2d(2)
    MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel_size = _pair(kernel_size, "kernel_size", "MaxUnpool2d")
        self.stride = _pair(kernel_size if stride is None else stride, "stride", "MaxUnpool2d")
        self.padding = _pair(padding, "padding", "MaxUnpool2d")

    def forward(self, x: Tensor, indices: Any, output_size: Any = None) -> Tensor:
        return max_unpool2d(x, indices, self.kernel_size, self.stride, self.padding,
                            output_size)

    def extra_repr(self) -> str:
        """PyTorch's."""
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(Module):
    """Each value at its index in a zero output (F.max_unpool1d); sizes kept as 1-tuples, as
    PyTorch's. `forward(x, indices, output_size=None)`.

    >>> import autodiff as ad, nn
    >>> y, i = nn.MaxPool1d(2, return_indices=True)(ad.tensor([[[1.0, 3.0, 2.0, 5.0]]]))
    >>> nn.MaxUnpool1d(2)(y, i)
    tensor([[[0., 3., 0., 5.]]])
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        k = single("MaxUnpool1d", "kernel_size", kernel_size)
        self.kernel_size = (k,)
        self.stride = (k if stride is None else single("MaxUnpool1d", "stride", stride),)
        self.padding = (single("MaxUnpool1d", "padding", padding),)

    def forward(self, x: Tensor, indices: Any, output_size: Any = None) -> Tensor:
        return max_unpool1d(x, indices, self.kernel_size, self.stride, self.padding,
                            output_size)

    def extra_repr(self) -> str:
        """PyTorch's."""
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool3d(Module):
    """Each value at its index in a zero output volume (F.max_unpool3d); sizes kept as
    triples, as PyTorch's. `forward(x, indices, output_size=None)`.

    >>> import nn
    >>> nn.MaxUnpool3d(2, stride=(1, 2, 2))
    MaxUnpool3d(kernel_size=(2, 2, 2), stride=(1, 2, 2), padding=(0, 0, 0))
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel_size = triple(kernel_size, "kernel_size", "MaxUnpool3d")
        self.stride = triple(kernel_size if stride is None else stride, "stride", "MaxUnpool3d")
        self.padding = triple(padding, "padding", "MaxUnpool3d")

    def forward(self, x: Tensor, indices: Any, output_size: Any = None) -> Tensor:
        return max_unpool3d(x, indices, self.kernel_size, self.stride, self.padding,
                            output_size)

    def extra_repr(self) -> str:
        """PyTorch's."""
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
