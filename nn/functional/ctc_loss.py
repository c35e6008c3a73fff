"""ctc_loss: the connectionist temporal classification loss (Graves et al., 2006), as PyTorch's
`F.ctc_loss`: -log of the probability of a target sequence summed over every alignment of it
to the input frames, by the forward (alpha) recursion in log space; its gradient by the
backward (beta) recursion.

>>> import numpy as np
>>> import nn.functional as F
>>> lp = np.log(np.full((2, 1, 2), 0.5))      # T=2 frames, N=1, C=2 (blank 0)
>>> round(F.ctc_loss(lp, [[1]], [2], [1], reduction="sum").item(), 6)  # 3 of 4 paths
0.287682
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor
from nn.functional.lookup import indices

REDUCTIONS = ("none", "mean", "sum")


def ctc_loss(log_probs: Any, targets: Any, input_lengths: Any, target_lengths: Any,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """CTC loss of `log_probs` (T, N, C) (log-softmax outputs over C classes, `blank` among
    them; (T, C) is one unbatched sequence) for `targets`, padded (N, S) or concatenated 1-d
    (sum of target_lengths), which never hold `blank`. Sample n uses its first
    input_lengths[n] frames and target_lengths[n] labels. Its loss is -log p(target | x), the
    sum over alignments computed in log space (float64 inside, the result in log_probs'
    dtype); an impossible target (too few frames) gives inf, or 0 with `zero_infinity` (its
    gradient 0 too). `reduction`: 'none' (one loss per sample), 'sum', or 'mean' (each loss
    divided by its target length (at least 1), then averaged), as PyTorch's.

    The gradient with respect to log_probs is the derivative of the loss:
    -exp(log sum_{s: l'_s = c} alpha_t(s) beta_t(s) - log_probs[t, c] + loss). PyTorch's
    adds exp(log_probs) to it (zero in total once it passes back through log_softmax, so the
    gradients of the logits are the same). With create_graph=True the gradient is computed
    again in Tensor operations (the alpha recursion recorded and differentiated by the
    engine), so it has second derivatives (hessian, grad of grad, forward mode).

    >>> import numpy as np
    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> lp = ad.tensor(np.log(np.full((3, 1, 3), 1 / 3)), requires_grad=True)
    >>> loss = F.ctc_loss(lp, [[1, 1]], [3], [2])   # one alignment: 1, blank, 1
    >>> bool(np.isclose(loss.item() * 2, 3 * np.log(3)))  # mean: divided by the length 2
    True
    """
    lp, unbatched = _log_probs(log_probs)
    if reduction not in REDUCTIONS:
        raise ValueError(f"ctc_loss: reduction must be 'none', 'mean' or 'sum', got "
                         f"{reduction!r}")
    T, N, C = lp.shape
    if not 0 <= blank < C:
        raise ValueError(f"ctc_loss: blank must be a class index in [0, {C - 1}], got {blank}")
    in_len = _lengths("input_lengths", input_lengths, N, unbatched, T)
    tg_len = _lengths("target_lengths", target_lengths, N, unbatched, None)
    labels = _padded_targets(targets, tg_len, N, unbatched)
    _check_labels(labels, tg_len, C, blank)
    losses = CTCLoss.apply(lp, labels=labels, input_lengths=in_len, target_lengths=tg_len,
                           blank=blank, zero_infinity=zero_infinity)
    if reduction == "none":
        return losses.reshape(()) if unbatched else losses
    if reduction == "sum":
        return losses.sum()
    return (losses / np.maximum(tg_len, 1).astype(lp.dtype)).mean()


class CTCLoss(ad.Function):
    """One loss per sample (N,), alpha recursion in float64; backward from the beta recursion
    on arrays, or, with create_graph, from the alpha recursion again in Tensor operations
    (which the engine differentiates, so that the gradient has derivatives too)."""

    name = "ctc_loss"
    array_backward = True

    @staticmethod
    def forward(ctx, lp, *, labels, input_lengths, target_lengths, blank, zero_infinity):
        ext = _extended(labels, blank)
        lpe = _at_labels(lp.astype(np.float64), ext)  # (T, N, L): log prob of each l'_s
        valid = np.arange(ext.shape[1]) <= 2 * target_lengths[:, None]  # s within l'
        skip = _skips(ext, blank) & valid
        alpha = _alpha(lpe, valid, skip)
        nll = _nll(alpha, input_lengths, target_lengths)
        ctx.grad_lp = _gradient(lp, ext, lpe, alpha, skip, valid, nll, input_lengths)
        ctx.save_for_backward(lp)
        ctx.paths = ext, valid, skip, input_lengths, target_lengths
        ctx.bad = np.isinf(nll)  # impossible targets: gradient NaN, or 0 with zero_infinity
        if zero_infinity:
            nll[ctx.bad] = 0.0
            ctx.grad_lp[:, ctx.bad] = 0.0
        return nll.astype(lp.dtype)

    @staticmethod
    def backward(ctx, grad):
        if isinstance(grad, np.ndarray):
            return ctx.grad_lp * grad[None, :, None]
        return _recorded_gradient(ctx, grad)


# A log probability that no path takes: finite, unlike -inf, so that the recorded recursion's
# gradients through the states no path reaches are 0 (logaddexp's at -inf and -inf is NaN).
_NEVER = -1e30


def _recorded_gradient(ctx: Any, grad: Tensor) -> Tensor:
    """d loss / d log_probs times `grad` in Tensor operations: the losses again by the alpha
    recursion, recorded, and differentiated by the engine with create_graph. The samples with
    no frame or an impossible target get the array backward's constant (0 or NaN)."""
    (lp,) = ctx.saved_tensors
    ext, valid, skip, input_lengths, target_lengths = ctx.paths
    used = (input_lengths > 0) & ~ctx.bad
    nll = _recorded_nll(lp, ext, valid, skip, input_lengths, target_lengths)
    seed = grad.astype(np.float64) * used.astype(np.float64)
    (g,) = ad.gradients(nll, lp, grad_outputs=seed, create_graph=True)
    if ctx.bad.any():
        g = g + np.where(ctx.bad[None, :, None], ctx.grad_lp, 0.0) * grad[None, :, None]
    return g


def _recorded_nll(lp: Tensor, ext: np.ndarray, valid: np.ndarray, skip: np.ndarray,
                  input_lengths: np.ndarray, target_lengths: np.ndarray) -> Tensor:
    """-log p(target) (N,) by the alpha recursion of `_alpha` in Tensor operations, in float64
    (`_NEVER` for -inf); alpha at each sample's last frame is picked by a 0/1 mask per frame."""
    N = lp.shape[1]
    lpe = lp.astype(np.float64)[:, np.arange(N)[:, None], ext]  # (T, N, L)
    keep, jump = np.where(valid, 0.0, _NEVER), np.where(skip, 0.0, _NEVER)
    start = keep.copy()
    start[:, 2:] = _NEVER
    never = np.full((N, 2), _NEVER)
    alpha = lpe[0] + start
    final = alpha * (input_lengths == 1)[:, None]
    for t in range(1, int(input_lengths.max(initial=0))):
        prev = ad.concatenate([never, alpha], axis=1)  # s - 1 and s - 2 as slices
        alpha = np.logaddexp(np.logaddexp(prev[:, 2:], prev[:, 1:-1]), prev[:, :-2] + jump)
        alpha = alpha + lpe[t] + keep
        final = final + alpha * (input_lengths == t + 1)[:, None]
    n = np.arange(N)
    end = final[n, 2 * target_lengths]
    before = final[n, np.maximum(2 * target_lengths - 1, 0)] + np.where(
        target_lengths > 0, 0.0, _NEVER)
    return -np.logaddexp(end, before)


def _extended(labels: np.ndarray, blank: int) -> np.ndarray:
    """l': blank, l_1, blank, l_2, ..., blank, (N, 2 S + 1)."""
    ext = np.full((labels.shape[0], 2 * labels.shape[1] + 1), blank, np.int64)
    ext[:, 1::2] = labels
    return ext


def _at_labels(lp: np.ndarray, ext: np.ndarray) -> np.ndarray:
    return lp[:, np.arange(ext.shape[0])[:, None], ext]


def _skips(ext: np.ndarray, blank: int) -> np.ndarray:
    """May a path jump from s - 2 to s (a label differing from the one two back)?"""
    skip = np.zeros(ext.shape, bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    return skip


def _log_mask(mask: np.ndarray) -> np.ndarray:
    """0 where mask holds, -inf elsewhere: added to a log value, it keeps or removes it."""
    return np.where(mask, 0.0, -np.inf)


def _alpha(lpe: np.ndarray, valid: np.ndarray, skip: np.ndarray) -> np.ndarray:
    """log alpha_t(s): all prefixes of alignments ending at frame t in state s. Each row
    has two -inf columns in front, so that s - 1 and s - 2 are views (no copies per step)."""
    T, N, L = lpe.shape
    alpha = np.full((T, N, L + 2), -np.inf)
    if not T:
        return alpha[:, :, 2:]
    keep, jump = _log_mask(valid), _log_mask(skip)
    alpha[0, :, 2:4] = lpe[0, :, :2] + keep[:, :2]
    for t in range(1, T):
        prev = alpha[t - 1]
        out = alpha[t, :, 2:]
        np.logaddexp(prev[:, 2:], prev[:, 1:-1], out=out)
        np.logaddexp(out, prev[:, :-2] + jump, out=out)
        out += lpe[t]
        out += keep
    return alpha[:, :, 2:]


def _beta(lpe: np.ndarray, skip: np.ndarray, valid: np.ndarray, input_lengths: np.ndarray,
          target_lengths: np.ndarray) -> np.ndarray:
    """log beta_t(s): all suffixes of alignments from state s at frame t to the end (frame
    input_lengths[n] - 1, state 2 S or 2 S - 1); -inf from frame input_lengths[n] on. Two
    -inf columns behind each row make s + 1 and s + 2 views."""
    T, N, L = lpe.shape
    s = np.arange(L)
    last = (s == 2 * target_lengths[:, None]) | (s == 2 * target_lengths[:, None] - 1)
    skip_from = np.zeros_like(skip)
    skip_from[:, :-2] = skip[:, 2:]  # s may jump to s + 2
    keep, jump, start = _log_mask(valid), _log_mask(skip_from), _log_mask(last & valid)
    beta = np.full((T, N, L + 2), -np.inf)
    for t in range(T - 1, -1, -1):
        out = beta[t, :, :-2]
        if t < T - 1:
            nxt = beta[t + 1]
            np.logaddexp(nxt[:, :-2], nxt[:, 1:-1], out=out)
            np.logaddexp(out, nxt[:, 2:] + jump, out=out)
            out += lpe[t]
            out += keep
        ends = t == input_lengths - 1  # the samples whose last frame is t start here
        out[ends] = lpe[t][ends] + start[ends]
        out[t >= input_lengths] = -np.inf
    return beta[:, :, :-2]


def _nll(alpha: np.ndarray, input_lengths: np.ndarray, target_lengths: np.ndarray
         ) -> np.ndarray:
    """-log p(target): alpha at the last frame, in the last blank or the last label."""
    N = alpha.shape[1]
    nll = np.where(target_lengths == 0, 0.0, np.inf)  # no frame: only the empty target fits
    has = input_lengths > 0
    if has.any():
        n = np.arange(N)[has]
        final = alpha[input_lengths[has] - 1, n]
        end = final[np.arange(n.size), 2 * target_lengths[has]]
        before = np.where(target_lengths[has] > 0,
                          final[np.arange(n.size), np.maximum(2 * target_lengths[has] - 1, 0)],
                          -np.inf)
        nll[has] = -np.logaddexp(end, before)
    return nll


def _gradient(lp: np.ndarray, ext: np.ndarray, lpe: np.ndarray, alpha: np.ndarray,
              skip: np.ndarray, valid: np.ndarray, nll: np.ndarray,
              input_lengths: np.ndarray) -> np.ndarray:
    """d loss / d log_probs[t, n, c] = -exp(log sum_{s: l'_s = c} alpha beta - lp + loss), 0
    from frame input_lengths[n] on; NaN where the loss is inf (as PyTorch's)."""
    T, N, C = lp.shape
    target_lengths = (valid.sum(axis=1) - 1) // 2
    ab = alpha + _beta(lpe, skip, valid, input_lengths, target_lengths)
    with np.errstate(invalid="ignore"):
        top = np.max(ab, axis=2, keepdims=True)
        top = np.where(np.isfinite(top), top, 0.0)
        weight = np.exp(ab - top)  # (T, N, L)
        per_class = np.zeros((T, N, C))
        n = np.arange(N)
        for s in range(ext.shape[1]):
            per_class[:, n, ext[:, s]] += weight[:, :, s]
        with np.errstate(divide="ignore", over="ignore"):
            grad = -np.exp(np.log(per_class) + top - lp + nll[None, :, None])
    grad = np.where(per_class > 0, grad, 0.0)
    grad[:, np.isinf(nll)] = np.nan
    grad[np.arange(T)[:, None] >= input_lengths[None, :]] = 0.0
    return grad.astype(lp.dtype)


def _log_probs(log_probs: Any) -> tuple[Tensor, bool]:
    lp = log_probs if isinstance(log_probs, Tensor) else ad.tensor(np.asarray(log_probs))
    if lp.dtype.kind != "f":
        raise TypeError(f"ctc_loss: log_probs must be floating, got dtype {lp.dtype}")
    if lp.ndim == 2:
        return lp.reshape(lp.shape[0], 1, lp.shape[1]), True
    if lp.ndim != 3:
        raise ValueError(f"ctc_loss: log_probs must be (T, N, C) or unbatched (T, C), got shape "
                         f"{lp.shape}")
    if lp.size == 0:
        raise ValueError(f"ctc_loss: log_probs must not be empty, got shape {lp.shape}")
    return lp, False


def _lengths(name: str, value: Any, N: int, unbatched: bool, most: int | None) -> np.ndarray:
    """input_lengths or target_lengths as an int64 array (N,), each >= 0 (and <= most)."""
    a = indices(f"ctc_loss ({name})", value).astype(np.int64)
    if a.shape != (N,) and not (unbatched and a.size == 1):
        raise ValueError(f"ctc_loss: {name} must hold one length per sample ({N}), got shape "
                         f"{a.shape}")
    a = a.reshape(N)
    if a.size and a.min() < 0:
        raise ValueError(f"ctc_loss: {name} must be at least 0, got {int(a.min())}")
    if most is not None and a.size and a.max() > most:
        raise ValueError(f"ctc_loss: {name} must be at most the number of frames {most}, got "
                         f"{int(a.max())}")
    return a


def _padded_targets(targets: Any, lengths: np.ndarray, N: int, unbatched: bool) -> np.ndarray:
    """targets as (N, max length) (past each length: filled with the first label, unread)."""
    t = indices("ctc_loss (targets)", targets)
    if unbatched and t.ndim == 1:
        t = t[None]
    if t.ndim == 2:
        if t.shape[0] != N:
            raise ValueError(f"ctc_loss: padded targets must be (N, S) with N = {N}, got "
                             f"shape {t.shape}")
        if lengths.size and lengths.max() > t.shape[1]:
            raise ValueError(f"ctc_loss: target_lengths must be at most the targets' width "
                             f"{t.shape[1]}, got {int(lengths.max())}")
        return t[:, :int(lengths.max(initial=0))].copy()
    if t.ndim != 1:
        raise ValueError(f"ctc_loss: targets must be padded (N, S) or concatenated 1-d, got "
                         f"shape {t.shape}")
    if t.size != lengths.sum():
        raise ValueError(f"ctc_loss: concatenated targets must hold sum(target_lengths) = "
                         f"{int(lengths.sum())} labels, got {t.size}")
    out = np.zeros((N, int(lengths.max(initial=0))), np.int64)
    starts = np.cumsum(lengths) - lengths
    for n in range(N):
        out[n, :lengths[n]] = t[starts[n]:starts[n] + lengths[n]]
    return out


def _check_labels(labels: np.ndarray, lengths: np.ndarray, C: int, blank: int) -> None:
    """Each used label in [0, C) and not blank; the padding past each length (never read)
    overwritten with a valid class so that indexing by it is safe."""
    used = labels[np.arange(labels.shape[1]) < lengths[:, None]]
    if used.size and (used.min() < 0 or used.max() >= C):
        bad = int(used.min()) if used.min() < 0 else int(used.max())
        raise ValueError(f"ctc_loss: target label {bad} is out of range for {C} classes")
    if np.any(used == blank):
        raise ValueError(f"ctc_loss: targets must not contain the blank label {blank}")
    labels[np.arange(labels.shape[1]) >= lengths[:, None]] = blank + 1 if blank + 1 < C else 0
