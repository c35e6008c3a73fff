"""Random compositions of registered ops (issue 14): programs of three to six steps, checked in
value against the same program on plain NumPy arrays, and in gradient against central
differences: reverse and forward mode (gradcheck), second order (gradgradcheck), nested
transforms (grad of grad, jvp of grad, grad through a closure), and float32 kept.

A program is Python source, one line a step, so that a failing example prints as code to paste
(`Program.__repr__`). Each step calls its op one of the ways a user reaches it, drawn at
random: through NumPy's protocols (`np.exp(v)`, `np.linalg.inv(a)`), as `ad.exp(v)`, as an
operator or a Tensor method (`v @ w`, `v.sum(axis=0)`). The reference run executes the same
lines with `np` in place of `ad` (a NumPy formula for the few ops NumPy lacks, such as
`ad.logsumexp`) on the float64 arrays.

The pool is a curated list, not the registry read blindly: a composition can only be checked
against finite differences where every step is smooth at the drawn point, and the registry
does not say where an op is smooth or what its domain is. So each op comes with the guard that
keeps its argument in its domain (`log(v * v + 1)`, `arcsin(0.9 * tanh(v))`, a matrix
`diag(2, 5, 8) + 0.3 tanh(v)` for `inv`, whose eigenvalues Gershgorin keeps at least 1.1 from 0
and apart), and the builder squashes an operand with `tanh` where its values are too large for
the op (`exp` of values beyond 3, `prod` of values beyond 1.5), so that no value overflows and
finite differences stay accurate. Shapes are tracked by running each step on the drawn values
as it is added; every value has at most 3 axes of at most 3 elements. The pool holds the
registered differentiable ops that are smooth on such a domain, with Tensor methods where the
registry gives them; `EXCLUDED` names the others and why (kinks where hypothesis draws,
sign conventions, dtypes). A test checks both lists against the registry; an op added later
joins neither until someone puts it in one.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autodiff as ad
from autodiff.ops import registry
from autodiff.testing import gradcheck, gradgradcheck
from autodiff.testing.strategies import valid_axes

MAX_SIDE, MAX_DIMS = 3, 3
LIMIT = 10.0  # an operand beyond this is squashed (tanh) before any op


# -- programs ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """`out = code`: `code` runs on Tensors, `ref` (the same with np for ad) on arrays."""

    out: str
    op: str  # the registered op it is drawn for ("exp", "linalg.inv")
    code: str
    ref: str
    shape: tuple[int, ...]


@dataclass
class Program:
    """A straight-line program over named inputs and constants; calling it on Tensors runs the
    engine, `reference()` runs NumPy on the drawn float64 inputs."""

    inputs: dict[str, np.ndarray] = field(default_factory=dict)
    consts: dict[str, np.ndarray] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)

    def __call__(self, *xs: Any) -> Any:
        return self._run(xs, "code", {"np": np, "ad": ad})

    def reference(self) -> np.ndarray:
        return self._run(tuple(self.inputs.values()), "ref", {"np": np})

    def _run(self, xs: tuple[Any, ...], which: str, modules: dict[str, Any]) -> Any:
        env = {**modules, **self.consts, **dict(zip(self.inputs, xs, strict=True))}
        for s in self.steps:
            env[s.out] = eval(_compiled(getattr(s, which), s.out), env)
        return env[self.steps[-1].out]

    def tensors(self, dtype: Any = np.float64) -> list[ad.Tensor]:
        return [ad.tensor(x.astype(dtype), requires_grad=True) for x in self.inputs.values()]

    def __repr__(self) -> str:
        width = max(len(s.out) + len(s.code) for s in self.steps) + 3
        lines = ["Program("]
        for name, x in {**self.inputs, **self.consts}.items():
            lines.append(f"    {name} = np.{np.array_repr(x, precision=17)}".replace("\n", " "))
        lines.append(f"    def program({', '.join(self.inputs)}):")
        for s in self.steps:
            lines.append(f"        {s.out} = {s.code}".ljust(width + 8) + f"  # {s.op}, {s.shape}")
        lines += [f"        return {self.steps[-1].out}", ")"]
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """hypothesis prints a dataclass field by field unless it has this (IPython's hook)."""
        printer.text(repr(self))


@functools.cache
def _compiled(code: str, out: str) -> Any:
    return compile(code, f"<step {out}>", "eval")


# -- the builder -------------------------------------------------------------------------------

Form = str | tuple[str, str]  # a code template, or (code template, NumPy reference template)


class Builder:
    """Draws a program step by step, running each step on the drawn values as it is added
    (so each later step sees the real shapes, and squashes only operands that are large)."""

    def __init__(self, draw: st.DrawFn, max_side: int) -> None:
        self.draw = draw
        self.max_side = max_side
        self.program = Program()
        self.values: dict[str, np.ndarray] = {}

    def fresh(self, shape: tuple[int, ...]) -> str:
        """A new input of `shape`, values in [-2, 2]."""
        name = f"x{len(self.program.inputs)}"
        x = self.draw(hnp.arrays(np.float64, shape, elements=st.floats(
            -2, 2, allow_nan=False, allow_subnormal=False)))
        self.program.inputs[name] = self.values[name] = x
        return name

    def fresh_shape(self) -> tuple[int, ...]:
        return self.draw(hnp.array_shapes(min_dims=0, max_dims=MAX_DIMS, max_side=self.max_side))

    def const(self, x: np.ndarray) -> str:
        name = f"c{len(self.program.consts)}"
        self.program.consts[name] = x
        return name

    def shape(self, name: str) -> tuple[int, ...]:
        return self.values[name].shape

    def pick(self, fits: Callable[[tuple[int, ...]], bool]) -> str | None:
        """An existing value whose shape fits, the latest first (hypothesis shrinks to it)."""
        names = [n for n in reversed(self.values) if fits(self.shape(n))]
        return self.draw(st.sampled_from(names)) if names else None

    def other(self, shape: tuple[int, ...]) -> str:
        """A second operand of exactly `shape`: an existing value or a fresh input."""
        found = self.pick(lambda s: s == shape) if self.draw(st.booleans()) else None
        return found or self.fresh(shape)

    def add(self, op: str, forms: list[Form], limits: dict[str, float] | None = None,
            **operands: str) -> None:
        """A step calling `op` through one of `forms` on `operands` ({x}, {y}, ...); {L} is np
        or ad, drawn; an operand beyond its limit (LIMIT unless `limits` says) is squashed."""
        form = self.draw(st.sampled_from(forms))
        code, ref = form if isinstance(form, tuple) else (form, form)
        lib = self.draw(st.sampled_from(["np", "ad"])) if "{L}" in code else "np"
        limits = limits or {}
        args = {k: self._squashed(v, limits.get(k, LIMIT), lib) for k, v in operands.items()}
        refs = {k: self._squashed(v, limits.get(k, LIMIT), "np") for k, v in operands.items()}
        out = f"v{len(self.program.steps) + 1}"
        code, ref = code.format(L=lib, **args), ref.format(L="np", **refs)
        value = np.asarray(eval(_compiled(ref, out), {"np": np, **self.program.consts,
                                                       **self.values}))
        assert value.dtype == np.float64 and np.isfinite(value).all(), (code, value)
        assert value.ndim <= MAX_DIMS and max(value.shape, default=1) <= MAX_SIDE, code
        self.program.steps.append(Step(out, op, code, ref, value.shape))
        self.values[out] = value

    def _squashed(self, name: str, limit: float, lib: str) -> str:
        big = self.values[name].size and np.abs(self.values[name]).max() > limit
        return f"{lib}.tanh({name})" if big else name


# -- the pool ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PoolOp:
    """A registered op the programs draw: which operand shapes it takes, and how it adds its
    step (guards, extra operands and arguments drawn) on an operand."""

    name: str  # its key in registry.OPS
    fits: Callable[[tuple[int, ...]], bool]
    build: Callable[[Builder, str], None]


def _any(s: tuple[int, ...]) -> bool:
    return True


def _at_least(nd: int) -> Callable[[tuple[int, ...]], bool]:
    return lambda s: len(s) >= nd


def _square(s: tuple[int, ...]) -> bool:
    return len(s) >= 2 and s[-1] == s[-2]


def _calls(op: str, args: str) -> list[Form]:
    """`{L}.op(args)` and, where the Tensor has the method, `{x}.op(rest)` (NumPy's function
    as its reference where ndarray lacks the method). `args` starts with the operand {x}."""
    forms: list[Form] = [f"{{L}}.{op}({args})"]
    if op in registry.OPS[op].methods and args.startswith("{x}"):
        rest = args[3:].removeprefix(", ")
        method = f"{{x}}.{op}({rest})"
        forms.append(method if hasattr(np.ndarray, op) else (method, f"np.{op}({args})"))
    return forms


# Unary ufuncs: the argument that keeps the operand in the op's domain, and the largest operand
# the op takes unsquashed (exp and its kin overflow the later steps beyond 3).
UNARY = {
    "exp": ("{x}", 3), "expm1": ("{x}", 3), "exp2": ("{x}", 3), "sinh": ("{x}", 3),
    "cosh": ("{x}", 3), "tanh": ("{x}", LIMIT), "sin": ("{x}", LIMIT), "cos": ("{x}", LIMIT),
    "arctan": ("{x}", LIMIT), "arcsinh": ("{x}", LIMIT), "sinc": ("{x}", LIMIT),
    "deg2rad": ("{x}", LIMIT), "rad2deg": ("{x}", 0.2),
    "log": ("{x} * {x} + 1", LIMIT), "log1p": ("{x} * {x}", LIMIT),
    "log2": ("{x} * {x} + 0.5", LIMIT), "log10": ("{x} * {x} + 0.5", LIMIT),
    "sqrt": ("{x} * {x} + 0.5", LIMIT), "cbrt": ("{x} * {x} + 0.5", LIMIT),
    "arcsin": ("0.9 * {L}.tanh({x})", LIMIT), "arccos": ("0.9 * {L}.tanh({x})", LIMIT),
    "arctanh": ("0.9 * {L}.tanh({x})", LIMIT), "arccosh": ("{x} * {x} + 1.5", LIMIT),
    "tan": ("{L}.tanh({x})", LIMIT),
}


def _unary(op: str, arg: str, limit: float) -> PoolOp:
    forms: list[Form] = [f"{{L}}.{op}({arg})"]
    if op in registry.OPS[op].methods:
        method = f"{{x}}.{op}()" if arg == "{x}" else f"({arg}).{op}()"
        forms.append((method, f"np.{op}({arg})"))
    return PoolOp(op, _any, lambda b, x: b.add(op, forms, {"x": limit}, x=x))


def _neg(b: Builder, x: str) -> None:
    b.add("neg", ["-{x}", "np.negative({x})", ("ad.neg({x})", "np.negative({x})")], x=x)


def _pow(b: Builder, x: str) -> None:
    base = "np.power({x} * {x} + 0.5, 1.5)"
    b.add("pow", ["{x} ** 2", "{x} ** 3", base, (base.replace("np.power", "ad.pow"), base)],
          {"x": 3}, x=x)


def _reciprocal(b: Builder, x: str) -> None:
    b.add("div", ["1 / ({x} * {x} + 1)"], x=x)


def _sigmoid(b: Builder, x: str) -> None:
    ref = "1 / (1 + np.exp(-{x}))"
    b.add("sigmoid", [("ad.sigmoid({x})", ref), ("{x}.sigmoid()", ref)], x=x)


# Binary ufuncs and operators on an operand and a second value (an earlier one or a fresh
# input) that broadcasts with it; the second is kept in the op's domain.
def _np_and_ad(np_name: str, ad_name: str, args: str) -> list[Form]:
    call = f"np.{np_name}({args})"
    return [call, (f"ad.{ad_name}({args})", call)]


BINARY: dict[str, tuple[list[Form], float]] = {
    "add": (["{x} + {y}", "{L}.add({x}, {y})"], LIMIT),
    "sub": (["{x} - {y}", *_np_and_ad("subtract", "sub", "{x}, {y}")], LIMIT),
    "mul": (["{x} * {y}", *_np_and_ad("multiply", "mul", "{x}, {y}")], LIMIT),
    "div": (["{x} / ({y} * {y} + 1)", *_np_and_ad("divide", "div", "{x}, {y} * {y} + 1")],
            LIMIT),
    "pow": (["({x} * {x} + 0.5) ** {L}.tanh({y})",
             *_np_and_ad("power", "pow", "{x} * {x} + 0.5, np.tanh({y})")], 3),
    "arctan2": (["{L}.arctan2({x}, {y} * {y} + 0.5)"], LIMIT),
    "hypot": (["{L}.hypot({x}, {y} * {y} + 0.5)"], LIMIT),
    "logaddexp": (["{L}.logaddexp({x}, {y})"], LIMIT),
    "logaddexp2": (["{L}.logaddexp2({x}, {y})"], LIMIT),
}


def _broadcasting_partner(b: Builder, x: str) -> str:
    """An earlier value that broadcasts with x (x itself included), or a fresh input of a
    shape that does: each of x's axes kept or 1, maybe leading axes more."""
    s = b.shape(x)

    def fits(t: tuple[int, ...]) -> bool:
        try:
            return len(np.broadcast_shapes(s, t)) <= MAX_DIMS
        except ValueError:
            return False

    found = b.pick(fits) if b.draw(st.booleans()) else None
    if found:
        return found
    kept = [n if b.draw(st.booleans()) else 1 for n in s][b.draw(st.integers(0, len(s))):]
    lead = b.draw(st.lists(st.integers(1, b.max_side), max_size=MAX_DIMS - len(s))) \
        if len(kept) == len(s) else []
    return b.fresh((*lead, *kept))


def _binary(op: str, forms: list[Form], limit: float) -> PoolOp:
    def build(b: Builder, x: str) -> None:
        y = _broadcasting_partner(b, x)
        if b.draw(st.booleans()):
            x, y = y, x
        b.add(op, forms, {"x": limit}, x=x, y=y)
    return PoolOp(op, _any, build)


def _where(b: Builder, x: str) -> None:
    y = _broadcasting_partner(b, x)
    shape = np.broadcast_shapes(b.shape(x), b.shape(y))
    c = b.const(b.draw(hnp.arrays(np.bool_, shape)))
    b.add("where", [f"{{L}}.where({c}, {{x}}, {{y}})"], x=x, y=y)


# -- reductions --

def _axis_keepdims(b: Builder, x: str) -> str:
    axis = b.draw(valid_axes(len(b.shape(x))))
    return f"axis={axis!r}, keepdims={b.draw(st.booleans())}"


def _reduction(op: str, limit: float) -> PoolOp:
    def build(b: Builder, x: str) -> None:
        b.add(op, _calls(op, f"{{x}}, {_axis_keepdims(b, x)}"), {"x": limit}, x=x)
    return PoolOp(op, _any, build)


def _logsumexp(b: Builder, x: str) -> None:
    kw = _axis_keepdims(b, x)
    ref = f"np.log(np.sum(np.exp({{x}}), {kw}))"
    b.add("logsumexp", [(f"ad.logsumexp({{x}}, {kw})", ref), (f"{{x}}.logsumexp({kw})", ref)],
          x=x)


def _average(b: Builder, x: str) -> None:
    w = b.other(b.shape(x))
    b.add("average", [f"{{L}}.average({{x}}, weights={{w}} * {{w}} + 0.5, "
                      f"{_axis_keepdims(b, x)})"], x=x, w=w)


def _vector_norm(b: Builder, x: str) -> None:
    order = b.draw(st.sampled_from([2, 1, 3]))
    b.add("linalg.vector_norm", [f"{{L}}.linalg.vector_norm({{x}} * {{x}} + 1, "
                                 f"{_axis_keepdims(b, x)}, ord={order})"], x=x)


def _scan(op: str, limit: float) -> PoolOp:
    def build(b: Builder, x: str) -> None:
        s = b.shape(x)
        axes = [None] if int(np.prod(s)) <= MAX_SIDE else []  # None: scans the flat array
        axis = b.draw(st.sampled_from(axes + list(range(-len(s), len(s)))))
        b.add(op, _calls(op, f"{{x}}, axis={axis}"), {"x": limit}, x=x)
    return PoolOp(op, _any, build)


def _softmax(op: str) -> PoolOp:
    def build(b: Builder, x: str) -> None:
        axis = b.draw(st.integers(-len(b.shape(x)), len(b.shape(x)) - 1))
        lse = f"np.log(np.sum(np.exp({{x}}), axis={axis}, keepdims=True))"
        ref = f"{{x}} - {lse}" if op == "log_softmax" else f"np.exp({{x}} - {lse})"
        b.add(op, [(f"ad.{op}({{x}}, axis={axis})", ref), (f"{{x}}.{op}(axis={axis})", ref)],
              x=x)
    return PoolOp(op, _at_least(1), build)


# -- shapes and joining --

def _axis(b: Builder, nd: int) -> int:
    return b.draw(st.integers(-nd, nd - 1))


def _transpose(b: Builder, x: str) -> None:
    axes = tuple(b.draw(st.permutations(range(len(b.shape(x))))))
    b.add("transpose", [*_calls("transpose", f"{{x}}, {axes}"), "{x}.T"], x=x)


def _reshape(b: Builder, x: str) -> None:
    size = b.values[x].size
    shapes = [t for k in range(MAX_DIMS + 1)
              for t in itertools.product(range(1, MAX_SIDE + 1), repeat=k)
              if int(np.prod(t)) == size]
    t: Any = b.draw(st.sampled_from(shapes))
    if t and b.draw(st.booleans()):  # one side left to NumPy
        t = tuple(-1 if i == 0 else n for i, n in enumerate(t))
    b.add("reshape", _calls("reshape", f"{{x}}, {t}"), x=x)


def _flip(b: Builder, x: str) -> None:
    b.add("flip", [f"{{L}}.flip({{x}}, axis={b.draw(valid_axes(len(b.shape(x))))})"], x=x)


def _tile(b: Builder, x: str) -> None:
    s = b.shape(x)
    reps = tuple(b.draw(st.integers(1, MAX_SIDE // n)) for n in s) if s else \
        b.draw(st.integers(1, MAX_SIDE))
    b.add("tile", [f"{{L}}.tile({{x}}, {reps})"], x=x)


def _concatenate(b: Builder, x: str) -> None:
    s = b.shape(x)
    k = b.draw(st.sampled_from([i for i, n in enumerate(s) if n < MAX_SIDE]))
    other = list(s)
    other[k] = b.draw(st.integers(1, MAX_SIDE - s[k]))
    y = b.other(tuple(other))
    pair = "[{x}, {y}]" if b.draw(st.booleans()) else "[{y}, {x}]"
    axis = k - b.draw(st.sampled_from([0, len(s)]))  # counted from the end too
    b.add("concatenate", [f"{{L}}.concatenate({pair}, axis={axis})"], x=x, y=y)


def _stack(b: Builder, x: str) -> None:
    nd = len(b.shape(x))
    y = b.other(b.shape(x))
    b.add("stack", [f"{{L}}.stack([{{x}}, {{y}}], axis={_axis(b, nd + 1)})"], x=x, y=y)


def _swapaxes(b: Builder, x: str) -> None:
    nd = len(b.shape(x))
    b.add("swapaxes", _calls("swapaxes", f"{{x}}, {_axis(b, nd)}, {_axis(b, nd)}"), x=x)


def _moveaxis(b: Builder, x: str) -> None:
    nd = len(b.shape(x))
    b.add("moveaxis", [f"{{L}}.moveaxis({{x}}, {_axis(b, nd)}, {_axis(b, nd)})"], x=x)


def _expand_dims(b: Builder, x: str) -> None:
    b.add("expand_dims", [f"{{L}}.expand_dims({{x}}, {_axis(b, len(b.shape(x)) + 1)})"], x=x)


def _squeeze(b: Builder, x: str) -> None:
    b.add("squeeze", _calls("squeeze", "{x}"), x=x)


def _roll(b: Builder, x: str) -> None:
    axis = b.draw(st.one_of(st.none(), st.integers(-len(b.shape(x)), len(b.shape(x)) - 1)))
    b.add("roll", [f"{{L}}.roll({{x}}, {b.draw(st.integers(-2, 2))}, axis={axis})"], x=x)


def _repeat(b: Builder, x: str) -> None:
    s = b.shape(x)
    k = b.draw(st.integers(0, len(s) - 1))
    count = b.draw(st.integers(1, MAX_SIDE // s[k]))
    b.add("repeat", _calls("repeat", f"{{x}}, {count}, axis={k}"), x=x)


def _getitem(b: Builder, x: str) -> None:
    s = b.shape(x)
    forms = ["{x}[::-1]", "{x}[0]", "{x}[-1:]", "{x}[[0, -1, 0]]"]  # repeated: adds up
    forms += ["{x}[..., 1:]"] if s[-1] >= 2 else []
    forms += ["{x}[:, None]", "{x}[None]"] if len(s) < MAX_DIMS else []
    b.add("getitem", forms, x=x)


def _broadcast_to(b: Builder, x: str) -> None:
    s = b.shape(x)
    lead = b.draw(st.lists(st.integers(1, MAX_SIDE), max_size=MAX_DIMS - len(s)))
    shape = (*lead, *(b.draw(st.integers(1, MAX_SIDE)) if n == 1 else n for n in s))
    b.add("broadcast_to", [f"{{L}}.broadcast_to({{x}}, {shape})"], x=x)


def _diff(b: Builder, x: str) -> None:
    s = b.shape(x)
    k = b.draw(st.sampled_from([i for i, n in enumerate(s) if n >= 2]))
    b.add("diff", [f"{{L}}.diff({{x}}, axis={k})"], x=x)


def _pad(b: Builder, x: str) -> None:
    s = b.shape(x)
    k = b.draw(st.sampled_from([i for i, n in enumerate(s) if n < MAX_SIDE]))
    before = b.draw(st.integers(0, MAX_SIDE - s[k]))
    width = [(0, 0)] * len(s)
    width[k] = (before, b.draw(st.integers(0, MAX_SIDE - s[k] - before)))
    modes = ["constant", "edge", "wrap", "symmetric"] + (["reflect"] if s[k] > 1 else [])
    b.add("pad", [f"{{L}}.pad({{x}}, {tuple(width)}, mode={b.draw(st.sampled_from(modes))!r})"],
          x=x)


def _triangle(op: str) -> PoolOp:
    def build(b: Builder, x: str) -> None:
        b.add(op, [f"{{L}}.{op}({{x}}, k={b.draw(st.integers(-1, 1))})"], x=x)
    return PoolOp(op, _at_least(2), build)


def _diagonal(b: Builder, x: str) -> None:
    b.add("diagonal", [*_calls("diagonal", "{x}"), "{L}.diagonal({x}, axis1=-2, axis2=-1)"], x=x)


def _trace(b: Builder, x: str) -> None:
    b.add("trace", _calls("trace", "{x}"), x=x)


def _ravel(b: Builder, x: str) -> None:
    b.add("ravel", _calls("ravel", "{x}"), x=x)


# -- linear algebra --

def _matmul(b: Builder, x: str) -> None:
    s = b.shape(x)
    n = b.draw(st.integers(1, MAX_SIDE))
    if b.draw(st.booleans()):  # x @ y
        y = b.other(b.draw(st.sampled_from([(s[-1], n), (s[-1],)])))
    else:  # y @ x
        k = s[-2] if len(s) >= 2 else s[0]
        x, y = b.other(b.draw(st.sampled_from([(n, k), (k,)]))), x
    b.add("matmul", ["{x} @ {y}", "{L}.matmul({x}, {y})"], x=x, y=y)


def _dot(b: Builder, x: str) -> None:
    s = b.shape(x)
    y = b.other(b.draw(st.sampled_from([(s[-1],), (s[-1], b.draw(st.integers(1, MAX_SIDE)))])))
    b.add("dot", _calls("dot", "{x}, {y}"), x=x, y=y)


def _tensordot(b: Builder, x: str) -> None:
    s = b.shape(x)
    k = b.draw(st.integers(0, len(s) - 1))
    y = b.other((s[k], b.draw(st.integers(1, MAX_SIDE))))
    axes = 1 if k == len(s) - 1 and b.draw(st.booleans()) else ([k], [0])
    b.add("tensordot", [f"{{L}}.tensordot({{x}}, {{y}}, axes={axes})"], x=x, y=y)


def _inner(b: Builder, x: str) -> None:
    s = b.shape(x)
    y = b.other((s[-1],) if len(s) == MAX_DIMS else (b.draw(st.integers(1, MAX_SIDE)), s[-1]))
    b.add("inner", ["{L}.inner({x}, {y})"], x=x, y=y)


def _vdot(b: Builder, x: str) -> None:
    b.add("vdot", ["{L}.vdot({x}, {y})"], x=x, y=b.other(b.shape(x)))


def _outer(b: Builder, x: str) -> None:
    y = b.other((b.draw(st.integers(1, MAX_SIDE)),))
    b.add("outer", ["{L}.outer({x}, {y})"], x=x, y=y)


def _einsum(b: Builder, x: str) -> None:
    """A form that fits x's axes: a product summed over the last axis, a matrix product
    (batched), a transposition, an outer product, a trace or a diagonal."""
    s, n = b.shape(x), b.draw(st.integers(1, MAX_SIDE))
    forms = [("...i,...i->...", s)]
    forms += [("i,j->ij", (n,))] if len(s) == 1 else []
    forms += [("ij,jk->ik", (s[1], n)), ("ij->ji", None), ("ij,ij->i", s)] if len(s) == 2 else []
    forms += [("bij,bjk->bik", (s[0], s[2], n)), ("ijk->kij", None)] if len(s) == 3 else []
    forms += [("...ii->...i", None), ("...ii", None)] if _square(s) else []
    subscripts, other = b.draw(st.sampled_from(forms))
    optimize = b.draw(st.booleans())
    if other is None:
        b.add("einsum", [f"{{L}}.einsum({subscripts!r}, {{x}}, optimize={optimize})"], x=x)
    else:
        b.add("einsum", [f"{{L}}.einsum({subscripts!r}, {{x}}, {{y}}, optimize={optimize})"],
              x=x, y=b.other(other))


def _conditioned(b: Builder, x: str) -> str:
    """For a square x (..., n, n), diag(2, 5, 8) + 0.3 tanh(x): Gershgorin keeps its eigenvalues
    within 0.9 of 2, 5, 8, and its singular values are at least 2 - 0.9 from 0 (Weyl). For
    another x, the symmetric positive definite matrix `_spd` makes of it."""
    if not _square(b.shape(x)):
        return _spd(b, x)
    d = b.const(np.diag([2.0, 5.0, 8.0][:b.shape(x)[-1]]))
    return f"({d} + 0.3 * {{L}}.tanh({{x}}))"


def _spd(b: Builder, x: str) -> str:
    """diag(2, 5, 8) + 0.1 G G^T with G = tanh(x) as (..., n, k): symmetric positive definite,
    eigenvalues (and singular values) within 0.9 of 2, 5, 8 (Weyl), so distinct."""
    s = b.shape(x)
    d = b.const(np.diag([2.0, 5.0, 8.0][:s[-2] if len(s) >= 2 else s[0]]))
    if len(s) == 1:
        return f"({d} + 0.1 * {{L}}.tanh({{x}})[:, None] * {{L}}.tanh({{x}}))"
    return f"({d} + 0.1 * {{L}}.tanh({{x}}) @ {{L}}.swapaxes({{L}}.tanh({{x}}), -1, -2))"


def _linalg(op: str, matrix: Callable[[Builder, str], str], call: str) -> PoolOp:
    """np.linalg.<op> on the matrix made from x; `call` formats the call ({a}: the matrix)."""
    def build(b: Builder, x: str) -> None:
        b.add(f"linalg.{op}", [call.format(a=matrix(b, x), p=b.draw(st.sampled_from(
            [2, 3, -1, -2])))], x=x)
    return PoolOp(f"linalg.{op}", _at_least(1), build)


def _solve(b: Builder, x: str) -> None:
    s = b.shape(x)
    n = s[-1] if _square(s) else s[-2] if len(s) >= 2 else s[0]
    rhs = b.other(b.draw(st.sampled_from([(n,), (n, b.draw(st.integers(1, MAX_SIDE)))])))
    b.add("linalg.solve", [f"{{L}}.linalg.solve({_conditioned(b, x)}, {{y}})"], x=x, y=rhs)


def _norm(b: Builder, x: str) -> None:
    axis = (-2, -1) if len(b.shape(x)) >= 2 and b.draw(st.booleans()) else -1
    kw = f"axis={axis}, keepdims={b.draw(st.booleans())}"
    b.add("linalg.norm", [f"{{L}}.linalg.norm({{x}} * {{x}} + 1, {kw})"], x=x)


def _matrix_norm(b: Builder, x: str) -> None:
    b.add("linalg.matrix_norm", ["{L}.linalg.matrix_norm({x} * {x} + 1)"], x=x)


# -- more shapes and joining --

def _rollaxis(b: Builder, x: str) -> None:
    nd = len(b.shape(x))
    b.add("rollaxis", [f"{{L}}.rollaxis({{x}}, {_axis(b, nd)}, {b.draw(st.integers(0, nd))})"],
          x=x)


def _stacker_axis(op: str, s: tuple[int, ...]) -> int | None:
    """The axis of x along which `op` joins x and another array, or None where it joins them
    along a new axis (hstack of 0-d, vstack of 1-d, dstack of 2-d, column_stack of 1-d)."""
    nd = len(s)
    return {"hstack": 0 if nd == 1 else None if nd == 0 else 1, "vstack": None if nd <= 1 else 0,
            "dstack": None if nd <= 2 else 2, "column_stack": None if nd == 1 else 1}[op]


def _stacker(op: str) -> PoolOp:
    def fits(s: tuple[int, ...]) -> bool:
        axis = _stacker_axis(op, s)
        return (op != "column_stack" or len(s) >= 1) and (axis is None or s[axis] < MAX_SIDE)

    def build(b: Builder, x: str) -> None:
        s = b.shape(x)
        axis = _stacker_axis(op, s)
        other = list(s)
        if axis is not None:
            other[axis] = b.draw(st.integers(1, MAX_SIDE - s[axis]))
        y = b.other(tuple(other))
        pair = "[{x}, {y}]" if b.draw(st.booleans()) else "({y}, {x})"
        b.add(op, [f"{{L}}.{op}({pair})"], x=x, y=y)
    return PoolOp(op, fits, build)


def _diag(b: Builder, x: str) -> None:
    s = b.shape(x)
    k = b.draw(st.integers(-(MAX_SIDE - s[0]), MAX_SIDE - s[0]) if len(s) == 1
               else st.integers(1 - s[0], s[1] - 1))
    b.add("diag", [f"{{L}}.diag({{x}}, k={k})"], x=x)


def _take(b: Builder, x: str) -> None:
    s = b.shape(x)
    k = b.draw(st.integers(0, len(s) - 1))
    mode = b.draw(st.sampled_from(["raise", "wrap", "clip"]))
    reach = s[k] if mode == "raise" else 2 * s[k]
    indices = b.draw(st.lists(st.integers(-reach, reach - 1), min_size=1, max_size=MAX_SIDE))
    c = b.const(np.array(indices))
    b.add("take", [f"{{L}}.take({{x}}, {c}, axis={k}, mode={mode!r})"], x=x)


def _take_along_axis(b: Builder, x: str) -> None:
    s = b.shape(x)
    k = b.draw(st.integers(0, len(s) - 1))
    shape = tuple(b.draw(st.integers(1, MAX_SIDE)) if i == k else n for i, n in enumerate(s))
    c = b.const(b.draw(hnp.arrays(np.int64, shape, elements=st.integers(0, s[k] - 1))))
    b.add("take_along_axis", [f"{{L}}.take_along_axis({{x}}, {c}, axis={k})"], x=x)


def _split(op: str) -> PoolOp:
    def build(b: Builder, x: str) -> None:
        s = b.shape(x)
        k = b.draw(st.sampled_from([i for i, n in enumerate(s) if n >= 2]))
        pieces = b.draw(st.sampled_from([n for n in range(1, s[k] + 1)
                                         if op == "array_split" or s[k] % n == 0]))
        piece = b.draw(st.integers(-pieces, pieces - 1))
        b.add(op, [f"{{L}}.{op}({{x}}, {pieces}, axis={k})[{piece}]"], x=x)
    return PoolOp(op, lambda s: max(s, default=1) >= 2, build)


def _kron(b: Builder, x: str) -> None:
    y = b.other(tuple(b.draw(st.integers(1, MAX_SIDE // n)) for n in b.shape(x)))
    b.add("kron", ["{L}.kron({x}, {y})"], x=x, y=y)


def _broadcast_arrays(b: Builder, x: str) -> None:
    y = _broadcasting_partner(b, x)
    b.add("broadcast_arrays",
          [f"{{L}}.broadcast_arrays({{x}}, {{y}})[{b.draw(st.integers(0, 1))}]"], x=x, y=y)


def _meshgrid(b: Builder, x: str) -> None:
    y = b.other((b.draw(st.integers(1, MAX_SIDE)),))
    indexing = b.draw(st.sampled_from(["xy", "ij"]))
    b.add("meshgrid", [f"{{L}}.meshgrid({{x}}, {{y}}, indexing={indexing!r})"
                       f"[{b.draw(st.integers(0, 1))}]"], x=x, y=y)


def _plain(op: str, fits: Callable[[tuple[int, ...]], bool] = _any,
           forms: list[Form] | None = None) -> PoolOp:
    """An op with no argument but x: `{L}.op(x)`."""
    return PoolOp(op, fits, lambda b, x: b.add(op, forms or [f"{{L}}.{op}({{x}})"], x=x))


# Registered differentiable ops left out of the pool, and why.
KINK = "a kink or a jump where hypothesis often draws (0, ties, integers)"
EXCLUDED = {
    **dict.fromkeys(["abs", "sign", "relu", "maximum", "minimum", "fmax", "fmin", "clip", "max",
                     "min", "nanmax", "nanmin", "ptp", "median", "quantile", "percentile",
                     "sort", "floor", "ceil", "rint", "trunc", "round", "remainder", "fmod",
                     "floor_divide", "divmod", "copysign", "heaviside", "std"], KINK),
    "linalg.qr": "the signs of Q's columns and R's rows are LAPACK's choice (the op table "
                 "normalizes them)",
    "float_power": "float64 by definition, so not a float32 graph",
    "astype": "a cast to float32 is below the precision of central differences",
    "setitem": "a statement (t[i] = v), or ad.setitem, which NumPy has no expression for",
}


POOL: dict[str, list[PoolOp]] = {  # by kind, drawn kind first (hypothesis shrinks to the first)
    "elementwise": [
        *(_binary(op, forms, limit) for op, (forms, limit) in BINARY.items()),
        *(_unary(op, arg, limit) for op, (arg, limit) in UNARY.items()),
        PoolOp("neg", _any, _neg), PoolOp("pow", _any, _pow), PoolOp("div", _any, _reciprocal),
        PoolOp("sigmoid", _any, _sigmoid), PoolOp("where", _any, _where),
        _plain("positive", forms=["+{x}", "{L}.positive({x})"]), _plain("real"),
        _plain("conj"),
    ],
    "reduction": [
        _reduction("sum", LIMIT), _reduction("mean", LIMIT), _reduction("var", LIMIT),
        _reduction("prod", 1.5), _reduction("nansum", LIMIT),
        _reduction("nanmean", LIMIT),
        PoolOp("logsumexp", _any, _logsumexp), PoolOp("average", _any, _average),
        PoolOp("linalg.vector_norm", _any, _vector_norm), _scan("cumsum", LIMIT),
        _scan("cumprod", 1.5), _softmax("softmax"), _softmax("log_softmax"),
    ],
    "shape": [
        PoolOp("transpose", _any, _transpose), PoolOp("reshape", _any, _reshape),
        PoolOp("flip", _at_least(1), _flip), PoolOp("tile", _any, _tile),
        PoolOp("concatenate", lambda s: min(s, default=MAX_SIDE) < MAX_SIDE, _concatenate),
        PoolOp("stack", lambda s: len(s) < MAX_DIMS, _stack),
        PoolOp("swapaxes", _at_least(2), _swapaxes), PoolOp("moveaxis", _at_least(2), _moveaxis),
        PoolOp("expand_dims", lambda s: len(s) < MAX_DIMS, _expand_dims),
        PoolOp("squeeze", lambda s: 1 in s, _squeeze), PoolOp("roll", _at_least(1), _roll),
        PoolOp("repeat", _at_least(1), _repeat), PoolOp("getitem", _at_least(1), _getitem),
        PoolOp("broadcast_to", _any, _broadcast_to),
        PoolOp("diff", lambda s: max(s, default=1) >= 2, _diff),
        PoolOp("pad", lambda s: min(s, default=MAX_SIDE) < MAX_SIDE, _pad),
        _triangle("triu"), _triangle("tril"), PoolOp("diagonal", _at_least(2), _diagonal),
        PoolOp("trace", _at_least(2), _trace),
        PoolOp("ravel", lambda s: int(np.prod(s)) <= MAX_SIDE, _ravel),
        _plain("fliplr", _at_least(2)), _plain("flipud", _at_least(1)),
        PoolOp("rollaxis", _at_least(1), _rollaxis),
        _plain("atleast_1d"), _plain("atleast_2d"), _plain("atleast_3d"),
        *(_stacker(op) for op in ("hstack", "vstack", "dstack", "column_stack")),
        PoolOp("diag", lambda s: len(s) in (1, 2), _diag),
        PoolOp("take", _at_least(1), _take),
        PoolOp("take_along_axis", _at_least(1), _take_along_axis),
        _split("split"), _split("array_split"), PoolOp("kron", _at_least(1), _kron),
        PoolOp("broadcast_arrays", _any, _broadcast_arrays),
        PoolOp("meshgrid", lambda s: len(s) == 1, _meshgrid),
    ],
    "product": [
        PoolOp("matmul", _at_least(1), _matmul), PoolOp("dot", lambda s: 1 <= len(s) <= 2, _dot),
        PoolOp("tensordot", lambda s: 1 <= len(s) <= 2, _tensordot),
        PoolOp("inner", _at_least(1), _inner), PoolOp("vdot", _any, _vdot),
        PoolOp("outer", lambda s: int(np.prod(s)) <= MAX_SIDE, _outer),
        PoolOp("einsum", _at_least(1), _einsum),
    ],
    "linalg": [
        _linalg("inv", _conditioned, "{{L}}.linalg.inv({a})"),
        _linalg("det", _conditioned, "{{L}}.linalg.det({a})"),
        _linalg("slogdet", _conditioned, "{{L}}.linalg.slogdet({a})[1]"),
        _linalg("pinv", _conditioned, "{{L}}.linalg.pinv({a})"),
        _linalg("matrix_power", _conditioned, "{{L}}.linalg.matrix_power({a}, {p})"),
        PoolOp("linalg.solve", _at_least(1), _solve),
        _linalg("cholesky", _spd, "{{L}}.linalg.cholesky({a})"),
        _linalg("eigh", _spd, "{{L}}.linalg.eigh({a})[0]"),
        _linalg("svd", _spd, "{{L}}.linalg.svd({a}, compute_uv=False)"),
        PoolOp("linalg.norm", _at_least(1), _norm),
        PoolOp("linalg.matrix_norm", _at_least(2), _matrix_norm),
    ],
}


@st.composite
def programs(draw: st.DrawFn, min_steps: int = 3, max_steps: int = 6,
             max_side: int = MAX_SIDE) -> Program:
    """A program of `min_steps` to `max_steps` ops of the pool, each on the value the step
    before made (so that every step reaches the result) and maybe on an earlier value or a
    fresh input; inputs of at most `max_side` elements an axis."""
    b = Builder(draw, max_side)
    x = b.fresh(b.fresh_shape())
    for _ in range(draw(st.integers(min_steps, max_steps))):
        if b.program.steps:
            x = b.program.steps[-1].out
        kinds = [[p for p in ops if p.fits(b.shape(x))] for ops in POOL.values()]
        draw(st.sampled_from(draw(st.sampled_from([k for k in kinds if k])))).build(b, x)
    return b.program


# -- the checks --------------------------------------------------------------------------------

def test_the_pool_and_the_ops_left_out_are_registered_differentiable_ops() -> None:
    pool = {p.name for ops in POOL.values() for p in ops}
    for name in pool | set(EXCLUDED):
        assert name in registry.OPS and registry.OPS[name].differentiable, name
    assert not pool & set(EXCLUDED)


@given(programs())
def test_a_program_has_numpys_value_and_its_gradients_in_both_modes(program: Program) -> None:
    """The value of the program on Tensors is NumPy's; its Jacobian, by reverse mode and by
    forward mode, is the one of central differences."""
    xs = program.tensors()
    out = program(*xs)
    assert isinstance(out, ad.Tensor) and out.dtype == np.float64
    assert out.shape == program.steps[-1].shape
    np.testing.assert_allclose(out.data, program.reference(), rtol=1e-7, atol=1e-9)
    assert gradcheck(program, *xs, modes=("rev", "fwd"))


@given(programs())
def test_a_program_has_its_second_derivatives(program: Program) -> None:
    """The vector-Jacobian product, differentiated again in both modes, against central
    differences."""
    assert gradgradcheck(program, *program.tensors(), atol=1e-4, modes=("rev", "fwd"))


@given(programs())
def test_a_float32_program_stays_float32(program: Program) -> None:
    """On float32 inputs, the value (near NumPy's float64 one) and the gradients are
    float32, whatever float64 constants the steps hold."""
    xs = program.tensors(np.float32)
    out = program(*xs)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, program.reference(), rtol=1e-3, atol=1e-3)
    (out * ad.tensor(np.linspace(-1, 1, out.size).reshape(out.shape))).sum().backward()
    for x in xs:
        assert x.grad is None or x.grad.dtype == np.float32


def _numeric_directional(f: Callable[[ad.Tensor], ad.Tensor], x: ad.Tensor, v: np.ndarray,
                         eps: float = 1e-6) -> np.ndarray:
    """(f(x + eps v) - f(x - eps v)) / (2 eps), f's value as an array."""
    plus = f(ad.tensor(x.data + eps * v)).data
    minus = f(ad.tensor(x.data - eps * v)).data
    return (plus - minus) / (2 * eps)


@given(programs(), st.integers(0, 2**32 - 1))
def test_nested_transforms_of_a_program(program: Program, seed: int) -> None:
    """The Hessian of a scalar s(x) = <program(x, ...), u> along w: grad of <grad s, w>
    (reverse over reverse), jvp of grad s (forward over reverse) and `hessian` in both modes,
    against finite differences of grad s; with a second input y closed over, grad over y of
    <grad_x s, w> against finite differences in y."""
    rng = np.random.default_rng(seed)
    x, *rest = (ad.tensor(a) for a in program.inputs.values())
    u = ad.tensor(rng.standard_normal(program.steps[-1].shape))

    def s(x: ad.Tensor, *rest: ad.Tensor) -> ad.Tensor:
        return (program(x, *rest) * u).sum()

    def grad_s(x: ad.Tensor) -> ad.Tensor:
        return ad.grad(s)(x, *rest)

    w = rng.standard_normal(x.shape)
    numeric = _numeric_directional(grad_s, x, w)
    over_rev = ad.grad(lambda x: (grad_s(x) * ad.tensor(w)).sum())(x)
    _, over_fwd = ad.jvp(grad_s, (x,), (ad.tensor(w),))
    hessians = [ad.hessian(lambda x: s(x, *rest), mode=mode)(x).data.reshape(x.size, x.size)
                for mode in ("rev", "fwd")]
    for analytic in (over_rev.data, over_fwd.data, *(h @ w.ravel() for h in hessians)):
        np.testing.assert_allclose(analytic.reshape(x.shape), numeric, rtol=1e-3, atol=1e-4)
    if not rest:
        return
    y, others = rest[0], rest[1:]

    def along_w(y: ad.Tensor) -> ad.Tensor:  # y closed over by the inner grad
        return (ad.grad(lambda x: s(x, y, *others))(x) * ad.tensor(w)).sum()

    mixed = ad.grad(along_w)(y).data.ravel()
    for j in range(y.size):
        e = np.zeros(y.size)
        e[j] = 1
        numeric = _numeric_directional(along_w, y, e.reshape(y.shape))
        np.testing.assert_allclose(mixed[j], numeric, rtol=1e-3, atol=1e-4)
