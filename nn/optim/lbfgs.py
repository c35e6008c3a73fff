"""L-BFGS with an optional strong-Wolfe line search, as PyTorch's `torch.optim.LBFGS`.

One `step(closure)` runs up to `max_iter` iterations on all parameters seen as one flat vector x
with gradient g. Each iteration:

1. direction d: -g on the very first iteration; after that the two-loop recursion turns -g into
   -H g, H the inverse-Hessian estimate built from the last `history_size` pairs
   (s = x_new - x, y = g_new - g), a pair kept only when y.s > 1e-10, and H's initial scale
   y.s / y.y of the newest pair;
2. step length t: lr (on the very first iteration min(1, 1 / sum|g|) * lr), then either a fixed
   step x += t d, or a strong-Wolfe line search from t (sufficient decrease c1 = 1e-4,
   curvature c2 = 0.9; bracketing, then zooming with cubic interpolation);
3. stop when: max_iter iterations, max_eval closure calls, max|g| <= tolerance_grad,
   max|t d| <= tolerance_change, |f - f_prev| < tolerance_change, or the directional derivative
   g.d > -tolerance_change (no descent left).

The memory (d, t, the pairs, H's scale, the previous gradient and loss) and the counters live in
the state of the first parameter and carry over from one step to the next, as in PyTorch.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

import autodiff as ad
from nn._state import checked_array, real_number
from nn.optim.optimizer import Optimizer, at_least, checked_grad

MEMORY = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "prev_loss")
COUNTERS = ("func_evals", "n_iter")


class LBFGS(Optimizer):
    """Limited-memory BFGS; `step(closure)` re-evaluates the loss as often as it needs.

    Only one parameter group (as PyTorch's); the parameters share one dtype.

    >>> import autodiff as ad, nn
    >>> x = ad.tensor([-1.5, 2.0], requires_grad=True, dtype="float64")
    >>> opt = nn.optim.LBFGS([x], line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2  # Rosenbrock
    ...     loss.backward()
    ...     return loss
    >>> for _ in range(5):
    ...     _ = opt.step(closure)
    >>> [round(v, 6) for v in x.tolist()]
    [1.0, 1.0]
    """

    # PyTorch's keeps more (`al`, lists of tensors) and counts as ints: not converted.
    torch_layout = False

    def __init__(self, params: Iterable[Any], lr: float = 1.0, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if max_eval is None and _count(max_iter):
            max_eval = max_iter * 5 // 4
        super().__init__(params, {"lr": lr, "max_iter": max_iter, "max_eval": max_eval,
                                  "tolerance_grad": tolerance_grad,
                                  "tolerance_change": tolerance_change,
                                  "history_size": history_size,
                                  "line_search_fn": line_search_fn})
        if len(self.param_groups) != 1:
            raise ValueError(f"LBFGS: takes one parameter group (as PyTorch's), got "
                             f"{len(self.param_groups)}")
        dtypes = sorted({str(p.dtype) for p in self._params()})
        if len(dtypes) > 1:
            raise ValueError(f"LBFGS: the parameters must share one dtype, got {dtypes}")

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        for key in ("max_iter", "max_eval", "history_size"):
            if key in group and not _count(group[key]):
                raise ValueError(f"LBFGS: {key} must be an integer >= 1, got {group[key]!r}")
        for key in ("tolerance_grad", "tolerance_change"):
            at_least(self, group, key, 0.0)
        if group.get("line_search_fn") not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                             f"{group['line_search_fn']!r}")

    # -- the parameters as one flat vector --------------------------------------------------

    def _flat_grad(self) -> np.ndarray:
        return np.concatenate([np.zeros(p.size, p.dtype) if p.grad is None
                               else checked_grad(self, p).ravel() for p in self._params()])

    def _add(self, t: float, d: np.ndarray) -> None:
        """x += t d, parameter by parameter, in place."""
        offset = 0
        for p in self._params():
            p.data += t * d[offset:offset + p.size].reshape(p.shape)
            ad.increment_version(p)
            offset += p.size

    def _set(self, xs: list[np.ndarray]) -> None:
        for p, x in zip(self._params(), xs):
            p.data[...] = x
            ad.increment_version(p)

    def _evaluate_at(self, closure: Callable[[], Any], x: list[np.ndarray], t: float,
                     d: np.ndarray) -> tuple[float, np.ndarray]:
        """The loss and flat gradient at x + t d; the parameters are put back to x."""
        self._add(t, d)
        loss = float(closure())
        g = self._flat_grad()
        self._set(x)
        return loss, g

    # -- one step ---------------------------------------------------------------------------

    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """Run up to max_iter iterations; return the loss the first closure call returned."""
        if closure is None:
            raise TypeError("LBFGS.step: needs a closure (a function that zeroes the gradients, "
                            "computes the loss, calls backward() and returns the loss): L-BFGS "
                            "evaluates the loss several times per step")
        group = self.param_groups[0]

        def evaluate() -> Any:
            with ad.enable_grad():
                return closure()

        state = self.state.setdefault(id(self._params()[0]), {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = evaluate()
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        g = self._flat_grad()
        if np.abs(g).max() <= group["tolerance_grad"]:
            return orig_loss
        memory = {k: state.get(k) for k in MEMORY}
        for n_iter in range(1, group["max_iter"] + 1):
            state["n_iter"] += 1
            first = state["n_iter"] == 1
            memory["d"] = -g if first else _two_loop(memory, g, group["history_size"])
            if first:
                memory.update(old_dirs=[], old_stps=[], ro=[], H_diag=1.0)
            memory["prev_flat_grad"], memory["prev_loss"] = g.copy(), loss
            d = memory["d"]
            t = min(1.0, 1.0 / float(np.abs(g).sum())) * group["lr"] if first else group["lr"]
            memory["t"] = t
            gtd = float(np.dot(g, d))
            if gtd > -group["tolerance_change"]:
                break  # not a descent direction any more
            if group["line_search_fn"] == "strong_wolfe":
                x0 = [p.data.copy() for p in self._params()]
                loss, g, t, ls_evals = strong_wolfe(
                    lambda x, t, d: self._evaluate_at(evaluate, x, t, d), x0, t, d, loss, g,
                    gtd, tolerance_change=group["tolerance_change"],
                    max_ls=group["max_eval"] - evals)
                memory["t"] = t
                self._add(t, d)
            else:
                self._add(t, d)
                ls_evals = 0
                if n_iter != group["max_iter"]:  # the last iteration does not re-evaluate
                    loss, g, ls_evals = float(evaluate()), self._flat_grad(), 1
            evals += ls_evals
            state["func_evals"] += ls_evals
            if (n_iter == group["max_iter"] or evals >= group["max_eval"]
                    or np.abs(g).max() <= group["tolerance_grad"]
                    or np.abs(d * t).max() <= group["tolerance_change"]
                    or abs(loss - memory["prev_loss"]) < group["tolerance_change"]):
                break
        state.update(memory)
        return orig_loss

    # -- resuming: the memory is flat vectors, checked as such --------------------------------

    def state_dict(self, layout: str = "ours") -> dict[str, Any]:
        """As every optimizer's, the state of parameter 0 holding the whole memory: counters,
        flat vectors (`d`, `prev_flat_grad`, the pairs `old_dirs`/`old_stps`) and numbers.

        >>> import autodiff as ad, nn
        >>> x = ad.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = nn.optim.LBFGS([x])
        >>> def closure():
        ...     opt.zero_grad(); loss = (x * x).sum(); loss.backward(); return loss
        >>> _ = opt.step(closure)
        >>> sorted(opt.state_dict()["state"]["0"])[:4]
        ['H_diag', 'd', 'func_evals', 'n_iter']
        """
        out = super().state_dict(layout)
        out["state"] = {k: {n: (copy.deepcopy(v) if isinstance(v, list) else v)
                            for n, v in s.items()} for k, s in out["state"].items()}
        return out

    def _checked_state(self, saved: Mapping[Any, Any], kept: list[set[str] | None]
                       ) -> dict[int, dict[str, Any]]:
        if not saved:
            return {}
        if set(saved) - {"0", 0} or not isinstance(next(iter(saved.values())), Mapping):
            raise ValueError(f"LBFGS keeps its memory in the state of parameter 0, the saved "
                             f"state has entries for {sorted(map(str, saved))}")
        entries = next(iter(saved.values()))
        if set(entries) not in (set(COUNTERS), set(COUNTERS) | set(MEMORY)):
            raise ValueError(f"the saved state holds {sorted(entries)}, LBFGS keeps "
                             f"{sorted(COUNTERS)} and after its first iteration "
                             f"{sorted(MEMORY)}")
        return {id(self._params()[0]): self._checked_memory(entries)}

    def _checked_memory(self, entries: Mapping[str, Any]) -> dict[str, Any]:
        size, dtype = sum(p.size for p in self._params()), self._params()[0].dtype
        out: dict[str, Any] = {}
        for name in COUNTERS:
            v = entries[name]
            if not (isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= 0):
                raise ValueError(f"state '{name}' is {v!r}, not a count >= 0")
            out[name] = int(v)
        if "d" not in entries:
            return out

        def vector(label: str, v: Any) -> np.ndarray:
            return checked_array(f"state '{label}'", v, (size,), dtype, finite=True,
                                 where="the parameters (flattened)")

        for name in ("d", "prev_flat_grad"):
            out[name] = vector(name, entries[name])
        for name in ("t", "H_diag", "prev_loss"):
            if not real_number(entries[name]):
                raise ValueError(f"state '{name}' is {entries[name]!r}, not a finite number")
            out[name] = float(entries[name])
        pairs = [entries[n] for n in ("old_dirs", "old_stps", "ro")]
        history = self.param_groups[0]["history_size"]
        if not (all(isinstance(v, list | tuple) for v in pairs)
                and len({len(v) for v in pairs}) == 1 and len(pairs[0]) <= history):
            raise ValueError(f"state 'old_dirs', 'old_stps' and 'ro' must be lists of one length "
                             f"<= history_size ({history}), got lengths "
                             f"{[len(v) if isinstance(v, list | tuple) else v for v in pairs]}")
        out["old_dirs"] = [vector(f"old_dirs[{i}]", v) for i, v in enumerate(pairs[0])]
        out["old_stps"] = [vector(f"old_stps[{i}]", v) for i, v in enumerate(pairs[1])]
        if not all(real_number(r) for r in pairs[2]):
            raise ValueError(f"state 'ro' must hold finite numbers, got {list(pairs[2])}")
        out["ro"] = [float(r) for r in pairs[2]]
        return out


def _count(v: Any) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= 1


def _two_loop(memory: dict[str, Any], g: np.ndarray, history_size: int) -> np.ndarray:
    """Store the newest pair (s, y) if its curvature y.s > 1e-10, then return -H g."""
    y = g - memory["prev_flat_grad"]
    s = memory["d"] * memory["t"]
    ys = float(np.dot(y, s))
    dirs, stps, ro = memory["old_dirs"], memory["old_stps"], memory["ro"]
    if ys > 1e-10:
        if len(dirs) == history_size:  # forget the oldest pair
            del dirs[0], stps[0], ro[0]
        dirs.append(y)
        stps.append(s)
        ro.append(1.0 / ys)
        memory["H_diag"] = ys / float(np.dot(y, y))
    q = -g
    al = [0.0] * len(dirs)
    for i in reversed(range(len(dirs))):
        al[i] = float(np.dot(stps[i], q)) * ro[i]
        q = q - al[i] * dirs[i]
    r = q * memory["H_diag"]
    for i in range(len(dirs)):
        be_i = float(np.dot(dirs[i], r)) * ro[i]
        r = r + (al[i] - be_i) * stps[i]
    return r


def cubic_interpolate(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
                      bounds: tuple[float, float] | None = None) -> float:
    """The minimizer of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clipped
    to `bounds` (default: between x1 and x2); their midpoint when the cubic has no minimum.

    >>> from nn.optim.lbfgs import cubic_interpolate
    >>> cubic_interpolate(0.0, 1.0, -2.0, 2.0, 1.0, 2.0)  # (x - 1)^2: minimum at 1
    1.0
    """
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square < 0:
        return (lo + hi) / 2.0
    d2 = math.sqrt(d2_square)
    if x1 <= x2:
        min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(min_pos, lo), hi)


Evaluate = Callable[[list[np.ndarray], float, np.ndarray], tuple[float, np.ndarray]]


def strong_wolfe(evaluate: Evaluate, x: list[np.ndarray], t: float, d: np.ndarray, f: float,
                 g: np.ndarray, gtd: float, c1: float = 1e-4, c2: float = 0.9,
                 tolerance_change: float = 1e-9, max_ls: int = 25
                 ) -> tuple[float, np.ndarray, float, int]:
    """A step length t along d satisfying the strong Wolfe conditions,
    f(x + t d) <= f + c1 t g.d and |g(x + t d).d| <= c2 |g.d|: first grow t until an interval
    brackets such a point, then zoom into it by cubic interpolation. `evaluate(x, t, d)` gives
    the loss and gradient at x + t d. Returns (loss, gradient, t, evaluations); at most
    `max_ls` evaluations after the first.

    >>> import numpy as np
    >>> from nn.optim.lbfgs import strong_wolfe
    >>> quad = lambda x, t, d: (float((x[0] + t * d - 3) @ (x[0] + t * d - 3)),
    ...                         2 * (x[0] + t * d - 3))
    >>> x = [np.zeros(2)]; g = quad(x, 0.0, np.zeros(2))[1]
    >>> f, g, t, n = strong_wolfe(quad, x, 1.0, -g, 18.0, g, float(g @ -g))
    >>> t  # the exact minimizer along -g: x + t d = 3
    0.5
    """
    d_norm = float(np.abs(d).max())
    f_new, g_new = evaluate(x, t, d)
    evals, ls_iter = 1, 0
    gtd_new = float(np.dot(g_new, d))
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    bracket: list[float] = []
    bracket_f: list[float] = []
    bracket_g: list[np.ndarray] = []
    bracket_gtd: list[float] = []
    # bracketing: grow t until [t_prev, t] holds a point that satisfies the conditions
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g, done = [t], [f_new], [g_new], True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        t_next = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                   bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = evaluate(x, t, d)
        evals += 1
        gtd_new = float(np.dot(g_new, d))
        ls_iter += 1
    if ls_iter >= max_ls:  # out of evaluations: the better of the start and the last point
        bracket, bracket_f, bracket_g = [0.0, t], [f, f_new], [g, g_new]
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    insufficient = False
    # zoom: shrink the bracket around a point that satisfies the conditions
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                              bracket[1], bracket_f[1], bracket_gtd[1])
        t, insufficient = _away_from_the_ends(t, bracket, insufficient)
        f_new, g_new = evaluate(x, t, d)
        evals += 1
        gtd_new = float(np.dot(g_new, d))
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket_f[low]:
            # not a sufficient decrease, or not below the low end: t becomes the high end
            bracket[high], bracket_f[high] = t, f_new
            bracket_g[high], bracket_gtd[high] = g_new, gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low] = t, f_new
            bracket_g[low], bracket_gtd[low] = g_new, gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals


def _away_from_the_ends(t: float, bracket: list[float], insufficient: bool
                        ) -> tuple[float, bool]:
    """Keep t at least a tenth of the bracket from its ends when the previous trial was already
    too close to one (or t is outside): progress, not crawling along an end."""
    lo, hi = min(bracket), max(bracket)
    eps = 0.1 * (hi - lo)
    if min(hi - t, t - lo) >= eps:
        return t, False
    if not (insufficient or t >= hi or t <= lo):
        return t, True
    return (hi - eps if abs(t - hi) < abs(t - lo) else lo + eps), False
