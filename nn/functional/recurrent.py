"""Recurrent layers as one autodiff primitive per layer and direction: `Recurrence` runs an
Elman RNN (tanh or ReLU), LSTM or GRU over a whole sequence with PyTorch's equations and gate
order, and back-propagates through time (BPTT) by hand.

- The LSTM runs in `nn.functional.lstm_sweep.LSTMSweep` (its own layout, see there).
- RNN and GRU, forward: the input projection of every time step is one matrix product,
  `(T*B, I) @ W_ih^T`; each step then adds one product `h @ W_hh^T` for all the gates at once
  and applies the gate functions in place on the (B, gates*H) block.
- RNN and GRU, backward (first order, arrays): one reverse sweep over the steps that writes
  each step's gate gradients into a (T, B, gates*H) buffer and carries dh back through one
  product `dgates @ W_hh`; after the sweep, dW_ih, dW_hh, the biases and dx are each one
  product or sum over all steps.
- Higher order: when the backward itself must be recorded (`create_graph=True`), it re-runs
  the same recurrence composed of engine ops (`recurrence_composed`) from the saved inputs and
  differentiates that with `autodiff.gradients(..., create_graph=True)`, so gradients of
  gradients are exact, at the speed of the composed graph.

>>> import autodiff as ad
>>> from nn.functional.recurrent import Recurrence
>>> x, h0, c0 = ad.ones((5, 2, 3)), ad.zeros((2, 4)), ad.zeros((2, 4))
>>> w_ih, w_hh = ad.ones((16, 3)) * 0.1, ad.ones((16, 4)) * 0.1
>>> out, h_n, c_n = Recurrence.apply(x, h0, c0, w_ih, w_hh, None, None, mode="LSTM",
...                                  reverse=False)
>>> out.shape, h_n.shape, c_n.shape
((5, 2, 4), (2, 4), (2, 4))
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor
from nn.functional.lstm_sweep import LSTMSweep

# How many gate blocks of hidden_size rows each mode's weights stack (PyTorch's order:
# LSTM i, f, g, o; GRU r, z, n).
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _sigmoid(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """sigma(x) = (1 + tanh(x/2)) / 2 into `out`: no overflow for large |x|, dtype kept."""
    np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


class _Sweep:
    """What one forward sweep of an RNN or GRU keeps for its backward: hs (T+1, B, H) with h0
    first, and the mode's gate activations."""

    def __init__(self, mode: str, x: np.ndarray, h0: np.ndarray, c0: Any, w_ih: np.ndarray,
                 w_hh: np.ndarray, b_ih: Any, b_hh: Any) -> None:
        t, b, _ = x.shape
        h = w_hh.shape[1]
        self.mode, self.x, self.w_ih, self.w_hh = mode, x, w_ih, w_hh
        bias = b_ih
        if b_hh is not None and mode != "GRU":  # the GRU's b_hn sits inside r * (...)
            bias = b_hh if bias is None else bias + b_hh
        w_hh_t = w_hh.T
        gi = np.matmul(x.reshape(t * b, x.shape[2]), w_ih.T).reshape(t, b, w_ih.shape[0])
        if bias is not None:
            gi += bias
        self.hs = np.empty((t + 1, b, h), dtype=gi.dtype)
        self.hs[0] = h0
        # W_hh^T laid out contiguously: h @ W_hh^T then runs as a plain (not transposed)
        # product (143 -> 93 us for the LSTM's (64, 128) @ (128, 512) when it ran here).
        self.w_hh_t = np.ascontiguousarray(w_hh_t)
        getattr(self, "_" + mode.lower())(gi, c0, b_hh)

    def _gru(self, gi: np.ndarray, c0: Any, b_hh: Any) -> None:
        hs, w_t = self.hs, self.w_hh_t
        steps, b, h = gi.shape[0], hs.shape[1], hs.shape[2]
        rz = np.empty((steps, b, 2 * h), dtype=gi.dtype)
        ns = np.empty_like(hs[1:])
        ghn = np.empty_like(hs[1:])
        for t in range(steps):
            gh = np.matmul(hs[t], w_t)
            if b_hh is not None:
                gh += b_hh
            np.add(gi[t, :, :2 * h], gh[:, :2 * h], out=rz[t])
            _sigmoid(rz[t], out=rz[t])
            ghn[t] = gh[:, 2 * h:]
            n = ns[t]
            np.multiply(rz[t, :, :h], ghn[t], out=n)
            n += gi[t, :, 2 * h:]
            np.tanh(n, out=n)
            new = hs[t + 1]  # h' = (1 - z) n + z h = n + z (h - n)
            np.subtract(hs[t], n, out=new)
            new *= rz[t, :, h:]
            new += n
        self.rz, self.ns, self.ghn = rz, ns, ghn

    def _rnn_tanh(self, gi: np.ndarray, c0: Any, b_hh: Any) -> None:
        hs, w_t = self.hs, self.w_hh_t
        for t in range(gi.shape[0]):
            z = gi[t]
            z += np.matmul(hs[t], w_t)
            np.tanh(z, out=hs[t + 1])

    def _rnn_relu(self, gi: np.ndarray, c0: Any, b_hh: Any) -> None:
        hs, w_t = self.hs, self.w_hh_t
        for t in range(gi.shape[0]):
            z = gi[t]
            z += np.matmul(hs[t], w_t)
            np.maximum(z, 0, out=hs[t + 1])

    # -- backward through time ----------------------------------------------------------------

    def backward(self, g_out: np.ndarray, g_hn: np.ndarray, g_cn: Any
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
        """Gate gradients for the input and hidden products, (T, B, gates*H) each, and the
        gradients of h0 and c0 (None)."""
        return getattr(self, "_back_" + self.mode.lower())(g_out, g_hn, g_cn)

    def _back_gru(self, g_out: np.ndarray, g_hn: np.ndarray, g_cn: Any) -> Any:
        rz, ns, ghn, hs, w_hh = self.rz, self.ns, self.ghn, self.hs, self.w_hh
        h = ns.shape[2]
        d_rz = rz * (1 - rz)
        dn_dh = (1 - rz[:, :, h:]) * (1 - ns * ns)  # d (W_in x + b_in + r*(...)) per dh
        h_minus_n = hs[:-1] - ns
        dgi = np.empty((*ns.shape[:2], 3 * h), dtype=ns.dtype)
        dgh = np.empty_like(dgi)
        dh = g_hn.copy()
        for t in range(ns.shape[0] - 1, -1, -1):
            dh += g_out[t]
            di, dhh = dgi[t], dgh[t]
            np.multiply(dh, dn_dh[t], out=di[:, 2 * h:])  # d a_n
            np.multiply(di[:, 2 * h:], rz[t, :, :h], out=dhh[:, 2 * h:])  # d (W_hn h + b_hn)
            np.multiply(di[:, 2 * h:], ghn[t], out=di[:, :h])  # d r
            np.multiply(dh, h_minus_n[t], out=di[:, h:2 * h])  # d z
            di[:, :2 * h] *= d_rz[t]
            dhh[:, :2 * h] = di[:, :2 * h]
            dh *= rz[t, :, h:]
            dh += np.matmul(dhh, w_hh)
        return dgi, dgh, dh, None

    def _back_rnn_tanh(self, g_out: np.ndarray, g_hn: np.ndarray, g_cn: Any) -> Any:
        new = self.hs[1:]
        return self._back_rnn(g_out, g_hn, 1 - new * new)

    def _back_rnn_relu(self, g_out: np.ndarray, g_hn: np.ndarray, g_cn: Any) -> Any:
        return self._back_rnn(g_out, g_hn, (self.hs[1:] > 0).astype(self.hs.dtype))

    def _back_rnn(self, g_out: np.ndarray, g_hn: np.ndarray, d_act: np.ndarray) -> Any:
        dz = np.empty_like(d_act)
        dh = g_hn.copy()
        for t in range(d_act.shape[0] - 1, -1, -1):
            dh += g_out[t]
            np.multiply(dh, d_act[t], out=dz[t])
            dh = np.matmul(dz[t], self.w_hh)
        return dz, dz, dh, None


class Recurrence(ad.Function):
    """One layer, one direction: (x (T, B, I), h0 (B, H), c0 (B, H) or None, W_ih, W_hh,
    b_ih or None, b_hh or None) -> (output (T, B, H), h_n[, c_n]). `mode` is one of GATES;
    `reverse=True` runs from the last step to the first (the output stays in input order)."""

    name = "recurrence"
    array_backward = True  # first order gets arrays; create_graph gets Tensors (see backward)

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, *, mode, reverse):
        ctx.mode, ctx.reverse = mode, reverse
        xs = x[::-1] if reverse else x
        if mode == "LSTM":
            train = ad.is_grad_enabled() and any(ctx.needs_input_grad)
            sweep = LSTMSweep(xs, h0, c0, w_ih, w_hh, b_ih, b_hh, train=train)
            out, last = sweep.out, (sweep.h_n, sweep.c_n)
        else:
            sweep = _Sweep(mode, xs, h0, c0, w_ih, w_hh, b_ih, b_hh)
            out, last = sweep.hs[1:], (sweep.hs[-1].copy(),)
        ctx.sweep = sweep
        out = out[::-1] if reverse else out
        # out is a view of the buffer the backward reads: saved, so a write to it is caught.
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, out)
        return (out, *last)

    @staticmethod
    def backward(ctx, g_out, g_hn, g_cn=None):
        if not ctx._arrays:
            return _backward_composed(ctx, (g_out, g_hn) if g_cn is None else
                                      (g_out, g_hn, g_cn))
        saved = ctx.saved_tensors  # raises, naming the op, on a second backward (graph freed)
        sweep, need = ctx.sweep, ctx.needs_input_grad
        if ctx.reverse:
            g_out = g_out[::-1]
        if ctx.mode == "LSTM":
            if not sweep.take():  # a backward again (retain_graph; or another thread's at once)
                x, *args = saved[:7]  # wrote over the factors: this one makes its own
                sweep = LSTMSweep(x[::-1] if ctx.reverse else x, *args, train=True)
            dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh = sweep.grads(g_out, g_hn, g_cn, need,
                                                                   taken=True)
            if dx is not None and ctx.reverse:
                dx = dx[::-1]
            return dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh
        dgi, dgh, dh0, dc0 = sweep.backward(g_out, g_hn, g_cn)
        t, b, n = dgi.shape
        dgi_flat, dgh_flat = dgi.reshape(t * b, n), dgh.reshape(t * b, n)
        dx = dw_ih = dw_hh = db_ih = db_hh = None
        if need[0]:
            dx = np.matmul(dgi_flat, sweep.w_ih).reshape(t, b, sweep.w_ih.shape[1])
            dx = dx[::-1] if ctx.reverse else dx
        if need[3]:
            dw_ih = np.matmul(dgi_flat.T, sweep.x.reshape(t * b, sweep.x.shape[2]))
        if need[4]:
            dw_hh = np.matmul(dgh_flat.T, sweep.hs[:-1].reshape(t * b, sweep.hs.shape[2]))
        if need[5]:
            db_ih = dgi_flat.sum(axis=0)
        if need[6]:  # the same sum when both products share their gate gradients
            db_hh = db_ih.copy() if dgh is dgi and db_ih is not None else dgh_flat.sum(axis=0)
        return dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh


def _backward_composed(ctx: Any, grads: tuple[Tensor, ...]) -> tuple[Any, ...]:
    """The backward as a recorded graph: re-run the recurrence in engine ops from the saved
    inputs and differentiate it with create_graph=True (derivatives of any order)."""
    inputs = ctx.saved_tensors[:7]
    need = ctx.needs_input_grad
    wrt = [a for a, n in zip(inputs, need) if n]
    with ad.enable_grad():
        outs = recurrence_composed(*inputs, mode=ctx.mode, reverse=ctx.reverse)
    found = iter(ad.gradients(list(outs), wrt, grad_outputs=list(grads), create_graph=True,
                              allow_unused=True))
    return tuple(next(found) if n else None for n in need)


def recurrence_composed(x: Tensor, h0: Tensor, c0: Tensor | None, w_ih: Tensor, w_hh: Tensor,
                        b_ih: Tensor | None, b_hh: Tensor | None, *, mode: str,
                        reverse: bool, w_hr: Tensor | None = None) -> tuple[Tensor, ...]:
    """`Recurrence` written with engine ops, one step at a time (the reference, and the graph
    that second derivatives go through). `w_hr` (P, H), LSTM only: the projection of
    PyTorch's `proj_size`, h_t = (o tanh(c_t)) W_hr^T, so h has P features and c keeps H.

    >>> import autodiff as ad
    >>> out, h_n = recurrence_composed(ad.ones((3, 1, 2)), ad.zeros((1, 2)), None,
    ...                                ad.zeros((2, 2)), ad.zeros((2, 2)), None, None,
    ...                                mode="RNN_TANH", reverse=False)
    >>> out.shape, h_n.tolist()
    ((3, 1, 2), [[0.0, 0.0]])
    """
    h = w_hh.shape[0] // GATES[mode]
    xs = ad.flip(x, axis=0) if reverse else x
    gi = xs @ w_ih.T
    if b_ih is not None:
        gi = gi + b_ih
    state, c, outs = h0, c0, []
    for t in range(x.shape[0]):
        gh = state @ w_hh.T
        if b_hh is not None:
            gh = gh + b_hh
        if mode == "LSTM":
            z = gi[t] + gh
            i, f = ad.sigmoid(z[:, :h]), ad.sigmoid(z[:, h:2 * h])
            g, o = ad.tanh(z[:, 2 * h:3 * h]), ad.sigmoid(z[:, 3 * h:])
            c = f * c + i * g
            state = o * ad.tanh(c)
            if w_hr is not None:
                state = state @ w_hr.T
        elif mode == "GRU":
            r = ad.sigmoid(gi[t][:, :h] + gh[:, :h])
            zg = ad.sigmoid(gi[t][:, h:2 * h] + gh[:, h:2 * h])
            n = ad.tanh(gi[t][:, 2 * h:] + r * gh[:, 2 * h:])
            state = (1 - zg) * n + zg * state
        else:
            z = gi[t] + gh
            state = ad.tanh(z) if mode == "RNN_TANH" else ad.relu(z)
        outs.append(state)
    out = ad.stack(outs, axis=0)
    out = ad.flip(out, axis=0) if reverse else out
    return (out, state, c) if mode == "LSTM" else (out, state)


def run_layer(x: Tensor, h0: Tensor, c0: Tensor | None, w_ih: Tensor, w_hh: Tensor,
              b_ih: Tensor | None, b_hh: Tensor | None, w_hr: Tensor | None = None, *,
              mode: str, reverse: bool) -> tuple[Tensor, ...]:
    """One layer and direction: the `Recurrence` primitive, or with an LSTM projection
    (`w_hr`, PyTorch's proj_size) the steps in engine ops (`recurrence_composed`), which the
    primitive's sweep does not cover.

    >>> import autodiff as ad
    >>> x, h0, c0 = ad.ones((5, 2, 3)), ad.zeros((2, 2)), ad.zeros((2, 4))
    >>> w_ih, w_hh, w_hr = ad.ones((16, 3)) * 0.1, ad.ones((16, 2)) * 0.1, ad.ones((2, 4))
    >>> [t.shape for t in run_layer(x, h0, c0, w_ih, w_hh, None, None, w_hr, mode="LSTM",
    ...                             reverse=False)]
    [(5, 2, 2), (2, 2), (2, 4)]
    """
    if w_hr is None:
        return Recurrence.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode=mode, reverse=reverse)
    return recurrence_composed(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode=mode, reverse=reverse,
                               w_hr=w_hr)
