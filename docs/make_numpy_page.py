"""Write docs/numpy.md, the page of every NumPy and SciPy function the engine differentiates,
from the op registry (autodiff/ops/registry.py), so that it cannot go stale:

    python docs/make_numpy_page.py           # rewrites docs/numpy.md
    python docs/make_numpy_page.py --check   # exits 1, showing the difference, if it is stale

tests/test_numpy_page.py runs the check. The tables come from `registry.OPS` (one row per
registered op, one table per module of autodiff/ops), from autodiff/numpy_interop.py (the NumPy
names answered without a gradient) and from the source of autodiff/scipy, read and not
imported, so that the page is the same with SciPy or without it. The prose around the tables is
HEAD and TAIL below; a family, an operator or a NumPy adapter the script does not know stops it
with a message saying what to add here.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import inspect
import re
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from autodiff import numpy_interop  # noqa: E402
from autodiff.ops import registry  # noqa: E402
from autodiff.tensor import Tensor  # noqa: E402

PAGE = ROOT / "docs" / "numpy.md"

# The module of an op's function -> the title of its table and one sentence about it, in the
# order of the page.
FAMILIES = {
    "autodiff.ops.arith": (
        "Arithmetic and the operators",
        "NumPy's arithmetic ufuncs and the Python operators, broadcasting as NumPy "
        "(`autodiff/ops/arith.py`)."),
    "autodiff.ops.elementwise": (
        "Math functions",
        "NumPy's math ufuncs, of one array or of two that broadcast together; each forward is "
        "NumPy's own ufunc (`autodiff/ops/elementwise.py`)."),
    "autodiff.ops.reduce": (
        "Reductions and scans",
        "With NumPy's arguments (`axis`, `keepdims`, and `dtype`, `initial`, `where` where "
        "NumPy has them) (`autodiff/ops/reduce.py`)."),
    "autodiff.ops.shape": (
        "Shapes, joining and splitting",
        "Mostly composites of a few primitives, so they need no backward of their own "
        "(`autodiff/ops/shape.py`)."),
    "autodiff.ops.indexing": (
        "Indexing, gathers and sorting",
        "Repeated integer indices accumulate their gradients (`autodiff/ops/indexing.py`)."),
    "autodiff.ops.linalg": (
        "Products and diagonals",
        "In every dimension NumPy allows; `einsum` in every form `np.einsum` takes "
        "(`autodiff/ops/linalg.py`)."),
    "autodiff.ops.decompositions": (
        "`autodiff.linalg`: matrix functions",
        "`ad.linalg.f` and `np.linalg.f(t)`, on the last two axes and batched over the "
        "leading ones (`autodiff/ops/decompositions.py`)."),
    "autodiff.ops.linalg_composites": (
        "`autodiff.linalg`: least squares, spectra, chains, NumPy 2's names",
        "Composites of the matrix functions and products, with their gradients; NumPy 2's "
        "array-API functions of `np.linalg` act on the last axes "
        "(`autodiff/ops/linalg_composites.py`)."),
    "autodiff.ops.norms": (
        "`autodiff.linalg`: norms",
        "Vector and matrix norms, every `ord` NumPy has (`autodiff/ops/norms.py`)."),
    "autodiff.ops.activation": (
        "Activations",
        "NumPy has no such functions: they are reached as `ad.f` and as methods "
        "(`autodiff/ops/activation.py`)."),
    "autodiff.creation": (
        "Creation from a tensor",
        "New tensors shaped like a tensor; they carry no gradient (`autodiff/creation.py`)."),
}

# Tensor methods that are operators, as a user writes them.
OPERATORS = {
    "__abs__": "abs(t)", "__add__": "a + b", "__divmod__": "divmod(a, b)",
    "__floordiv__": "a // b", "__getitem__": "t[i]", "__matmul__": "a @ b",
    "__mod__": "a % b", "__mul__": "a * b", "__neg__": "-t", "__pos__": "+t",
    "__pow__": "a ** b", "__sub__": "a - b", "__truediv__": "a / b",
}

# NumPy names registered without an `ad.` function of their own (`register(public=False)`).
ADAPTERS = {
    "square": "`x * x` (`ad.mul`)",
    "reciprocal": "`1 / x` (`ad.div`)",
    "linspace": "raises `TypeError` on tensor bounds ([refused](#what-is-refused-and-why))",
    "logspace": "raises `TypeError` on tensor bounds ([refused](#what-is-refused-and-why))",
    "geomspace": "raises `TypeError` on tensor bounds ([refused](#what-is-refused-and-why))",
}

COUNTS = "<!-- counts -->"

HEAD = f"""\
# NumPy functions

People reach for an autograd engine to differentiate the NumPy code they already have. This
page lists every function the engine differentiates, the NumPy names that reach each one, its
Tensor methods, and its gradient where the math has none.

{COUNTS}

## How NumPy code reaches the engine

Each function below is one op, reached three ways:

- `ad.f(t)`: the function itself; `ad.linalg.f(t)` for those of `np.linalg`.
- `np.f(t)`: NumPy hands a call with a Tensor to the engine, a ufunc through
  `Tensor.__array_ufunc__` (`np.exp(t)`, `np.add(a, b)`), another function through
  `Tensor.__array_function__` (`np.sum(t, axis=0)`, `np.concatenate([a, b])`,
  `np.linalg.inv(t)`). The result is a Tensor on the graph.
- `t.f()`: the Tensor method, where ndarray has one (`t.sum()`, `t.reshape(2, 3)`), and the
  operators (`a + b`, `a @ b`, `t[i]`).

A NumPy function that is in none of these tables raises a `TypeError` naming it rather than
returning an array that has silently left the graph; so does a ufunc given keyword arguments
(`out=`, `where=`, `dtype=`) or called through a method (`np.add.reduce`). NumPy functions that
do not dispatch (`np.asarray`, `np.arange`) turn their argument into an array, which a tensor
that requires grad refuses (see [the engine](engine.md#what-the-engine-refuses-and-why)).

```python
import numpy as np
import autodiff as ad

x = ad.tensor([0.5, 1.0, 2.0], requires_grad=True)
y = np.sum(np.exp(x) * x.cumsum())  # a ufunc, a method, a NumPy function
y.backward()
e, c = np.exp(x.data), np.cumsum(x.data)
assert np.allclose(x.grad.data, e * c + np.cumsum(e[::-1])[::-1])

A = ad.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
assert np.linalg.det(A).item() == ad.linalg.det(A).item()
```

## What "differentiable" means here

An op whose gradient column says "yes" is a row of the op table,
`tests/autodiff/test_ops.py`, and a test fails naming a registered op without one
(`positive`, `real` and `conj` excepted: they return their input itself). On inputs hypothesis
draws, each row checks:

- the value against a NumPy reference (NumPy's own function where it has one), and `np.f(t)`
  against `ad.f(t)`, still on the graph;
- the gradient in reverse mode and in forward mode (`ad.jvp`, reverse mode twice: see
  [the engine](engine.md#forward-mode)) against central differences, and the second derivative
  (`gradgradcheck`; `astype` excepted);
- float32 in, float32 out, gradients included (`float_power` excepted: float64, as NumPy);
- no aliasing: no gradient shares memory with an input or with the incoming gradient, the
  inputs are left unchanged, and backward frees the graph.

"no gradient": the result carries none (an index, a count, a constant).

## How this page is made

`python docs/make_numpy_page.py` writes it from the op registry, `autodiff/ops/registry.py`:
one table per module that registers ops, one row per op, sorted by name, with the
NumPy names that dispatch to it (aliases such as `np.abs` for `np.absolute` included), its
Tensor methods and operators, and the convention its registration states for its gradient
where the math has none. `tests/test_numpy_page.py` fails when this page differs from what the
script writes now, so registering an op changes this page. The SciPy tables are read from the
source of `autodiff/scipy` (its `__all__`, and `SCIPY_UFUNCS` for the SciPy ufuncs that reach
it), so the page is the same with SciPy installed or not.
"""

TAIL = """\
## What is refused, and why

A gradient that is silently wrong, or silently missing, is worse than an error. So the engine
raises where NumPy would give a value the graph cannot follow, and the message says what to do
instead. Besides the engine's general refusals
([the engine](engine.md#what-the-engine-refuses-and-why)):

- **Complex numbers.** A complex constant or tensor raises `TypeError` (`x * 1j`,
  `ad.tensor(np.array([1j]))`): a complex value would lose its imaginary part. `real` and `conj`
  of a real tensor return the tensor itself; `imag` is constant zeros, with no gradient.
- **`Tensor.sort()`.** Raises `TypeError`: NumPy's `ndarray.sort` sorts in place and returns
  None, PyTorch's `Tensor.sort` returns values and indices, and either would surprise users of
  the other. `np.sort(t)` and `ad.sort(t)` return a sorted copy, differentiable.
- **Tensor bounds of a range.** `np.linspace`, `np.logspace` and `np.geomspace` with a tensor
  bound, and `ad.arange` with a tensor bound, raise `TypeError`: the count of points has no
  gradient, and the values would carry none of the bounds. Build them from the tensors instead
  (`start + (stop - start) * ad.arange(n) / (n - 1)`). `np.arange(t)` does not dispatch: NumPy
  makes a number of the tensor, which a tensor that requires grad refuses.
- **`out=`.** A ufunc given `out=` raises `TypeError`, and so does a NumPy function (`np.sum`,
  `np.cumsum`, `np.take`, ...): results are new tensors, never written into an array.
- **A ufunc's other keywords and methods.** `np.exp(t, where=m)`, `np.add(a, b, dtype=...)`,
  `np.add.reduce(t)`, `np.multiply.outer(a, b)`, `np.add.at(...)` raise `TypeError`: use the
  engine's function (`ad.sum(t, where=m)`, `ad.outer`).
- **An argument that would get no gradient.** A tensor that requires grad as `initial=` of a
  reduction, `q` of `quantile`/`percentile` (and `nanquantile`/`nanpercentile`),
  `constant_values` of `pad`, `fill_value` of
  `full_like`, or `n` of `autodiff.scipy.special.polygamma` raises `TypeError`; pass a number,
  an array or `t.detach()` (for `full_like`: `fill_value * ad.ones_like(a)` keeps the gradient).
- **Options whose result has no unique gradient.** `svd(full_matrices=True)` of a non-square
  matrix and `qr(mode="complete")` of a tall one (the extra vectors are not unique), and
  `hermitian=True` of `svd` and `pinv`, raise `ValueError`: use the reduced factorizations and
  `eigh`.
- **What is not implemented.** `pad`'s modes `linear_ramp`, `maximum`, `mean`, `median`,
  `minimum` and a callable; `quantile`'s (and `nanquantile`'s) three discontinuous methods
  (`inverted_cdf`, `averaged_inverted_cdf`, `closest_observation`; its other ten are) and its
  `weights=`;
  `sort(order=)` (tensors have no fields); a complex `dtype=` of a reduction. Each raises an
  error that says so.
- **`setitem` with a repeated index** raises `ValueError`: which value lands there is undefined.
- **Singular inputs of `np.linalg`.** `inv`, `solve`, `tensorinv` and `tensorsolve` of a
  singular matrix raise NumPy's `LinAlgError`, as NumPy (`cond` is inf there, below); so do
  the gradients of `slogdet` at a singular matrix (log |det| is -inf there) and of `qr` where R
  is singular. Through the vectors of `eigh` and `svd`, a repeated eigenvalue or singular value
  raises `ValueError` (below).

## Conventions at singular points

Where the math has no derivative the engine picks one value, PyTorch's where PyTorch has the
function, and the op's row above states it. The patterns:

- **Steps have gradient 0.** `sign`, `floor`, `ceil`, `trunc` (`np.fix`), `rint`, `round`
  (`np.around`, any `decimals`), `heaviside` and `floor_divide` (`//`) are recorded in the
  graph, and their gradient is 0 everywhere, at the jumps too, as PyTorch: a loss that uses them
  keeps the gradient of its other terms. `remainder` (`%`, `np.mod`) and `fmod` pass 1 to `a`
  and minus the quotient they took (`floor(a / b)`, `trunc(a / b)`) to `b`.
- **Kinks.** `abs` and `relu` have gradient 0 at 0. `maximum` and `minimum` give 1/2 to each
  input where the two are equal, and a NaN result's gradient to the NaN input (`a` when both
  are NaN; PyTorch gives it to both); `fmax` and `fmin` give it all to `a`. `clip` passes the
  gradient where `min <= x <= max`, the bounds included.
- **Edges of a domain.** The derivative's limit: `sqrt`, `cbrt`, `log` and `x ** 0.5` at 0,
  `arcsin` and `arctanh` at -1 and 1, `arccosh` at 1 give inf, `arccos` at -1 and 1 gives
  -inf. Outside the domain the value is nan; the gradient is nan for `sqrt`, `arcsin`, `arccos`
  and `arccosh`, and the derivative's formula, finite, for `log` (1 / x) and `arctanh`
  (1 / (1 - x^2)). `hypot` at the origin is nan (0 / 0); `arctan2` at the origin is 0 for both
  inputs; `logaddexp(a, b)` where both are the same infinity is nan; `sinc` at 0 is 0, with its
  second derivative -pi^2 / 3.
- **Powers at 0.** `x ** p` and `float_power`: d/dx is 0 where x = 0 and p = 0, d/dp is 0 where
  x = 0 and p >= 0, as PyTorch. `float_power` computes in float64, as NumPy: the one op whose
  result leaves float32; the gradient of a float32 input comes back in float32.
- **Real, imag, conj of a real tensor.** `real` and `conj` are the tensor itself; `imag` is
  constant zeros and carries no gradient.
- **Ties of reductions.** `max`/`min` (`np.amax`/`np.amin`), `nanmax`/`nanmin` and `ptp` share
  the gradient evenly among tied extremes, as PyTorch's `amax`; a NaN result shares it among
  the NaNs. `median` gives 1/2 to each of the two middle values of an even count, and shares it
  evenly among all elements tied with the result, over an axis too (PyTorch's median over an
  axis and its quantile give it to one of them). `quantile` and `percentile` give the weights of
  their interpolation (linear: the two neighbours), ties shared the same way. `nanmedian`,
  `nanquantile` and `nanpercentile` do the same on the numbers of each slice, at their count
  n (linear: at v = (n - 1) q, weight 1 - (v - floor v) on the floor(v)-th smallest number and
  v - floor v on the next; each slice has its own n): the NaNs get 0, and an all-NaN slice
  (NaN, with NumPy's warning) 0 everywhere (PyTorch gives it to one of its NaNs); PyTorch's
  `nanmedian` of an even count is the lower middle number, NumPy's (ours) the mean of the two.
  `nansum` and `nanmean` give 0 to NaN elements; `std` has gradient 0 where the variance is 0.
- **Zeros of products.** `prod` and `cumprod` never divide by the input: an element gets the
  product of the others, exact with one zero (the zero gets the product of the rest, the others
  0) or several (all 0).
- **Orders.** `sort` passes each element the gradient of the place it was sorted to; tied
  elements keep their order (a stable sort, whatever `kind`). `argmax`, `argmin` and `argsort`
  return integer tensors without gradient.
- **Matrices.** `det` has derivatives of every order everywhere: at a singular matrix, its
  cofactors. `cholesky` and `eigh` take the input as symmetric and give the symmetric
  gradient. `eigh` and `svd`: through the eigenvalues (singular values) alone the gradient is
  V diag(grad) V^T, grad shared evenly within a repeated value; through the eigenvectors
  (singular vectors), a repeated value among those the loss uses raises `ValueError` naming
  the values, where PyTorch returns inf or nan. `pinv` has the gradient of a matrix of
  constant rank; `qr` needs a full-rank matrix. `cond` is s_1 / s_n for p = None or 2 (the
  largest singular value over the smallest; its gradient (u_1 v_1^T - cond u_n v_n^T) / s_n),
  otherwise ||A|| ||A^-1|| in the norm p, whose gradient is the norms' and inv's. Each case is
  in the section below.
- **Norms.** Vector norms (`vector_norm`, `norm` of a vector) have gradient 0 at the origin for
  every `ord`; for p < 1 each zero element gets 0; `ord=0` (a count) has gradient 0; the
  inf-norms share it evenly among tied maxima. Of matrix norms, `'fro'` and `ord=1, -1, inf,
  -inf` have gradient 0 at the zero matrix; `ord=2`, `-2` and `'nuc'` go through the singular
  values, which are all tied at 0 there, and their gradient is a subgradient built from the
  singular vectors LAPACK returns, not 0 (I/2 for `ord=2` and I for `'nuc'`, on a 2 x 2 zero
  matrix).

## Linear algebra at degenerate points

What `autodiff.linalg` does where a matrix is singular, an eigenvalue or singular value
repeats, or there is nothing to reduce, and PyTorch 2.13's answer beside it (checked by
`tests/autodiff/test_linalg.py` and `tests/autodiff/test_linalg_degenerate.py`). "Singular"
is exact, LAPACK's 0 (but for `qr`, below): a matrix singular only up to rounding (a
computed det of 1e-17) takes the general formula, whose terms in 1/det are then as large and
as inexact as PyTorch's.
"Repeated" eigenvalues and singular values are equal within LAPACK's accuracy, k eps
max|value| (a zero singular value of a non-square matrix: up to `np.linalg.matrix_rank`'s
tolerance): closer than that the computed vectors are made by rounding, and their gradient
was of the order of 1e15.

- **`det`, singular matrix.** The gradient is the cofactors, adj(A)^T (from the SVD, without
  division); derivatives of higher order are exact too, from the determinants of the n^2
  minors (n^4 numbers per matrix, made only when a gradient is differentiated again; above
  2^27 numbers, a singular 107 x 107 matrix, a `MemoryError` says so): det is a polynomial,
  every derivative exists. PyTorch: gradient 0, which fails its own `gradcheck` (the
  cofactors of [[1, 2], [2, 4]] are [[4, -2], [-2, 1]]); second derivative NaN where singular
  values repeat (the zero matrix).
- **`slogdet`, singular matrix.** Sign 0 and log-abs-det -inf; the backward raises
  `LinAlgError`. PyTorch: gradient inf and -inf.
- **`inv`, `solve`, singular matrix; `cholesky`, not positive definite.** `LinAlgError` naming
  the function and the shape, as PyTorch.
- **`eigh`, repeated eigenvalue.** Through the eigenvalues: V diag(grad) V^T with grad shared
  evenly among the tied eigenvalues (as max among tied maxima), so that it does not depend on
  the basis LAPACK returned; PyTorch's does, unless the loss treats them alike. Through the
  eigenvectors of the other, distinct eigenvalues: exact (a repeated eigenvalue's
  eigenvectors enter through the projector on their space, which is unique). Through an
  eigenvector of the repeated eigenvalue: `ValueError` naming it, in forward mode (`jvp`,
  `jacfwd`) as in reverse mode. PyTorch: inf or NaN, for the other eigenvectors too.
- **`svd`, repeated singular value, or a zero one of a non-square matrix.** As `eigh`: the
  singular values' gradient shared evenly within a tie; `ValueError` where the loss uses those
  vectors. PyTorch: inf or NaN (1e13 for a singular value of 7e-16).
- **`eigh`, `svd`, second derivative at a repeated value.** `ValueError` (the backward uses
  the vectors). PyTorch: NaN.
- **`svd(compute_uv=False)` of a non-square matrix**, NumPy's default `full_matrices=True`: the
  singular values, as NumPy (`full_matrices` only shapes U and Vh).
- **`qr`, rank deficient** (R has a 0 on its diagonal, within max(M, N) eps max|R|): the
  backward raises `LinAlgError` naming the entry. PyTorch: NaN at an exact 0, and at a 0 made
  by rounding (1.6e-15) a gradient made by rounding too.
- **`pinv`, rank deficient.** The gradient of a matrix of constant rank (Golub and Pereyra),
  as PyTorch.
- **`vector_norm`, `norm`: `ord < 0` over no elements, or all of them infinite**: inf, as
  NumPy (the sum of the powers is 0; PyTorch raises for no elements). **`ord=inf` over no
  elements**: 0, as NumPy (PyTorch raises).
- **`cond`, singular matrix.** inf, as NumPy, with gradient 0: for p = None and 2 where the
  smallest singular value is 0 (-2: where the largest is, the zero matrix); for the other p
  where LAPACK meets a zero pivot (where NumPy's inv fails), `'nuc'` included (NumPy raises
  there: the SVD of the NaNs its failed inverse leaves). A matrix singular only up to rounding
  gives a large finite value and gradient, as NumPy's value and PyTorch's gradient. A NaN in a
  matrix gives NaN for the norms' p and `LinAlgError` for p = None, 2, -2, as NumPy. PyTorch:
  the backward of its `cond` raises for 'fro', 'nuc', inf, -inf, 1, -1 at any matrix (an
  in-place write to the output of `inv_ex`); checked by
  `tests/autodiff/test_linalg_composites.py`.
- **float16 input of a LAPACK function**: `TypeError` naming the function (cast to float32).

The SciPy functions' conventions are in [SciPy functions](scipy.md#conventions-and-refusals).
"""


def cell(text: str) -> str:
    """Text for a Markdown table cell: a `|` would end the cell."""
    return text.replace("|", "\\|")


def codes(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def numpy_names(f: Any) -> list[str]:
    """`np.f` (`np.linalg.f`) for a NumPy function or ufunc, then its aliases in NumPy's
    `__all__` (`np.absolute`, `np.abs`)."""
    module, prefix = ((np.linalg, "np.linalg.") if getattr(f, "__module__", "") == "numpy.linalg"
                      else (np, "np."))
    if getattr(module, f.__name__, None) is not f:
        raise LookupError(f"{f!r} is not {prefix}{f.__name__}: teach numpy_names where it lives")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a deprecated name of __all__
        aliases = sorted(n for n in module.__all__
                         if n != f.__name__ and getattr(module, n, None) is f)
    return [prefix + n for n in [f.__name__, *aliases]]


def methods(op: registry.Op) -> list[str]:
    """The Tensor methods and operators of an op, as a user writes them."""
    names = [*op.methods, *sorted(n for n, fn in registry.METHODS.items()
                                  if getattr(fn, "op", fn) is op.fn and n not in op.methods)]
    shown = []
    for name in names:
        if name.startswith("__"):
            if name not in OPERATORS:
                raise LookupError(f"operator {name}: add it to OPERATORS in {Path(__file__).name}")
            shown.append(OPERATORS[name])
        elif isinstance(inspect.getattr_static(Tensor, name), property):
            shown.append(f"t.{name}")
        else:
            shown.append(f"t.{name}()")
    return shown


def family_tables() -> list[str]:
    by_module: dict[str, list[str]] = {}
    for key, op in registry.OPS.items():
        if op.fn.__module__ not in FAMILIES:
            raise LookupError(f"{key} is in {op.fn.__module__}: give that module a title in "
                              f"FAMILIES of {Path(__file__).name}")
        by_module.setdefault(op.fn.__module__, []).append(key)
    sections = []
    for module, (title, about) in FAMILIES.items():
        if module not in by_module:
            continue
        rows = []
        for key in sorted(by_module[module]):
            op = registry.OPS[key]
            rows.append([f"`ad.{key}`", codes([n for f in op.numpy for n in numpy_names(f)]),
                         codes(methods(op)), "yes" if op.differentiable else "no gradient",
                         op.convention])
        sections.append(f"## {title}\n\n{about}\n\n" + table(
            ["autodiff", "NumPy", "Tensor", "gradient", "at singular points"], rows))
    return sections


def other_numpy_names() -> str:
    public = {f for op in registry.OPS.values() for f in op.numpy}
    adapters = []
    for f in [*registry.NUMPY_UFUNCS, *registry.NUMPY_FUNCTIONS]:
        if f in public:
            continue
        if f.__name__ not in ADAPTERS:
            raise LookupError(f"np.{f.__name__} is registered without an ad. function: say what "
                              f"it does in ADAPTERS of {Path(__file__).name}")
        adapters.append([codes(numpy_names(f)), ADAPTERS[f.__name__]])
    comparisons = sorted(n for f in numpy_interop.COMPARISONS for n in numpy_names(f))
    facts = sorted(n for f in numpy_interop.FACTS for n in numpy_names(f))
    return (
        "## Other NumPy names\n\n"
        "Registered without an `ad.` function of their own:\n\n"
        + table(["NumPy", "what it does"], sorted(adapters)) + "\n\n"
        "Comparisons and tests, which return boolean tensors that carry no gradient (the "
        "operators `<`, `<=`, `==`, ... too): " + codes(comparisons) + ".\n\n"
        "Questions about an array, answered on the tensor's values as NumPy answers them: "
        + codes(facts) + ".")


def scipy_source(name: str) -> ast.Module:
    return ast.parse((ROOT / "autodiff" / "scipy" / f"{name}.py").read_text())


def assigned(tree: ast.Module, name: str) -> ast.expr:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return node.value
    raise LookupError(f"autodiff/scipy: no {name} = ...")


def first_sentence(doc: str | None) -> str:
    paragraph = " ".join((doc or "").strip().split("\n\n")[0].split())
    match = re.match(r"(.*?\.)(\s|$)", paragraph)
    return match.group(1) if match else paragraph


def scipy_tables() -> tuple[str, int, int, int]:
    special = scipy_source("special")
    names = ast.literal_eval(assigned(special, "__all__"))
    ufuncs: dict[str, list[str]] = {}
    table_ = assigned(special, "SCIPY_UFUNCS")
    assert isinstance(table_, ast.Dict)
    for k, v in zip(table_.keys, table_.values):
        assert isinstance(k, ast.Attribute) and isinstance(v, ast.Name)
        ufuncs.setdefault(v.id, []).append(f"scipy.special.{k.attr}")
    docs = {n.name: ast.get_docstring(n) for n in special.body if isinstance(n, ast.FunctionDef)}
    rows = [[f"`special.{n}`", codes(ufuncs.get(n, [])), first_sentence(docs[n])]
            for n in sorted(names)]
    stats = scipy_source("stats")
    classes = {n.name: n for n in stats.body if isinstance(n, ast.ClassDef)}
    dists = []
    for n in sorted(ast.literal_eval(assigned(stats, "__all__"))):
        if n in classes:
            continue  # the class of a distribution (norm_gen), exported beside it
        value = assigned(stats, n)
        assert isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
        cls = classes[value.func.id]
        calls = [f.name for f in cls.body if isinstance(f, ast.FunctionDef)
                 and not f.name.startswith("_")]
        frozen = any(isinstance(f, ast.FunctionDef) and f.name == "__call__" for f in cls.body)
        dists.append([f"`stats.{n}`", codes([f"{n}.{m}" for m in calls]
                                            + ([f"{n}(...)"] if frozen else [])),
                      first_sentence(ast.get_docstring(cls))])
    text = (
        "## SciPy: `autodiff.scipy`\n\n"
        "An optional extra (`pip install 'autodiff-nn[scipy]'`); guide: "
        "[SciPy functions](scipy.md). SciPy's ufuncs applied to a tensor reach the functions "
        "of `autodiff.scipy.special` (`scipy.special.erf(t)` is `special.erf(t)`); "
        "`scipy.special.digamma` is the same ufunc as `scipy.special.psi`. SciPy's other "
        "functions turn their argument into an array, which a tensor that requires grad "
        "refuses: call `autodiff.scipy`'s.\n\n"
        + table(["autodiff.scipy", "SciPy ufunc", "what it computes"], rows) + "\n\n"
        + table(["autodiff.scipy", "methods", "what it is"], dists))
    return text, len(names), sum(len(v) for v in ufuncs.values()), len(dists)


def counts(n_special: int, n_scipy_ufuncs: int, n_dists: int) -> str:
    ops = registry.OPS.values()
    reached = sum(bool(op.numpy) for op in ops)
    names = {n for op in ops for f in op.numpy for n in numpy_names(f)}
    return (f"**{len(registry.OPS)} functions registered, {reached} reached through NumPy "
            f"names** ({len(names)} NumPy names in all, aliases such as `np.abs` counted); "
            f"{sum(op.differentiable for op in ops)} of the {len(registry.OPS)} carry a "
            f"gradient. SciPy: {n_special} functions in `autodiff.scipy.special`, "
            f"{n_scipy_ufuncs} of them reached through SciPy's ufuncs, and {n_dists} "
            "distributions in `autodiff.scipy.stats`.")


def page() -> str:
    """docs/numpy.md as the registry makes it now."""
    scipy, *scipy_counts = scipy_tables()
    head = HEAD.replace(COUNTS, counts(*scipy_counts))
    return "\n\n".join([head.rstrip("\n"), *family_tables(), other_numpy_names(), scipy,
                        TAIL.rstrip("\n")]) + "\n"


def stale(path: Path = PAGE) -> str:
    """The difference between the page at `path` and the page made now ("" when current)."""
    old = path.read_text() if path.exists() else ""
    return "".join(difflib.unified_diff(old.splitlines(keepends=True),
                                        page().splitlines(keepends=True),
                                        f"{path.name} (on disk)", f"{path.name} (generated)"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--check", action="store_true",
                        help="exit 1, showing the difference, if docs/numpy.md is stale")
    args = parser.parse_args(argv)
    if args.check:
        diff = stale()
        if diff:
            print(f"{PAGE.relative_to(ROOT)} is stale; run python docs/make_numpy_page.py\n"
                  + diff, file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(page())
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
