"""The differentiable operations, grouped by math domain.

Each primitive is a `Function` with a forward on arrays and a backward in Tensor operations;
composites (mean, var, softmax, ...) are built from primitives and need no backward of their own.
"""

# Every op module, loaded here so that each registers its ops (autodiff/ops/registry.py).
from autodiff.ops import (  # noqa: F401
    activation,
    arith,
    decompositions,
    elementwise,
    indexing,
    linalg,
    linalg_composites,
    norms,
    pytorch_methods,
    reduce,
    shape,
)
