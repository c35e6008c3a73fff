"""Activation modules.

>>> import autodiff as ad, nn
>>> nn.ReLU()(ad.tensor([-1.0, 1.0])).tolist()
[0.0, 1.0]
"""

from __future__ import annotations

from typing import Any

import autodiff as ad
from autodiff import Tensor
from nn.functional import activation as F
from nn.module import Module, Parameter


class ReLU(Module):
    """max(x, 0), elementwise; `inplace=True` writes into the input (`F.relu`).

    >>> import autodiff as ad, nn
    >>> nn.ReLU(inplace=True)
    ReLU(inplace=True)
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + _inplace_repr(self.inplace, ", ")


class ELU(Module):
    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.elu(x, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + _inplace_repr(self.inplace, ", ")


class GELU(Module):
    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Sigmoid(Module):
    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class Softmax(Module):
    """softmax along `axis` (PyTorch's `dim=` is accepted as its other name).

    >>> import autodiff as ad, nn
    >>> nn.Softmax(dim=0)
    Softmax(axis=0)
    """

    def __init__(self, axis: int = -1, *, dim: int | None = None) -> None:
        super().__init__()
        self.axis = F.axis_or_dim(type(self).__name__, axis, dim, -1)

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class LogSoftmax(Softmax):
    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(x, self.axis)


class SiLU(Module):
    """x * sigmoid(x), elementwise (`nn.functional.silu`).

    >>> import autodiff as ad, nn
    >>> nn.SiLU()(ad.tensor([0.0])).tolist()
    [0.0]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.silu(x, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class Mish(Module):
    """x * tanh(softplus(x)), elementwise (`nn.functional.mish`).

    >>> import autodiff as ad, nn
    >>> nn.Mish()(ad.tensor([0.0])).tolist()
    [0.0]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.mish(x, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class Hardswish(Module):
    """x * relu6(x + 3) / 6, elementwise (`nn.functional.hardswish`).

    >>> import autodiff as ad, nn
    >>> nn.Hardswish()(ad.tensor([-3.0, 3.0])).tolist()
    [-0.0, 3.0]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.hardswish(x, self.inplace)


class ReLU6(Module):
    """min(max(x, 0), 6), elementwise (`nn.functional.relu6`).

    >>> import autodiff as ad, nn
    >>> nn.ReLU6()(ad.tensor([-1.0, 9.0])).tolist()
    [0.0, 6.0]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.relu6(x, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class SELU(Module):
    """The self-normalizing ELU, elementwise (`nn.functional.selu`).

    >>> import autodiff as ad, nn
    >>> round(nn.SELU()(ad.tensor([1.0])).item(), 6)
    1.050701
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.selu(x, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class LogSigmoid(Module):
    """log(sigmoid(x)), stable, elementwise (`nn.functional.logsigmoid`).

    >>> import autodiff as ad, nn
    >>> round(nn.LogSigmoid()(ad.tensor([0.0])).item(), 6)
    -0.693147
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.logsigmoid(x)


class PReLU(Module):
    """x where x > 0, a * x elsewhere, with a learned slope a: one for all channels
    (`num_parameters=1`) or one per channel (axis 1), each starting at `init`, in `dtype`
    (the default float dtype when None, as PyTorch's).

    >>> import autodiff as ad, nn
    >>> act = nn.PReLU()
    >>> act, act.weight.tolist()
    (PReLU(num_parameters=1), [0.25])
    >>> act(ad.tensor([-4.0, 4.0])).tolist()
    [-1.0, 4.0]
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype: Any = None) -> None:
        super().__init__()
        if num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be at least 1, got {num_parameters}")
        self.num_parameters = num_parameters
        self.weight = Parameter(ad.full(num_parameters, init, dtype=dtype))

    def forward(self, x: Tensor) -> Tensor:
        return F.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Hardtanh(Module):
    """min(max(x, min_val), max_val), elementwise (`nn.functional.hardtanh`); max_val must be
    greater than min_val, as PyTorch's layer checks.

    >>> import autodiff as ad, nn
    >>> nn.Hardtanh(-2.0, 2.0)(ad.tensor([-3.0, 1.0, 3.0])).tolist()
    [-2.0, 1.0, 2.0]
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
                 ) -> None:
        super().__init__()
        if not max_val > min_val:
            raise ValueError(f"Hardtanh: max_val must be greater than min_val, got min_val="
                             f"{min_val} and max_val={max_val}")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.hardtanh(x, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return (f"min_val={self.min_val}, max_val={self.max_val}"
                + _inplace_repr(self.inplace, ", "))


class CELU(Module):
    """x for x > 0, alpha * (exp(x / alpha) - 1) otherwise (`nn.functional.celu`).

    >>> import autodiff as ad, nn
    >>> nn.CELU()(ad.tensor([0.0, 1.0])).tolist()
    [0.0, 1.0]
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.celu(x, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + _inplace_repr(self.inplace, ", ")


class GLU(Module):
    """a * sigmoid(b) for the two halves of x along `axis` (`nn.functional.glu`); PyTorch's
    `dim=` is accepted as another name for `axis`.

    >>> import autodiff as ad, nn
    >>> nn.GLU(dim=0)
    GLU(axis=0)
    >>> nn.GLU()(ad.tensor([2.0, 0.0])).tolist()
    [1.0]
    """

    def __init__(self, axis: int = -1, *, dim: int | None = None) -> None:
        super().__init__()
        self.axis = F.axis_or_dim(type(self).__name__, axis, dim, -1)

    def forward(self, x: Tensor) -> Tensor:
        return F.glu(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


def _inplace_repr(inplace: bool, sep: str = "") -> str:
    """PyTorch's repr of the flag: shown only when True."""
    return f"{sep}inplace=True" if inplace else ""
