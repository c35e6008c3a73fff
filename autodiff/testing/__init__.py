"""Testing kit: gradient checks and hypothesis strategies for property-based gradient tests.

>>> import autodiff as ad
>>> from autodiff.testing import gradcheck
>>> gradcheck(lambda x: (x ** 3).sum(), ad.tensor([0.5, -1.5], dtype="float64"))
True

The strategies (`tensors`, `broadcastable_shapes`, ...) need hypothesis and are imported from
`autodiff.testing.strategies`, or from here when hypothesis is installed.
"""

from autodiff.testing.gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]

try:  # the strategies need hypothesis (the `dev` extra); the checks do not
    from autodiff.testing.strategies import (
        broadcastable_shapes,
        mutually_broadcastable_shapes,
        shapes,
        tensors,
        valid_axes,
    )
except ImportError:  # pragma: no cover - hypothesis missing
    pass
else:
    __all__ += ["broadcastable_shapes", "mutually_broadcastable_shapes", "shapes", "tensors",
                "valid_axes"]
