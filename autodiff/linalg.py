"""`autodiff.linalg`: NumPy's `np.linalg` on Tensors, differentiable to any order and batched
over leading axes as NumPy. `np.linalg.<name>(tensor)` reaches the same functions.

Matrix functions (`autodiff/ops/decompositions.py`): inv, solve, det, slogdet, cholesky, eigh,
svd, qr, pinv, matrix_power. Composites of these (`autodiff/ops/linalg_composites.py`):
lstsq, svdvals, eigvalsh, cond, tensorsolve, tensorinv, multi_dot, matrix_rank, and NumPy 2's
trace, diagonal, matrix_transpose, vecdot, outer, cross. Norms (`autodiff/ops/norms.py`): norm,
vector_norm, matrix_norm.

>>> import autodiff as ad
>>> A = ad.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
>>> ad.linalg.slogdet(A).logabsdet.backward()
>>> A.grad
tensor([[ 0.6, -0.2],
        [-0.2,  0.4]])
"""

from autodiff.ops import decompositions as _decompositions
from autodiff.ops import linalg_composites as _composites
from autodiff.ops import norms as _norms
from autodiff.ops.decompositions import *  # noqa: F403  (each op module's __all__: its ops)
from autodiff.ops.linalg_composites import *  # noqa: F403
from autodiff.ops.norms import *  # noqa: F403

__all__ = [*_decompositions.__all__, *_composites.__all__, *_norms.__all__]
