"""TransformerDecoderLayer, TransformerDecoder and Transformer, with PyTorch's submodule
names, arguments, masks and initialization (see `nn.transformer` for the encoder).

>>> import autodiff as ad, nn
>>> model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
...                        dim_feedforward=16, dropout=0.0)
>>> src, tgt = ad.randn(5, 3, 8), ad.randn(4, 3, 8)
>>> model(src, tgt, tgt_mask=nn.Transformer.generate_square_subsequent_mask(4)).shape
(4, 3, 8)
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor
from nn import init
from nn.attention import MultiheadAttention
from nn.dropout import Dropout
from nn.linear import Linear
from nn.module import Module, ModuleList
from nn.normalization import LayerNorm
from nn.transformer import _ACTIVATIONS, TransformerEncoder, TransformerEncoderLayer


def _activation(who: str, activation: Any) -> Callable[[Tensor], Tensor]:
    if isinstance(activation, str):
        if activation not in _ACTIVATIONS:
            raise ValueError(f"{who}: activation must be 'relu', 'gelu' or a callable, got "
                             f"{activation!r}")
        return _ACTIVATIONS[activation]
    if not callable(activation):
        raise TypeError(f"{who}: activation must be 'relu', 'gelu' or a callable, got "
                        f"{activation!r}")
    return activation


class TransformerDecoderLayer(Module):
    """Self-attention on the target, attention from the target to `memory` (the encoder's
    output), and a feed-forward block, each with a residual connection and a LayerNorm:
    after the residual (post-norm, PyTorch's default) or before the block
    (`norm_first=True`). Submodules as PyTorch's: self_attn, multihead_attn, linear1,
    dropout, linear2, norm1, norm2, norm3, dropout1, dropout2, dropout3.

    >>> import autodiff as ad, nn
    >>> layer = nn.TransformerDecoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    >>> layer(ad.randn(4, 3, 8), ad.randn(5, 3, 8)).shape
    (4, 3, 8)
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable[[Tensor], Tensor] = "relu",
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        activation = _activation("TransformerDecoderLayer", activation)
        kw = {"dropout": dropout, "bias": bias, "batch_first": batch_first, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        for i in (1, 2, 3):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias,
                                                dtype=dtype))
        for i in (1, 2, 3):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = activation

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Any = None,
                memory_mask: Any = None, tgt_key_padding_mask: Any = None,
                memory_key_padding_mask: Any = None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False) -> Tensor:
        """The layer on tgt ((T, N, E), (N, T, E) with batch_first, or (T, E)) and memory
        ((S, N, E), ...); the masks as MultiheadAttention's attn_mask and key_padding_mask
        (tgt_*: the target's self-attention, memory_*: its attention to memory).

        >>> import autodiff as ad, nn
        >>> layer = nn.TransformerDecoderLayer(4, 2, 8, batch_first=True)
        >>> layer(ad.randn(2, 3, 4), ad.randn(2, 5, 4)).shape
        (2, 3, 4)
        """
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask,
                                   tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                           memory_is_causal))
        return self.norm3(x + self._ff_block(x))

    def _sa_block(self, x: Tensor, attn_mask: Any, key_padding_mask: Any,
                  is_causal: bool) -> Tensor:
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _mha_block(self, x: Tensor, mem: Tensor, attn_mask: Any, key_padding_mask: Any,
                   is_causal: bool) -> Tensor:
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, need_weights=False,
                                is_causal=is_causal)[0]
        return self.dropout2(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoder(Module):
    """`num_layers` deep copies of `decoder_layer` (as `layers.0`, `layers.1`, ...), each
    applied to the output of the one before with the same memory and masks, then `norm`
    when given.

    >>> import autodiff as ad, nn
    >>> decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(4, 2, 8), num_layers=2)
    >>> decoder(ad.randn(3, 2, 4), ad.randn(5, 2, 4)).shape
    (3, 2, 4)
    """

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None
                 ) -> None:
        super().__init__()
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"TransformerDecoder: num_layers must be an int of at least 1, "
                             f"got {num_layers!r}")
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Any = None,
                memory_mask: Any = None, tgt_key_padding_mask: Any = None,
                memory_key_padding_mask: Any = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        """Each layer on the output of the one before.

        >>> import autodiff as ad, nn
        >>> decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(4, 2, 8), 1)
        >>> decoder(ad.randn(3, 4), ad.randn(5, 4)).shape
        (3, 4)
        """
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal)
        return x if self.norm is None else self.norm(x)


class Transformer(Module):
    """PyTorch's encoder-decoder Transformer: `encoder` (TransformerEncoder of
    `num_encoder_layers` layers and a final LayerNorm) and `decoder` (TransformerDecoder,
    likewise), or `custom_encoder` / `custom_decoder`; every parameter of two or more axes
    drawn by xavier_uniform_, as PyTorch's `_reset_parameters`.

    >>> import nn
    >>> model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1,
    ...                        dim_feedforward=16)
    >>> len(model.encoder.layers), len(model.decoder.layers)
    (2, 1)
    >>> sum(p.size for p in model.parameters())  # as PyTorch's
    2136
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable[[Tensor], Tensor] = "relu",
                 custom_encoder: Module | None = None, custom_decoder: Module | None = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        kw = {"dim_feedforward": dim_feedforward, "dropout": dropout, "activation": activation,
              "layer_norm_eps": layer_norm_eps, "batch_first": batch_first,
              "norm_first": norm_first, "bias": bias, "dtype": dtype}
        norm = {"eps": layer_norm_eps, "bias": bias, "dtype": dtype}
        self.encoder = custom_encoder if custom_encoder is not None else TransformerEncoder(
            TransformerEncoderLayer(d_model, nhead, **kw), num_encoder_layers,
            LayerNorm(d_model, **norm))
        self.decoder = custom_decoder if custom_decoder is not None else TransformerDecoder(
            TransformerDecoderLayer(d_model, nhead, **kw), num_decoder_layers,
            LayerNorm(d_model, **norm))
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Any = None, tgt_mask: Any = None,
                memory_mask: Any = None, src_key_padding_mask: Any = None,
                tgt_key_padding_mask: Any = None, memory_key_padding_mask: Any = None,
                src_is_causal: bool | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        """The decoder's output for `tgt` attending to the encoded `src` (shapes as the
        layers'; the batch sizes must agree and the features equal d_model).

        >>> import autodiff as ad, nn
        >>> model = nn.Transformer(4, 2, 1, 1, 8, batch_first=True)
        >>> model(ad.randn(2, 5, 4), ad.randn(2, 3, 4)).shape
        (2, 3, 4)
        """
        batched = src.ndim == 3
        axis = 0 if self.batch_first else 1
        if batched and src.shape[axis] != tgt.shape[axis]:
            raise ValueError(f"Transformer: the batch number of src and tgt must be equal, got "
                             f"shapes {src.shape} and {tgt.shape}")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ValueError(f"Transformer: the feature number of src and tgt must be equal "
                             f"to d_model={self.d_model}, got shapes {src.shape} and "
                             f"{tgt.shape}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, dtype: Any = None) -> Tensor:
        """The causal float mask (sz, sz): 0 on and below the diagonal, -inf above, as
        PyTorch's.

        >>> import nn
        >>> nn.Transformer.generate_square_subsequent_mask(3).tolist()
        [[0.0, -inf, -inf], [0.0, 0.0, -inf], [0.0, 0.0, 0.0]]
        """
        mask = np.triu(np.full((sz, sz), -np.inf), 1)
        return ad.tensor(mask.astype(ad.get_default_dtype() if dtype is None else dtype))
