"""Recurrent layers with PyTorch's names, parameter names, gate order and initialization:
RNN, LSTM, GRU (multi-layer, bidirectional, batch_first, dropout between layers) and the
single-step cells RNNCell, LSTMCell, GRUCell. Each layer and direction runs as one
`Recurrence` primitive (see `nn.functional.recurrent`). RNN, LSTM and GRU also take a
`PackedSequence` (`nn.utils.rnn`): each sequence then runs to its own length
(`nn.functional.packed_recurrence`), and the output is packed the same way.

>>> import autodiff as ad, nn
>>> lstm = nn.LSTM(28, 16, num_layers=2, batch_first=True)
>>> out, (h_n, c_n) = lstm(ad.randn(4, 7, 28))
>>> out.shape, h_n.shape, c_n.shape
((4, 7, 16), (2, 4, 16), (2, 4, 16))
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import autodiff as ad
from autodiff import Tensor
from nn import init
from nn.functional.dropout import dropout as _dropout
from nn.functional.packed_recurrence import packed_recurrence
from nn.functional.recurrent import GATES, Recurrence, run_layer
from nn.module import Module, Parameter
from nn.utils.rnn import PackedSequence, packed_batch_sizes


def _positive(layer: str, **sizes: int) -> None:
    for name, v in sizes.items():
        if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
            raise ValueError(f"{layer}: {name} must be a positive int, got {v!r}")


def _as_tensor(v: Any) -> Tensor:
    return v if isinstance(v, Tensor) else ad.tensor(v)


def _check_state(layer: str, arg: str, s: Tensor, shape: tuple[int, ...], dtype: Any) -> None:
    if s.shape != shape:
        raise ValueError(f"{layer}: expected {arg} of shape {shape}, got {s.shape}")
    if s.dtype != dtype:
        raise TypeError(f"{layer}: {arg} has dtype {s.dtype} but the parameters have {dtype}")


def _check_input(layer: str, x: Tensor, ndims: tuple[int, int], input_size: int,
                 dtype: Any) -> None:
    if x.ndim not in ndims:
        raise ValueError(f"{layer}: expected input with {ndims[0]} (unbatched) or {ndims[1]} "
                         f"(batched) dimensions, got shape {x.shape}")
    if x.shape[-1] != input_size:
        raise ValueError(f"{layer}: input.shape[-1] must equal input_size={input_size}, got "
                         f"input of shape {x.shape}")
    if x.dtype != dtype:
        raise TypeError(f"{layer}: input has dtype {x.dtype} but the parameters have {dtype}")


class RNNBase(Module):
    """The multi-layer recurrence shared by RNN, LSTM and GRU: layer k, direction d has
    `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}` (suffix `_reverse` for
    d = 1), of shapes (gates*H, in), (gates*H, H), (gates*H,), all ~ U(-1/sqrt(H), 1/sqrt(H)).

    >>> import nn
    >>> [name for name, _ in nn.GRU(3, 4, bidirectional=True).named_parameters()][:5]
    ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0', 'weight_ih_l0_reverse']
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, dtype: Any = None) -> None:
        super().__init__()
        layer = type(self).__name__
        _positive(layer, input_size=input_size, hidden_size=hidden_size,
                  num_layers=num_layers)
        if isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(f"{layer}: dropout must be a number in [0, 1], got {dropout!r}")
        if isinstance(proj_size, bool) or not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError(f"{layer}: proj_size must be an int >= 0 (0: no projection), got "
                             f"{proj_size!r}")
        if proj_size and mode != "LSTM":
            raise ValueError(f"{layer}: proj_size is only supported for LSTM, got "
                             f"proj_size={proj_size}")
        if proj_size >= hidden_size:
            raise ValueError(f"{layer}: proj_size={proj_size} must be smaller than "
                             f"hidden_size={hidden_size}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{layer}: dropout={dropout} and num_layers=1: dropout acts between "
                          "layers only, so it does nothing here", stacklevel=2)
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.proj_size = proj_size
        rows, h_out = GATES[mode] * hidden_size, proj_size or hidden_size
        for k in range(num_layers):
            cols = input_size if k == 0 else h_out * (2 if bidirectional else 1)
            for suffix in ("", "_reverse") if bidirectional else ("",):
                shapes = {"weight_ih": (rows, cols), "weight_hh": (rows, h_out)}
                if bias:
                    shapes.update(bias_ih=(rows,), bias_hh=(rows,))
                if proj_size:
                    shapes.update(weight_hr=(proj_size, hidden_size))
                for name, shape in shapes.items():
                    setattr(self, f"{name}_l{k}{suffix}", Parameter(ad.zeros(shape, dtype=dtype)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch.

        >>> import nn
        >>> rnn = nn.RNN(2, 4)
        >>> rnn.reset_parameters()
        >>> bool((abs(rnn.weight_hh_l0.data) <= 0.5).all())
        True
        """
        bound = 1 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def flatten_parameters(self) -> None:
        """Nothing to do (PyTorch packs cuDNN weights here); kept so ported code runs.

        >>> import nn
        >>> nn.LSTM(2, 3).flatten_parameters()
        """

    def _weights(self, k: int, d: int) -> tuple[Any, ...]:
        s = f"l{k}" + ("_reverse" if d else "")
        b_ih = getattr(self, f"bias_ih_{s}") if self.bias else None
        b_hh = getattr(self, f"bias_hh_{s}") if self.bias else None
        w_hr = getattr(self, f"weight_hr_{s}") if self.proj_size else None
        return getattr(self, f"weight_ih_{s}"), getattr(self, f"weight_hh_{s}"), b_ih, b_hh, w_hr

    def _states(self, hx: Any, batch: int, batched: bool, dtype: Any
                ) -> tuple[Tensor, Tensor | None]:
        """h0 (and c0 for the LSTM) as (layers*directions, B, H), checked (h0's last axis is
        proj_size when the LSTM projects)."""
        layer = type(self).__name__
        n = self.num_layers * (2 if self.bidirectional else 1)
        shapes = [(n, batch, self.proj_size or self.hidden_size), (n, batch, self.hidden_size)]
        lstm = self.mode == "LSTM"
        if hx is None:
            return (ad.zeros(shapes[0], dtype=dtype),
                    ad.zeros(shapes[1], dtype=dtype) if lstm else None)
        if lstm and not (isinstance(hx, tuple | list) and len(hx) == 2):
            raise TypeError(f"{layer}: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
        if not lstm and isinstance(hx, tuple | list):
            raise TypeError(f"{layer}: hx must be a Tensor h_0, got a {type(hx).__name__}")
        states = [_as_tensor(s) for s in (hx if lstm else (hx,))]
        for arg, s, shape in zip(("h_0", "c_0"), states, shapes):
            _check_state(layer, arg, s, shape if batched else (shape[0], shape[2]), dtype)
        if not batched:
            states = [s.reshape(shape) for s, shape in zip(states, shapes)]
        return states[0], (states[1] if lstm else None)

    def forward(self, input: Any, hx: Any = None) -> tuple[Any, Any]:
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        x = _as_tensor(input)
        w0, given = self.weight_ih_l0, x.shape
        _check_input(type(self).__name__, x, (2, 3), self.input_size, w0.dtype)
        batched = x.ndim == 3
        if not batched:
            x = x.reshape(x.shape[0], 1, x.shape[1])
        elif self.batch_first:
            x = x.swapaxes(0, 1)
        if x.shape[0] == 0:  # as PyTorch: no steps, no h_n to return
            raise ValueError(f"{type(self).__name__}: expected a sequence length larger than "
                             f"0, got input of shape {given}")
        h0, c0 = self._states(hx, x.shape[1], batched, w0.dtype)

        def run(x: Tensor, h: Tensor, c: Tensor | None, weights: tuple[Any, ...],
                reverse: bool) -> tuple[Any, ...]:
            res = run_layer(x, h, c, *weights, mode=self.mode, reverse=reverse)
            return res if c is not None else (*res, None)

        out, h, c = self._layers(x, h0, c0, run)
        if not batched:
            out = out.reshape(out.shape[0], out.shape[2])
            h = h.reshape(h.shape[0], h.shape[2])
            c = c.reshape(c.shape[0], c.shape[2]) if c is not None else None
        elif self.batch_first:
            out = out.swapaxes(0, 1)
        return out, ((h, c) if c is not None else h)

    def _layers(self, x: Tensor, h0: Tensor, c0: Tensor | None, run: Any
                ) -> tuple[Tensor, Tensor, Tensor | None]:
        """Every layer and direction in turn, `run(x, h0, c0, weights, reverse)` giving one's
        (output, h_n, c_n or None), dropout between layers in training: the last layer's
        output and the stacked final states."""
        dirs = 2 if self.bidirectional else 1
        h_n, c_n = [], []
        for k in range(self.num_layers):
            outs = []
            for d in range(dirs):
                i = k * dirs + d
                out, h, c = run(x, h0[i], None if c0 is None else c0[i], self._weights(k, d),
                                d == 1)
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = outs[0] if dirs == 1 else ad.concatenate(outs, axis=-1)
            if self.dropout and self.training and k < self.num_layers - 1:
                x = _dropout(x, self.dropout, True)
        return x, ad.stack(h_n, axis=0), ad.stack(c_n, axis=0) if c0 is not None else None

    def _forward_packed(self, input: PackedSequence, hx: Any) -> tuple[PackedSequence, Any]:
        """A packed batch: each sequence stops at its own length (`packed_recurrence`); hx and
        the states returned are in the batch's original order, as PyTorch's."""
        layer, x, w0 = type(self).__name__, input.data, self.weight_ih_l0
        if x.ndim != 2:
            raise ValueError(f"{layer}: a PackedSequence's data must be (sum of lengths, "
                             f"input_size), got shape {x.shape}")
        _check_input(layer, x, (2, 2), self.input_size, w0.dtype)
        batch_sizes = packed_batch_sizes(layer, input)
        h0, c0 = self._states(hx, int(batch_sizes[0]), True, w0.dtype)
        if hx is not None and input.sorted_indices is not None:  # into the packed order
            order = input.sorted_indices.data
            h0, c0 = h0[:, order], None if c0 is None else c0[:, order]

        def run(x: Tensor, h: Tensor, c: Tensor | None, weights: tuple[Any, ...],
                reverse: bool) -> tuple[Any, ...]:
            return packed_recurrence(x, batch_sizes, h, c, *weights[:4], mode=self.mode,
                                     reverse=reverse, w_hr=weights[4])

        x, h, c = self._layers(x, h0, c0, run)
        if input.unsorted_indices is not None:  # back to the original order
            back = input.unsorted_indices.data
            h, c = h[:, back], None if c is None else c[:, back]
        out = PackedSequence(x, input.batch_sizes, input.sorted_indices, input.unsorted_indices)
        return out, ((h, c) if c is not None else h)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        return s


def _rnn_mode(layer: str, nonlinearity: str) -> str:
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{layer}: nonlinearity must be 'tanh' or 'relu', got "
                         f"{nonlinearity!r}")
    return "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu). Input (T, B,
    input_size), (B, T, input_size) with batch_first, or (T, input_size) unbatched; returns
    (output, h_n), output (T, B, D*H) holding the last layer's h_t, h_n (layers*D, B, H).

    >>> import autodiff as ad, nn
    >>> out, h_n = nn.RNN(3, 5, num_layers=2, nonlinearity="relu")(ad.randn(6, 2, 3))
    >>> out.shape, h_n.shape
    ((6, 2, 5), (2, 2, 5))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, dtype: Any = None) -> None:
        super().__init__(_rnn_mode("RNN", nonlinearity), input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory, PyTorch's gate order (i, f, g, o) in the weights' rows:
    i, f, o = sigma(.), g = tanh(.), c_t = f c_{t-1} + i g, h_t = o tanh(c_t). Returns
    (output, (h_n, c_n)); `hx` is an optional (h_0, c_0). With `proj_size` P > 0,
    h_t = (o tanh(c_t)) W_hr^T has P features (weights `weight_hr_l{k}` (P, H)), as PyTorch;
    those layers run their steps in engine ops, not the fused sweep.

    >>> import autodiff as ad, nn
    >>> out, (h_n, c_n) = nn.LSTM(3, 5, bidirectional=True)(ad.randn(6, 3))  # unbatched
    >>> out.shape, h_n.shape, c_n.shape
    ((6, 10), (2, 5), (2, 5))
    >>> from nn.utils.rnn import pack_padded_sequence       # lengths 6 and 2
    >>> packed = pack_padded_sequence(ad.randn(6, 2, 3), [6, 2])
    >>> out, (h_n, c_n) = nn.LSTM(3, 5)(packed)
    >>> out.data.shape, h_n.shape
    ((8, 5), (1, 2, 5))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, dtype: Any = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, dtype)


class GRU(RNNBase):
    """Gated recurrent unit, PyTorch's gate order (r, z, n): r, z = sigma(.),
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h_t = (1 - z) n + z h_{t-1}.

    >>> import autodiff as ad, nn
    >>> out, h_n = nn.GRU(3, 5, batch_first=True)(ad.randn(2, 6, 3))
    >>> out.shape, h_n.shape
    ((2, 6, 5), (1, 2, 5))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, dtype: Any = None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, dtype=dtype)


class RNNCellBase(Module):
    """One step of a recurrence: `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh` as PyTorch's
    cells, ~ U(-1/sqrt(H), 1/sqrt(H)). Input (B, input_size) or (input_size,).

    >>> import nn
    >>> [name for name, _ in nn.GRUCell(3, 4).named_parameters()]
    ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, bias: bool = True,
                 dtype: Any = None) -> None:
        super().__init__()
        _positive(type(self).__name__, input_size=input_size, hidden_size=hidden_size)
        self.mode, self.input_size, self.hidden_size, self.bias = (mode, input_size,
                                                                   hidden_size, bias)
        rows = GATES[mode] * hidden_size
        self.weight_ih = Parameter(ad.zeros((rows, input_size), dtype=dtype))
        self.weight_hh = Parameter(ad.zeros((rows, hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(ad.zeros(rows, dtype=dtype))
            self.bias_hh = Parameter(ad.zeros(rows, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        bound = 1 / math.sqrt(hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _step(self, input: Any, hx: Any) -> tuple[Tensor, ...]:
        layer = type(self).__name__
        x = _as_tensor(input)
        dtype = self.weight_ih.dtype
        _check_input(layer, x, (1, 2), self.input_size, dtype)
        batched = x.ndim == 2
        b = x.shape[0] if batched else 1
        shape = (b, self.hidden_size) if batched else (self.hidden_size,)
        lstm = self.mode == "LSTM"
        if hx is None:
            states = [ad.zeros(shape, dtype=dtype)] * (2 if lstm else 1)
        else:
            if lstm != isinstance(hx, tuple | list) or (lstm and len(hx) != 2):
                want = "a tuple (h, c)" if lstm else "a Tensor h"
                raise TypeError(f"{layer}: hx must be {want}, got {type(hx).__name__}")
            states = [_as_tensor(s) for s in (hx if lstm else (hx,))]
            for arg, s in zip(("h", "c"), states):
                _check_state(layer, arg, s, shape, dtype)
        states = [s.reshape(b, self.hidden_size) for s in states]
        res = Recurrence.apply(x.reshape(1, b, self.input_size), states[0],
                               states[1] if lstm else None, self.weight_ih, self.weight_hh,
                               self.bias_ih, self.bias_hh, mode=self.mode, reverse=False)
        return tuple(r if batched else r.reshape(self.hidden_size) for r in res[1:])

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu); h defaults to zeros.

    >>> import autodiff as ad, nn
    >>> nn.RNNCell(3, 5)(ad.randn(2, 3)).shape
    (2, 5)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", dtype: Any = None) -> None:
        super().__init__(_rnn_mode("RNNCell", nonlinearity), input_size, hidden_size, bias,
                         dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Any, hx: Any = None) -> Tensor:
        return self._step(input, hx)[0]


class LSTMCell(RNNCellBase):
    """One LSTM step: returns (h', c'); `hx` is an optional (h, c).

    >>> import autodiff as ad, nn
    >>> h, c = nn.LSTMCell(3, 5)(ad.randn(2, 3))
    >>> h.shape, c.shape
    ((2, 5), (2, 5))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 dtype: Any = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, bias, dtype)

    def forward(self, input: Any, hx: Any = None) -> tuple[Tensor, Tensor]:
        h, c = self._step(input, hx)
        return h, c


class GRUCell(RNNCellBase):
    """One GRU step: returns h'.

    >>> import autodiff as ad, nn
    >>> nn.GRUCell(3, 5)(ad.randn(3)).shape
    (5,)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 dtype: Any = None) -> None:
        super().__init__("GRU", input_size, hidden_size, bias, dtype)

    def forward(self, input: Any, hx: Any = None) -> Tensor:
        return self._step(input, hx)[0]
