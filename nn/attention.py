"""MultiheadAttention with PyTorch's parameters, masks and shapes.

>>> import autodiff as ad, nn
>>> mha = nn.MultiheadAttention(8, 2, batch_first=True)
>>> out, weights = mha(ad.ones((3, 5, 8)), ad.ones((3, 5, 8)), ad.ones((3, 5, 8)))
>>> out.shape, weights.shape
((3, 5, 8), (3, 5, 5))
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor
from nn import init
from nn.functional.attention import attention
from nn.functional.linear import linear
from nn.linear import Linear
from nn.module import Module, Parameter


class MultiheadAttention(Module):
    """Attention with `num_heads` heads of embed_dim // num_heads features each.

    Parameters as PyTorch's: `in_proj_weight` (3 E, E: query, key and value projections
    stacked, one product when query, key and value are one tensor) and `in_proj_bias` (3 E),
    or `q_proj_weight`, `k_proj_weight`, `v_proj_weight` when `kdim` or `vdim` differ from E;
    `out_proj` a Linear(E, E); with `add_bias_kv`, `bias_k` and `bias_v` (1, 1, E), a learned
    key and value appended to the projected keys and values of every sequence.
    `add_zero_attn` appends a zero key and value to each head after that. The masks take
    those extra keys as attendable, and the weights cover them (S + 1 or S + 2 columns), as
    PyTorch. Initialization as PyTorch's: xavier_uniform projections, zero biases,
    out_proj.weight as Linear's, xavier_normal bias_k and bias_v. Inputs (L, N, E), or
    (N, L, E) with `batch_first`, or (L, E) unbatched.

    >>> import autodiff as ad, nn
    >>> mha = nn.MultiheadAttention(4, 2)
    >>> mha.in_proj_weight.shape, mha.out_proj.weight.shape
    ((12, 4), (4, 4))
    >>> out, w = mha(ad.ones((5, 4)), ad.ones((6, 4)), ad.ones((6, 4)), need_weights=True)
    >>> out.shape, w.shape
    ((5, 4), (5, 6))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False,
                 kdim: int | None = None, vdim: int | None = None, batch_first: bool = False,
                 dtype: Any = None) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim must be a positive multiple of "
                             f"num_heads, got embed_dim={embed_dim}, num_heads={num_heads}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1], got {dropout}")
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.head_dim = embed_dim // num_heads
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self.batch_first = batch_first
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        E = embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(ad.zeros((3 * E, E), dtype=dtype))
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for name, d in (("q", E), ("k", self.kdim), ("v", self.vdim)):
                w = Parameter(ad.zeros((E, d), dtype=dtype))
                init.xavier_uniform_(w)
                setattr(self, f"{name}_proj_weight", w)
            self.register_parameter("in_proj_weight", None)
        self.register_parameter("in_proj_bias",
                                Parameter(ad.zeros(3 * E, dtype=dtype)) if bias else None)
        self.add_zero_attn = add_zero_attn
        if add_bias_kv:  # a learned key and value appended to every sequence of keys
            self.bias_k = Parameter(ad.zeros((1, 1, E), dtype=dtype))
            self.bias_v = Parameter(ad.zeros((1, 1, E), dtype=dtype))
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)
        else:
            self.bias_k = self.bias_v = None
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype)
        if bias:
            init.zeros_(self.out_proj.bias)

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Any = None, need_weights: bool = True, attn_mask: Any = None,
                average_attn_weights: bool = True, is_causal: bool = False
                ) -> tuple[Tensor, Tensor | None]:
        """(output, weights or None). A boolean `key_padding_mask` (N, S) or `attn_mask`
        (L, S) / (N * num_heads, L, S) marks with True what may NOT be attended (PyTorch's
        MultiheadAttention convention, the opposite of scaled_dot_product_attention's); float
        masks are added to the scores. `is_causal` is a hint that `attn_mask` is the causal
        mask (which must be given); the mask given is the one used (PyTorch uses its own
        causal mask instead when it can). The weights are averaged over heads unless
        `average_attn_weights=False` ((N, num_heads, L, S)). A query whose keys are all
        masked gets zeros and zero weights (PyTorch: zeros on its need_weights=False and fast
        paths, NaN on its need_weights=True path).

        >>> import autodiff as ad, nn
        >>> mha = nn.MultiheadAttention(4, 1, batch_first=True)
        >>> x = ad.randn(1, 3, 4)
        >>> _, w = mha(x, x, x, key_padding_mask=ad.tensor([[False, False, True]]))
        >>> w[0, :, 2].tolist()
        [0.0, 0.0, 0.0]
        """
        who = "MultiheadAttention"
        batched = query.ndim == 3
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(f"{who}: query, key and value must all be 3-D (batched) or 2-D "
                             f"(unbatched), got shapes {query.shape}, {key.shape}, "
                             f"{value.shape}")
        if is_causal and attn_mask is None:
            raise ValueError(f"{who}: is_causal=True is a hint that attn_mask is the causal "
                             "mask; give attn_mask too")
        for name, t, d in (("query", query, self.embed_dim), ("key", key, self.kdim),
                           ("value", value, self.vdim)):
            if t.shape[-1] != d:
                raise ValueError(f"{who}: {name} has {t.shape[-1]} features (shape {t.shape}) "
                                 f"but the layer expects {d}")
        q, k, v = self._project(query, key, value, batched)  # (N, H, L or S, head_dim)
        mask = self._mask(attn_mask, key_padding_mask, q.shape[0], q.shape[2], k.shape[2],
                          batched, q.dtype)
        k, v, mask = self._extra_keys(k, v, mask)
        p = self.dropout if self.training else 0.0
        out, weights = attention(q, k, v, mask, dropout_p=p, who=who)
        n, _, L, _ = out.shape
        out = linear(out.transpose((0, 2, 1, 3)).reshape((n, L, self.embed_dim)),
                     self.out_proj.weight, self.out_proj.bias)
        if not batched:
            out = out[0]
        elif not self.batch_first:
            out = out.swapaxes(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(axis=1)
        return out, weights if batched else weights[0]

    def _project(self, query: Tensor, key: Tensor, value: Tensor, batched: bool
                 ) -> tuple[Tensor, Tensor, Tensor]:
        """Q, K, V projected and split into heads, (N, H, length, head_dim); one product for
        all three when query, key and value are one tensor."""
        E, b = self.embed_dim, self.in_proj_bias
        same_qkv = query is key and key is value
        if not batched:
            query, key, value = query[None], key[None], value[None]
        elif not self.batch_first:
            query, key, value = query.swapaxes(0, 1), key.swapaxes(0, 1), value.swapaxes(0, 1)
        if self._qkv_same_embed_dim and same_qkv:
            qkv = linear(query, self.in_proj_weight, b)
            q, k, v = qkv[..., :E], qkv[..., E:2 * E], qkv[..., 2 * E:]
        else:
            if self._qkv_same_embed_dim:
                w = self.in_proj_weight
                wq, wk, wv = w[:E], w[E:2 * E], w[2 * E:]
            else:
                wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
            bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
            q, k, v = linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)
        if q.shape[0] != k.shape[0] or k.shape[:2] != v.shape[:2]:
            raise ValueError(f"MultiheadAttention: query, key and value disagree on the batch "
                             f"or key and value on the length: shapes {query.shape}, "
                             f"{key.shape}, {value.shape} (batch first)")
        return tuple(self._heads(t) for t in (q, k, v))  # type: ignore[return-value]

    def _extra_keys(self, k: Tensor, v: Tensor, mask: Any) -> tuple[Tensor, Tensor, Any]:
        """bias_k and bias_v (add_bias_kv), then a zero key and value (add_zero_attn, as a
        pad: no tensor of the batch's size made outside the graph), appended to every head's
        keys and values (N, H, S, head_dim); the mask gets an attendable (zero) column for
        each."""
        added = 0
        if self.bias_k is not None:
            n, h, _, d = k.shape
            k = ad.concatenate([k, self._heads(self.bias_k).broadcast_to((n, h, 1, d))], axis=2)
            v = ad.concatenate([v, self._heads(self.bias_v).broadcast_to((n, h, 1, d))], axis=2)
            added += 1
        if self.add_zero_attn:
            one_more = ((0, 0), (0, 0), (0, 1), (0, 0))
            k, v = ad.pad(k, one_more), ad.pad(v, one_more)
            added += 1
        if added and mask is not None:
            pad = [(0, 0)] * (mask.ndim - 1) + [(0, added)]
            mask = ad.pad(mask, pad) if isinstance(mask, Tensor) else np.pad(mask, pad)
        return k, v, mask

    def _heads(self, t: Tensor) -> Tensor:
        n, L, _ = t.shape
        return t.reshape((n, L, self.num_heads, self.head_dim)).transpose((0, 2, 1, 3))

    def _mask(self, attn_mask: Any, key_padding_mask: Any, n: int, L: int, S: int,
              batched: bool, dtype: np.dtype) -> Any:
        """attn_mask and key_padding_mask as one additive mask broadcastable to (N, H, L, S),
        or None."""
        who, H = "MultiheadAttention", self.num_heads
        mask = None
        if attn_mask is not None:
            m = _additive(who, "attn_mask", attn_mask, dtype)
            if m.shape == (L, S):
                mask = m
            elif m.shape == ((n * H, L, S) if batched else (H, L, S)):
                mask = m.reshape((n, H, L, S))
            else:
                raise ValueError(f"{who}: attn_mask must have shape {(L, S)} or "
                                 f"{(n * H, L, S) if batched else (H, L, S)}, got {m.shape}")
        if key_padding_mask is not None:
            m = _additive(who, "key_padding_mask", key_padding_mask, dtype)
            if m.shape != ((n, S) if batched else (S,)):
                raise ValueError(f"{who}: key_padding_mask must have shape "
                                 f"{(n, S) if batched else (S,)}, got {m.shape}")
            m = m.reshape((n, 1, 1, S))
            mask = m if mask is None else mask + m
        return mask


def _additive(who: str, name: str, mask: Any, dtype: np.dtype) -> Any:
    """A boolean mask (True: masked) as 0 / -inf in `dtype`; a float mask as it is (a Tensor
    keeps its graph)."""
    m = mask if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype == bool:
        arr = m.data if isinstance(m, Tensor) else m
        return np.where(arr, np.asarray(-np.inf, dtype), np.asarray(0.0, dtype))
    if not np.issubdtype(m.dtype, np.floating):
        raise TypeError(f"{who}: {name} must be boolean or floating, got dtype {m.dtype}")
    if isinstance(m, Tensor):
        if m.requires_grad and m.dtype != dtype:
            raise TypeError(f"{who}: a float {name} that requires grad must have the layer's "
                            f"dtype {dtype}, got {m.dtype}")
        return m if m.requires_grad else m.data.astype(dtype, copy=False)
    return m.astype(dtype, copy=False)
