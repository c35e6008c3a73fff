"""TransformerEncoderLayer and TransformerEncoder, with PyTorch's submodule names.

>>> import autodiff as ad, nn
>>> layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
>>> nn.TransformerEncoder(layer, num_layers=2)(ad.randn(3, 5, 8)).shape
(3, 5, 8)
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import nn.functional as F
from autodiff import Tensor
from nn.attention import MultiheadAttention
from nn.dropout import Dropout
from nn.linear import Linear
from nn.module import Module, ModuleList
from nn.normalization import LayerNorm

_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"relu": F.relu, "gelu": F.gelu}


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block, each with a residual connection and a
    LayerNorm: after the residual (post-norm, PyTorch's default) or before the block
    (`norm_first=True`). Submodules as PyTorch's: self_attn, linear1, dropout, linear2,
    norm1, norm2, dropout1, dropout2. `activation` is 'relu', 'gelu' or a callable.

    >>> import autodiff as ad, nn
    >>> layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, activation="gelu")
    >>> layer(ad.randn(5, 3, 8)).shape
    (5, 3, 8)
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable[[Tensor], Tensor] = "relu",
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ValueError(f"TransformerEncoderLayer: activation must be 'relu', 'gelu' "
                                 f"or a callable, got {activation!r}")
            activation = _ACTIVATIONS[activation]
        elif not callable(activation):
            raise TypeError(f"TransformerEncoderLayer: activation must be 'relu', 'gelu' or a "
                            f"callable, got {activation!r}")
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = activation

    def forward(self, src: Tensor, src_mask: Any = None, src_key_padding_mask: Any = None,
                is_causal: bool = False) -> Tensor:
        """The layer on src ((L, N, E), (N, L, E) with batch_first, or (L, E)); the masks
        as MultiheadAttention's attn_mask and key_padding_mask; `is_causal` a hint that
        src_mask is the causal mask.

        >>> import autodiff as ad, nn
        >>> layer = nn.TransformerEncoderLayer(4, 1, dim_feedforward=8, dropout=0.0)
        >>> layer(ad.randn(3, 4), src_key_padding_mask=ad.tensor([False, False, True])).shape
        (3, 4)
        """
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))

    def _sa_block(self, x: Tensor, attn_mask: Any, key_padding_mask: Any,
                  is_causal: bool) -> Tensor:
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


class TransformerEncoder(Module):
    """`num_layers` deep copies of `encoder_layer` (as `layers.0`, `layers.1`, ...), applied
    in order, then `norm` when given.

    >>> import autodiff as ad, nn
    >>> layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=8)
    >>> enc = nn.TransformerEncoder(layer, 3, norm=nn.LayerNorm(4))
    >>> len(enc.layers), enc.layers[0] is layer
    (3, False)
    """

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"TransformerEncoder: num_layers must be at least 1, got "
                             f"{num_layers}")
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src: Tensor, mask: Any = None, src_key_padding_mask: Any = None,
                is_causal: bool | None = None) -> Tensor:
        """Each layer on the output of the one before, with the same masks.

        >>> import autodiff as ad, nn
        >>> enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 1, 8), 2)
        >>> enc(ad.randn(3, 2, 4), mask=ad.tensor([[0.0, -1e9, -1e9]] * 3)).shape
        (3, 2, 4)
        """
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=bool(is_causal))
        return x if self.norm is None else self.norm(x)
