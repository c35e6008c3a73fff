"""gradcheck and gradgradcheck: gradients against central differences in float64, in reverse
mode (the whole Jacobian, one vector-Jacobian product per output element) and, with
`modes=("rev", "fwd")`, in forward mode too (Jacobian-vector products along random directions).

>>> import autodiff as ad
>>> from autodiff.testing import gradcheck, gradgradcheck
>>> x = ad.tensor([[0.3, -0.7], [1.1, 0.2]], dtype="float64")
>>> gradcheck(lambda x: x.tanh() * x, x) and gradgradcheck(lambda x: x.tanh() * x, x)
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import autodiff as ad
from autodiff.pytree import flatten
from autodiff.tensor import Tensor


class GradcheckError(AssertionError):
    """The analytic gradient disagrees with the numeric one; the message says where.

    >>> import autodiff as ad
    >>> from autodiff.testing import GradcheckError, gradcheck
    >>> class Bad(ad.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         return x * x
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         return grad
    >>> try:
    ...     gradcheck(Bad.apply, ad.tensor([3.0]))
    ... except GradcheckError as e:
    ...     print(type(e).__name__, isinstance(e, AssertionError))
    GradcheckError True
    """

    def __init__(self, message: str, at: tuple[int, int] | None = None) -> None:
        super().__init__(message)
        self.at = at  # (output element, input element) of the first disagreement, flat


def _inputs64(inputs: Sequence[Any]) -> tuple[list[Any], list[int]]:
    """float64 copies of the inputs, and the positions to differentiate.

    Differentiated: the floating inputs that require grad, or every floating input when none
    does. Other inputs (integer tensors, Python values) are passed through unchanged.
    """
    arrays = [x.data if isinstance(x, Tensor) else x for x in inputs]
    floating = [i for i, x in enumerate(arrays)
                if isinstance(x, np.ndarray) and x.dtype.kind == "f"]
    chosen = [i for i in floating if isinstance(inputs[i], Tensor) and inputs[i].requires_grad]
    wrt = chosen or floating
    out = list(inputs)
    for i in floating:
        out[i] = ad.tensor(np.array(arrays[i], dtype=np.float64), requires_grad=i in wrt)
    return out, wrt


def _outputs(result: Any) -> list[Tensor]:
    """The function's output Tensors: one, or the leaves of a tuple, list or dict of them."""
    outs = flatten(result)[0]
    for k, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: output {k} of the function is a "
                            f"{type(o).__name__}, not a Tensor")
    return outs


def _numeric(f: Callable[..., Any], args: list[Any], i: int, eps: float) -> list[np.ndarray]:
    """d outputs / d args[i] by central differences: one (out.size, in.size) matrix per output."""
    x = args[i].data
    flat = x.reshape(-1)
    cols: list[list[np.ndarray]] = []
    with ad.no_grad():
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            plus = [o.data.astype(np.float64).ravel().copy() for o in _outputs(f(*args))]
            flat[j] = orig - eps
            minus = [o.data.astype(np.float64).ravel() for o in _outputs(f(*args))]
            flat[j] = orig
            cols.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    # An empty input has no columns: each Jacobian is (out.size, 0), whatever out.size is.
    sizes = [o.size for o in _outputs(_eval(f, args))]
    return [np.stack([c[k] for c in cols], axis=1) if cols else np.zeros((n, 0))
            for k, n in enumerate(sizes)]


def _eval(f: Callable[..., Any], args: list[Any]) -> Any:
    with ad.no_grad():
        return f(*args)


def _analytic(outs: list[Tensor], args: list[Any], wrt: list[int]) -> list[list[np.ndarray]]:
    """jac[k][n]: d outs[k] / d args[wrt[n]] as (out.size, in.size), by one vjp per row."""
    jacs = []
    for o in outs:
        rows = [np.zeros((o.size, args[i].size)) for i in wrt]
        if o.requires_grad:
            flat_seed = np.zeros(o.size)
            for r in range(o.size):
                flat_seed[:] = 0
                flat_seed[r] = 1
                seed = ad.tensor(flat_seed.reshape(o.shape), dtype=o.dtype)
                gs = ad.gradients(o, [args[i] for i in wrt], grad_outputs=seed,
                                  retain_graph=True, allow_unused=True)
                for n, g in enumerate(gs):
                    rows[n][r] = g.data.astype(np.float64).ravel()
        jacs.append(rows)
    return jacs


def gradcheck(f: Callable[..., Any], *inputs: Any, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, modes: Sequence[str] = ("rev",), seed: int = 0,
              raise_exception: bool = True) -> bool:
    """Compare the gradients of `f` with central differences, in float64.

    `f` takes the inputs and returns a Tensor or a tuple, list or dict of Tensors (any
    shapes). Inputs are Tensors, arrays or other values; the floating inputs that require grad
    are differentiated (every floating input when none requires grad). `modes`: "rev"
    compares the whole Jacobian built by reverse mode; "fwd" compares forward-mode
    Jacobian-vector products (`ad.jvp`) along three random directions (`modes="fwd"`: that
    alone). Returns True, or raises `GradcheckError` naming the mode, the output, the input,
    the element and both values, and saying when the one-sided slopes there differ (a kink or
    a jump: no derivative to check) or when an output is not float64 (the function computes
    in a lower precision).
    `raise_exception=False` returns False instead; PyTorch's form with the inputs in one tuple,
    `gradcheck(f, (x, y))`, is read as `gradcheck(f, x, y)`.

    >>> import autodiff as ad
    >>> from autodiff.testing import gradcheck
    >>> gradcheck(lambda a, b: a @ b, ad.ones((2, 3)), ad.ones((3, 1)), modes=("rev", "fwd"))
    True
    """
    try:
        return _gradcheck(f, _unpacked(inputs), eps, atol, rtol, modes, seed)
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _unpacked(inputs: tuple[Any, ...]) -> tuple[Any, ...]:
    """PyTorch's `gradcheck(f, (x, y))`: the inputs in one tuple (holding a Tensor)."""
    if len(inputs) == 1 and type(inputs[0]) is tuple and any(
            isinstance(x, Tensor) for x in inputs[0]):
        return inputs[0]
    return inputs


def _gradcheck(f: Callable[..., Any], inputs: tuple[Any, ...], eps: float, atol: float,
               rtol: float, modes: Sequence[str], seed: int) -> bool:
    args, wrt = _inputs64(inputs)
    if not wrt:
        raise ValueError("gradcheck: no floating input to differentiate (Python numbers and "
                         "integer tensors are passed through as constants: give a floating "
                         "Tensor, ad.tensor(1.5))")
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    unknown = set(modes) - {"rev", "fwd"}
    if unknown or not modes:
        raise ValueError(f"gradcheck: modes must be among 'rev' and 'fwd', got {modes}")
    with ad.enable_grad():
        outs = _outputs(f(*args))
    if "rev" in modes:
        analytic = _analytic(outs, args, wrt)
        for n, i in enumerate(wrt):
            numeric = _numeric(f, args, i, eps)
            for k, (a_jac, n_jac) in enumerate(zip((a[n] for a in analytic), numeric)):
                try:
                    _compare(a_jac, n_jac, k, i, args[i].shape, outs[k].shape, atol, rtol,
                             "gradient")
                except GradcheckError as e:
                    # (in float32 every rounding step looks like a jump: that hint alone)
                    hint = _precision(outs) or _kink(f, args, i, k, e.at, eps, atol, rtol)
                    raise GradcheckError(f"{e}{hint}", e.at) from None
    if "fwd" in modes:
        try:
            _forward_check(f, args, wrt, eps, atol, rtol, np.random.default_rng(seed))
        except GradcheckError as e:
            raise GradcheckError(f"{e}{_precision(outs)}") from None
    return True


def _kink(f: Callable[..., Any], args: list[Any], i: int, k: int, at: Any, eps: float,
          atol: float, rtol: float) -> str:
    """A hint when the one-sided slopes at the failing element differ: a kink or a jump,
    where no derivative exists and the central difference is their average."""
    if at is None:
        return ""
    r, c = at
    flat = args[i].data.reshape(-1)
    orig = flat[c]
    values = []
    for x in (orig - eps, orig, orig + eps):
        flat[c] = x
        values.append(float(_outputs(_eval(f, args))[k].data.astype(np.float64).ravel()[r]))
    flat[c] = orig
    left, right = (values[1] - values[0]) / eps, (values[2] - values[1]) / eps
    if not np.isfinite([left, right]).all() or abs(left - right) <= atol + rtol * max(
            abs(left), abs(right)):
        return ""
    return (f". The one-sided slopes there differ (left {left:.6g}, right {right:.6g}): the "
            "function has a kink or a jump at this input, where it has no derivative; test "
            "it away from that point, and the value the gradient takes there by a closed form")


def _precision(outs: list[Tensor]) -> str:
    """A hint when an output is computed in less than float64 (the inputs were float64)."""
    low = [(k, o.dtype) for k, o in enumerate(outs) if o.dtype.kind == "f" and o.dtype.itemsize < 8]
    if not low:
        return ""
    k, dt = low[0]
    return (f". Output {k} has dtype {dt} although the inputs were copied to float64: the "
            "function computes in a lower precision somewhere (a cast, a float32 array or "
            "Tensor), where central differences mean nothing; keep the computation in the "
            "inputs' dtype (x.dtype)")


def _moved(primals: list[Tensor], vs: list[Tensor], step: float) -> list[Tensor]:
    return [ad.tensor(p.data + step * v.data, requires_grad=p.requires_grad)
            for p, v in zip(primals, vs)]


def _forward_check(f: Callable[..., Any], args: list[Any], wrt: list[int], eps: float,
                   atol: float, rtol: float, rng: np.random.Generator) -> None:
    """J v from `ad.jvp` against (f(x + eps v) - f(x - eps v)) / (2 eps), for random v."""

    def g(*xs: Any) -> Any:
        call = list(args)
        for i, x in zip(wrt, xs):
            call[i] = x
        return f(*call)

    primals = [args[i] for i in wrt]
    for _ in range(3):
        vs = [ad.tensor(rng.standard_normal(p.shape), dtype="float64") for p in primals]
        _, jv = ad.jvp(g, primals, vs)
        analytic = [t.data.astype(np.float64).ravel() for t in _outputs(jv)]
        with ad.no_grad():  # (inputs that require grad stay so: f may differentiate them)
            plus = _outputs(g(*_moved(primals, vs, eps)))
            minus = _outputs(g(*_moved(primals, vs, -eps)))
        for k, (a, hi, lo) in enumerate(zip(analytic, plus, minus)):
            n = (hi.data.astype(np.float64) - lo.data.astype(np.float64)).ravel() / (2 * eps)
            bad = ~np.isclose(a, n, atol=atol, rtol=rtol)  # a NaN never matches
            if bad.any():
                r = int(np.argwhere(bad)[0][0])
                idx = tuple(int(v) for v in np.unravel_index(r, hi.shape)) if hi.shape else ()
                raise GradcheckError(
                    f"forward-mode check failed along a random direction for output {k} at "
                    f"index {idx}: jvp {a[r]!r}, numeric {n[r]!r} (atol={atol}, rtol={rtol}; "
                    f"{int(bad.sum())} of {bad.size} entries differ){_nan(a[r], n[r])}")


def _compare(a: np.ndarray, n: np.ndarray, k: int, i: int, in_shape: tuple[int, ...],
             out_shape: tuple[int, ...], atol: float, rtol: float, what: str) -> None:
    if a.shape != n.shape:
        raise GradcheckError(f"{what} check: Jacobian shapes differ for output {k} and input "
                             f"{i}: analytic {a.shape}, numeric {n.shape}")
    bad = ~np.isclose(a, n, atol=atol, rtol=rtol)  # a NaN never matches (as PyTorch's)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        out_idx = np.unravel_index(r, out_shape) if out_shape else ()
        in_idx = np.unravel_index(c, in_shape) if in_shape else ()
        raise GradcheckError(
            f"{what} check failed for input {i} at index {tuple(int(v) for v in in_idx)} "
            f"(output {k} at index {tuple(int(v) for v in out_idx)}): analytic {a[r, c]!r}, "
            f"numeric {n[r, c]!r} (atol={atol}, rtol={rtol}; {int(bad.sum())} of {bad.size} "
            f"entries differ){_nan(a[r, c], n[r, c])}", (int(r), int(c)))


def _nan(a: float, n: float) -> str:
    if not (np.isnan(a) or np.isnan(n)):
        return ""
    return (". A NaN never matches: the function or its gradient is not defined there (an "
            "input outside its domain, or a NaN input)")


def gradgradcheck(f: Callable[..., Any], *inputs: Any, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, seed: int = 0, modes: Sequence[str] = ("rev",),
                  raise_exception: bool = True) -> bool:
    """Check second derivatives: gradcheck of the vector-Jacobian product of `f`.

    With a fixed random cotangent v per output, g(inputs, v) = v^T J_f(inputs) is computed with
    `create_graph=True` and checked by `gradcheck` with respect to the inputs and v (as
    PyTorch's gradgradcheck does), in the given `modes` ("fwd": forward over reverse);
    `raise_exception` and the inputs in one tuple as in `gradcheck`.

    >>> import autodiff as ad
    >>> from autodiff.testing import gradgradcheck
    >>> gradgradcheck(lambda x: x.exp() * x, ad.tensor([0.1, -0.4]))
    True
    """
    try:
        return _gradgradcheck(f, _unpacked(inputs), eps, atol, rtol, seed, modes)
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _gradgradcheck(f: Callable[..., Any], inputs: tuple[Any, ...], eps: float, atol: float,
                   rtol: float, seed: int, modes: Sequence[str]) -> bool:
    args, wrt = _inputs64(inputs)
    if not wrt:
        raise ValueError("gradgradcheck: no floating input to differentiate")
    with ad.enable_grad():
        outs = _outputs(f(*args))
    rng = np.random.default_rng(seed)
    cotangents = [ad.tensor(rng.standard_normal(o.shape), dtype="float64") for o in outs]
    n_args = len(args)

    def vjp(*xs: Any) -> tuple[Tensor, ...]:
        call = list(xs[:n_args])
        vs = xs[n_args:]
        with ad.enable_grad():
            res = _outputs(f(*call))
            pairs = [(o, v) for o, v in zip(res, vs) if o.requires_grad]
            if not pairs:
                return tuple(ad.zeros_like(call[i]) for i in wrt)
            return ad.gradients([o for o, _ in pairs], [call[i] for i in wrt],
                                grad_outputs=[v for _, v in pairs], create_graph=True,
                                allow_unused=True)

    for v in cotangents:
        v.requires_grad_()
    try:
        return _gradcheck(vjp, (*args, *cotangents), eps, atol, rtol, modes, seed)
    except GradcheckError as e:
        raise GradcheckError(f"second-order {e}") from None
