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
from autodiff import (
    checkpoint,  # noqa: F401  (ad.checkpoint.checkpoint, checkpoint_sequential)
    linalg,  # noqa: F401  (ad.linalg.inv, ...: np.linalg's functions)
)
from autodiff.anomaly import (
    anomaly_scope,
    detect_anomaly,
    is_anomaly_enabled,
    register_library,
)
from autodiff.backward import gradients
from autodiff.batch_map import vmap
from autodiff.buffers import release_buffers, set_buffer_limit
from autodiff.creation import (
    arange,
    empty_like,
    eye,
    full,
    full_like,
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
from autodiff.function import Function, observe_ops
from autodiff.functional import (
    grad,
    hessian,
    jacfwd,
    jacobian,
    jvp,
    linearize,
    value_and_grad,
    vjp,
)
from autodiff.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from autodiff.memory import keep_freed_memory
from autodiff.ops import activation as _activation
from autodiff.ops import arith as _arith
from autodiff.ops import elementwise as _elementwise
from autodiff.ops import indexing as _indexing
from autodiff.ops import linalg as _linalg
from autodiff.ops import reduce as _reduce
from autodiff.ops import shape as _shape
from autodiff.ops.activation import *  # noqa: F403  (each op module's __all__: its ops)
from autodiff.ops.arith import *  # noqa: F403
from autodiff.ops.axes import normalize_axis
from autodiff.ops.elementwise import *  # noqa: F403
from autodiff.ops.indexing import *  # noqa: F403
from autodiff.ops.linalg import *  # noqa: F403
from autodiff.ops.reduce import *  # noqa: F403
from autodiff.ops.registry import explain_pytorch_keywords
from autodiff.ops.shape import *  # noqa: F403
from autodiff.versions import increment_version

__version__ = "0.1.0"

__all__ = [
    "anomaly_scope", "arange", "detect_anomaly", "empty_like", "enable_grad", "eye", "full",
    "explain_pytorch_keywords",
    "full_like", "Function",
    "generator", "get_default_dtype", "get_rng_state", "grad", "gradients", "hessian",
    "increment_version", "is_anomaly_enabled", "is_grad_enabled", "jacfwd", "jacobian", "jvp",
    "keep_freed_memory", "linearize", "manual_seed", "no_grad", "normalize_axis", "observe_ops",
    "ones",
    "ones_like", "rand", "randn", "register_library", "release_buffers", "set_buffer_limit",
    "set_default_dtype", "set_grad_enabled",
    "set_rng_state", "Tensor", "tensor", "value_and_grad", "vjp", "vmap", "zeros", "zeros_like",
]
# and every op, from the op modules (autodiff/ops/registry.py keeps them in step)
__all__ += _activation.__all__
__all__ += _arith.__all__
__all__ += _elementwise.__all__
__all__ += _indexing.__all__
__all__ += _linalg.__all__
__all__ += _reduce.__all__
__all__ += _shape.__all__
