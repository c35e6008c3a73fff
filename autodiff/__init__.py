"""autodiff: a define-by-run autograd engine on NumPy.

A `Tensor` records every operation applied to it into a graph; `backward()` applies the chain
rule in reverse over that graph.

>>> import autodiff as ad
>>> W = ad.tensor([[1.0, 2.0]], requires_grad=True)
>>> x = ad.tensor([[3.0], [4.0]])
>>> loss = (W @ x).tanh().sum()
>>> loss.backward()
>>> W.grad.shape
(1, 2)
"""

# isort: off
# The Tensor class first: its module loads the ops, which build Tensors (the package's one
# import cycle, resolved at the bottom of tensor.py).
from autodiff.tensor import Tensor

# isort: on
from autodiff.anomaly import (
    anomaly_scope,
    detect_anomaly,
    is_anomaly_enabled,
    register_library,
)
from autodiff.backward import gradients
from autodiff.creation import (
    arange,
    eye,
    full,
    generator,
    get_rng_state,
    manual_seed,
    ones,
    ones_like,
    rand,
    randn,
    set_rng_state,
    tensor,
    zeros,
    zeros_like,
)
from autodiff.dtypes import get_default_dtype, set_default_dtype
from autodiff.function import Function
from autodiff.functional import grad, hessian, jacobian, value_and_grad, vjp
from autodiff.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from autodiff.memory import keep_freed_memory
from autodiff.ops.activation import log_softmax, relu, sigmoid, softmax
from autodiff.ops.arith import add, div, maximum, minimum, mul, neg, pow, sub
from autodiff.ops.axes import normalize_axis
from autodiff.ops.elementwise import abs, clip, cos, exp, log, sin, sqrt, tanh
from autodiff.ops.indexing import getitem, setitem, where
from autodiff.ops.linalg import matmul
from autodiff.ops.reduce import logsumexp, max, mean, min, std, sum, var
from autodiff.ops.shape import (
    astype,
    broadcast_to,
    concatenate,
    expand_dims,
    pad,
    reshape,
    split,
    squeeze,
    stack,
    swapaxes,
    transpose,
)
from autodiff.versions import increment_version

__version__ = "0.1.0"

__all__ = [
    "abs", "add", "anomaly_scope", "arange", "astype", "broadcast_to", "clip", "concatenate",
    "cos", "detect_anomaly", "div", "enable_grad", "exp", "expand_dims", "eye", "full", "Function",
    "generator", "get_default_dtype", "get_rng_state", "getitem", "grad", "gradients", "hessian",
    "increment_version", "is_anomaly_enabled", "is_grad_enabled", "jacobian", "keep_freed_memory",
    "log", "log_softmax", "logsumexp", "manual_seed", "matmul", "max", "maximum", "mean", "min",
    "minimum", "mul", "neg", "no_grad", "normalize_axis", "ones", "ones_like", "pad", "pow",
    "rand", "randn", "register_library", "relu", "reshape", "set_default_dtype",
    "set_grad_enabled", "set_rng_state", "setitem", "sigmoid", "sin", "softmax", "split", "sqrt",
    "squeeze", "stack", "std", "sub", "sum", "swapaxes", "tanh", "Tensor", "tensor", "transpose",
    "value_and_grad", "var", "vjp", "where", "zeros", "zeros_like",
]
