"""Scaled dot-product attention as one primitive: softmax(Q K^T * scale + mask) V.

With S = Q K^T * scale + M, P = softmax(S) along the keys, A = P * D (D the dropout mask,
scaled by 1 / (1 - p); all ones without dropout) and O = A V, the backward for gradients
gO (of O) and gP (of P, when the weights are used too) is

    dV = A^T gO        dP = (gO V^T) * D + gP        dS = P * (dP - rowsum(dP * P))
    dQ = dS K * scale  dK = dS^T Q * scale            dM = dS

written in operations arrays and Tensors share, so that it runs on arrays when no graph is
needed and is recorded (and can be differentiated again) when one is: P is an output of the
node, so a second derivative flows back into it.

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.scaled_dot_product_attention(ad.ones((2, 3, 4)), ad.ones((2, 5, 4)),
...                                ad.ones((2, 5, 6))).shape
(2, 3, 6)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor


def scaled_dot_product_attention(query: Any, key: Any, value: Any, attn_mask: Any = None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None, enable_gqa: bool = False
                                 ) -> Tensor:
    """softmax(query key^T * scale + mask) value, PyTorch's semantics: query (..., L, E),
    key (..., S, E), value (..., S, Ev) -> (..., L, Ev), leading axes broadcast. A boolean
    `attn_mask` (broadcastable to (..., L, S)) says which keys take part (True: attends); a
    float mask is added to the scores (and gets a gradient when it requires one).
    `is_causal` lets query i see keys 0..i only (top-left aligned, as PyTorch). `scale`
    defaults to 1/sqrt(E). A query that sees no key gets zeros (as PyTorch's SDPA), and so
    does every query when there are no keys (S = 0). float16 is computed in float32 and
    rounded once at the end (PyTorch's CPU kernels accumulate half in float32 too).
    Dropout (`dropout_p`, always applied when > 0, as PyTorch's) zeroes attention weights.
    `enable_gqa` (grouped-query attention, as PyTorch's): key and value may have fewer heads
    (axis -3) than query, a divisor of its count; each of their heads then serves that many
    consecutive query heads (PyTorch's `repeat_interleave`).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> q = ad.tensor([[[1.0, 0.0]]])
    >>> kv = ad.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    >>> F.scaled_dot_product_attention(q, kv, kv, attn_mask=ad.tensor([[True, False]]))
    tensor([[[1., 0.]]])
    """
    who = "scaled_dot_product_attention"
    if enable_gqa:
        query, key, value = (t if isinstance(t, Tensor) else ad.tensor(t)
                             for t in (query, key, value))
        key, value = _repeat_heads(who, query, key), _repeat_heads(who, query, value)
    out, _ = attention(query, key, value, attn_mask, dropout_p, is_causal, scale, who=who)
    return out


def _repeat_heads(who: str, q: Tensor, t: Tensor) -> Tensor:
    """`t` (..., Hk, S, E) with each head repeated Hq / Hk times in a row (..., Hq, S, E):
    PyTorch's `repeat_interleave` along the heads for grouped-query attention."""
    if q.ndim < 3 or t.ndim < 3:
        raise ValueError(f"{who}: enable_gqa needs query, key and value with a heads axis "
                         f"(..., H, L, E), got shapes {q.shape} and {t.shape}")
    hq, hk = q.shape[-3], t.shape[-3]
    if hq == hk:
        return t
    if hk == 0 or hq % hk:
        raise ValueError(f"{who}: with enable_gqa the query's {hq} heads must be a multiple "
                         f"of the key's and value's {hk} (shapes {q.shape} and {t.shape})")
    *lead, _, s, e = t.shape
    grouped = t.reshape((*lead, hk, 1, s, e)).broadcast_to((*lead, hk, hq // hk, s, e))
    return grouped.reshape((*lead, hq, s, e))


def attention(query: Any, key: Any, value: Any, attn_mask: Any = None,
              dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
              who: str = "attention") -> tuple[Tensor, Tensor]:
    """(output, weights): `scaled_dot_product_attention`'s output and the attention weights
    (..., L, S) it multiplied the values by (softmax of the scores, after dropout as in
    PyTorch's MultiheadAttention), both differentiable. `who` names the caller in errors.

    >>> import autodiff as ad
    >>> from nn.functional.attention import attention
    >>> out, w = attention(ad.ones((1, 2, 3)), ad.ones((1, 4, 3)), ad.ones((1, 4, 3)))
    >>> w.shape, float(w.sum())
    ((1, 2, 4), 2.0)
    """
    q, k, v = (t if isinstance(t, Tensor) else ad.tensor(t) for t in (query, key, value))
    _check_shapes(who, q, k, v)
    query_dtype = q.dtype
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{who}: dropout_p must be in [0, 1], got {dropout_p}")
    L, S = q.shape[-2], k.shape[-2]
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{who}: is_causal=True with an attn_mask: give one of them "
                             "(is_causal builds the causal mask itself)")
        attn_mask = np.tril(np.ones((L, S), dtype=bool))
    mask = _additive_mask(who, attn_mask, q.dtype, q.shape[:-2], k.shape[:-2], L, S)
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    drop = None
    if dropout_p > 0.0:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
        keep = ad.generator().random((*batch, L, S)) >= dropout_p
        drop = keep.astype(q.dtype) * np.asarray(1.0 / (1.0 - dropout_p), dtype=q.dtype) \
            if dropout_p < 1.0 else np.zeros((*batch, L, S), q.dtype)
    if q.dtype == np.float16:  # scores, softmax and sums in float32, one rounding at the end
        q, k, v = (t.astype(np.float32) for t in (q, k, v))
        mask = mask if mask is None else mask.astype(np.float32)
        drop = drop if drop is None else drop.astype(np.float32)
    out, weights = _Attention.apply(q, k, v, mask, drop, scale=float(scale))
    weights = weights if drop is None else weights * drop
    if out.dtype != query_dtype:
        out, weights = out.astype(query_dtype), weights.astype(query_dtype)
    return out, weights


def _check_shapes(who: str, q: Tensor, k: Tensor, v: Tensor) -> None:
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError(f"{who}: query, key and value need at least 2 axes (..., L, E), got "
                         f"shapes {q.shape}, {k.shape}, {v.shape}")
    if k.shape[-1] != q.shape[-1]:
        raise ValueError(f"{who}: query and key must have the same last axis E, got shapes "
                         f"{q.shape} and {k.shape}")
    if v.shape[-2] != k.shape[-2]:
        raise ValueError(f"{who}: key and value must have the same number of keys S (axis -2),"
                         f" got shapes {k.shape} and {v.shape}")
    try:
        np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(f"{who}: the leading axes of query {q.shape}, key {k.shape} and value "
                         f"{v.shape} do not broadcast") from None
    if not all(np.issubdtype(t.dtype, np.floating) for t in (q, k, v)) or \
            not q.dtype == k.dtype == v.dtype:
        raise TypeError(f"{who}: query, key and value must share one floating dtype, got "
                        f"{q.dtype}, {k.dtype}, {v.dtype}")


def _additive_mask(who: str, mask: Any, dtype: np.dtype, q_batch: tuple[int, ...],
                   k_batch: tuple[int, ...], L: int, S: int) -> Any:
    """The mask as something to add to the scores: None, a float array (from a boolean mask:
    0 where True, -inf where False), or a float Tensor as given (it may require grad)."""
    if mask is None:
        return None
    m = mask if isinstance(mask, Tensor) else np.asarray(mask)
    scores = (*np.broadcast_shapes(q_batch, k_batch), L, S)
    try:
        fits = np.broadcast_shapes(m.shape, scores) == scores
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{who}: attn_mask of shape {m.shape} does not broadcast to the "
                         f"scores' shape (..., L, S) = {scores}")
    if m.dtype == bool:
        arr = m.data if isinstance(m, Tensor) else m
        return np.where(arr, np.asarray(0.0, dtype), np.asarray(-np.inf, dtype))
    if not np.issubdtype(m.dtype, np.floating):
        raise TypeError(f"{who}: attn_mask must be boolean or floating, got dtype {m.dtype}")
    if isinstance(m, Tensor):
        if m.requires_grad:
            if m.dtype != dtype:
                raise TypeError(f"{who}: a float attn_mask that requires grad must have the "
                                f"query's dtype {dtype}, got {m.dtype}")
            return m
        m = m.data
    return m.astype(dtype, copy=False)


def _softmax_rows(s: np.ndarray) -> np.ndarray:
    """softmax along the last axis, in place on s; a row of -inf only (a query that sees no
    key) becomes zeros, not NaN; no keys at all (S = 0) leaves s empty."""
    if s.shape[-1] == 0:
        return s
    top = s.max(axis=-1, keepdims=True)
    top[~np.isfinite(top)] = 0.0
    s -= top
    np.exp(s, out=s)
    total = s.sum(axis=-1, keepdims=True)
    total[total == 0.0] = 1.0
    s /= total
    return s


class _Attention(ad.Function):
    """(O, P) = (softmax(Q K^T * scale + M) * D) V and softmax(...) for Q (..., L, E),
    K (..., S, E), V (..., S, Ev), M an additive mask or None, D a dropout mask or None."""

    name = "scaled_dot_product_attention"
    array_backward = True

    @staticmethod
    def forward(ctx, q, k, v, mask, drop, *, scale):
        s = q @ np.swapaxes(k, -1, -2)
        s *= np.asarray(scale, s.dtype)
        if mask is not None:
            s = s + mask  # broadcasting may grow s
        p = _softmax_rows(s)
        a = p if drop is None else p * drop
        ctx.scale, ctx.drop, ctx.mask_shape = scale, drop, None if mask is None else mask.shape
        ctx.save_for_backward(q, k, v, p)
        return a @ v, p

    @staticmethod
    def backward(ctx, g_out, g_p):
        q, k, v, p = ctx.saved_tensors
        need_q, need_k, need_v, need_m, _ = ctx.needs_input_grad
        drop, scale = ctx.drop, ctx.scale
        a = p if drop is None else p * drop
        dv = a.swapaxes(-1, -2) @ g_out if need_v else None
        if not (need_q or need_k or need_m):
            return None, None, dv, None, None
        dp = g_out @ v.swapaxes(-1, -2)
        if drop is not None:
            dp = dp * drop
        dp = dp + g_p
        ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True))
        dq = ds @ k * scale if need_q else None
        dk = ds.swapaxes(-1, -2) @ q * scale if need_k else None
        return dq, dk, dv, ds if need_m else None, None
