"""The LSTM's forward sweep and its backward through time (BPTT), laid out for speed: what
`Recurrence` runs for `mode="LSTM"` (first order; higher orders go through the composed graph).

Layout, and why (measured figures in docs/performance.md):

- Transposed: every per-step array is (rows, B), so each gate, the cell and the hidden state of
  a step are contiguous (H, B) blocks. NumPy runs an element-wise op on a contiguous block as
  one loop; on the (B, H) columns of a (B, 4H) product it runs one loop per row, 2-3x slower.
- One product per step gives every gate, input projection and bias included:
  `z_t = W [h_{t-1}; x_t; 1]` with `W = [W_hh | W_ih | b_ih + b_hh]` (4H, K), K = H + I + 1.
  The columns `[h_{t-1}; x_t; 1]` live in one buffer `hx` (T+1, K, B) that the sweep fills as it
  goes; the backward then gets dW_hh, dW_ih and the bias from the same product per step,
  `dz_t [h_{t-1}; x_t; 1]^T`.
- The gates are kept in the order o, i, f, g (PyTorch's rows are i, f, g, o): the three
  sigmoids are one block (sigma(z) = tanh(z/2)/2 + 1/2, the halving folded into W's rows,
  exact), and in the backward i, f, g are the block that dc multiplies.
- When a backward will follow, each step's derivative factors are computed in the forward,
  on blocks still in cache, and kept per step in one buffer (T, 6H, B):
  `[D_o, D_i, D_f, D_g, f, o (1 - tanh(c)^2)]`, with `dz_o = dh D_o` and
  `dz_{i,f,g} = dc D_{i,f,g}`. The backward's step is then a few element-wise ops and two
  products, and it writes dz over the factors in place.
- The large buffers come from `autodiff.buffers.scratch`: a training step reuses the last
  step's memory instead of taking fresh pages from the operating system.

>>> import numpy as np
>>> from nn.functional.lstm_sweep import LSTMSweep
>>> x, h0, c0 = np.ones((5, 2, 3)), np.zeros((2, 4)), np.zeros((2, 4))
>>> w_ih, w_hh = np.full((16, 3), 0.1), np.full((16, 4), 0.1)
>>> s = LSTMSweep(x, h0, c0, w_ih, w_hh, None, None, train=True)
>>> s.out.shape, s.h_n.shape, s.c_n.shape
((5, 2, 4), (2, 4), (2, 4))
>>> dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh = s.grads(
...     np.zeros((5, 2, 4)), np.ones((2, 4)), np.zeros((2, 4)), [True] * 5 + [False] * 2)
>>> dx.shape, dw_ih.shape, dw_hh.shape, db_ih
((5, 2, 3), (16, 3), (16, 4), None)
"""

from __future__ import annotations

import functools
import math
import threading
from typing import Any

import numpy as np

from autodiff.buffers import MIN_BYTES, scratch

ORDER = (3, 0, 1, 2)  # the internal gate blocks o, i, f, g, as indices into PyTorch's i, f, g, o


@functools.lru_cache(maxsize=64)
def _rows(h: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows of PyTorch's (4H, ...) gate stack in the internal order o, i, f, g, and back."""
    rows = np.concatenate([np.arange(k * h, (k + 1) * h) for k in ORDER])
    back = np.argsort(rows)
    rows.flags.writeable = back.flags.writeable = False  # cached: shared by every call
    return rows, back


def _carve(dtype: Any, *shapes: tuple[int, ...]) -> list[np.ndarray]:
    """Arrays of these shapes, views of one pooled buffer (`autodiff.buffers.scratch`; at
    least the pool's smallest size, so that short sequences and cells are pooled too)."""
    sizes = [math.prod(s) for s in shapes]
    flat = scratch((max(sum(sizes), -(-MIN_BYTES // np.dtype(dtype).itemsize)),), dtype)
    ends = np.cumsum(sizes).tolist()
    return [flat[e - n:e].reshape(s) for s, n, e in zip(shapes, sizes, ends)]


_take_lock = threading.Lock()  # LSTMSweep.take: one backward's claim at a time


class LSTMSweep:
    """One LSTM layer and direction over x (T, B, I) from h0, c0 (B, H): `out` (T, B, H) (a
    view of the buffer the backward reads), `h_n`, `c_n`; `grads(...)` gives the gradients of
    every input. `train=False` keeps no derivative factors (a forward only)."""

    def __init__(self, x: np.ndarray, h0: np.ndarray, c0: np.ndarray, w_ih: np.ndarray,
                 w_hh: np.ndarray, b_ih: Any, b_hh: Any, train: bool) -> None:
        steps, b, n_in = x.shape
        h = w_hh.shape[1]
        dtype = np.result_type(x, w_ih, w_hh)
        bias = b_ih if b_hh is None else b_hh if b_ih is None else b_ih + b_hh
        k = h + n_in + (bias is not None)
        # hx, W and the sweep's small blocks in one pooled buffer (fresh pages cost a fault each)
        hx, w, cc, tc, p = _carve(dtype, (steps + 1, k, b), (4 * h, k), (2, h, b), (h, b),
                                  (3, h, b))
        # W: rows o, i, f, g; the sigmoid gates' rows halved (exact): tanh of z/2 then gives
        # sigma(z) = tanh(z/2)/2 + 1/2
        rows = _rows(h)[0]
        w[:, :h] = w_hh[rows]
        w[:, h:h + n_in] = w_ih[rows]
        if bias is not None:
            w[:, h + n_in] = bias[rows]
        w[:3 * h] *= 0.5
        hx[0, :h] = h0.T  # per step: [h_{t-1}; x_t; 1] as columns
        hx[:steps, h:h + n_in] = x.transpose(0, 2, 1)
        hx[steps, h:h + n_in] = 0  # never multiplied; defined all the same
        if bias is not None:
            hx[:, h + n_in] = 1
        self.shape, self.dtype = (steps, b, n_in, h), dtype
        self.w_ih, self.w_hh, self.hx, self.train = w_ih, w_hh, hx, train
        self.spent = False  # True once grads() has written dz over the kept factors
        if train:  # the backward's buffers too: dW and one step's term
            self.keep, *self.work = _carve(dtype, (steps, 6 * h, b), (4 * h, k), (4 * h, k))
        else:
            self.keep = np.empty((1, 6 * h, b), dtype)
        self.c_n = self._forward(w, c0, cc, tc, p).T.copy()
        self.out = hx[1:, :h].transpose(0, 2, 1)
        self.h_n = hx[steps, :h].T.copy()

    def _forward(self, w: np.ndarray, c0: np.ndarray, cc: np.ndarray, tc: np.ndarray,
                 p: np.ndarray) -> np.ndarray:
        """The sweep; returns c_T as (H, B). `cc` holds c_{t-1} and c_t, `tc` tanh(c_t), `p`
        (h_t, i g, f c_{t-1}): what D_o, D_i, D_f multiply."""
        hx, keep, train = self.hx, self.keep, self.train
        steps, b, _, h = self.shape
        c, c_new = cc
        c[...] = c0.T
        for t in range(steps):
            blk = keep[t if train else 0]
            a = blk[:4 * h]
            np.matmul(w, hx[t], out=a)
            np.tanh(a, out=a)
            sig = a[:3 * h]
            sig *= 0.5
            sig += 0.5
            o, i, f, g = a[:h], a[h:2 * h], a[2 * h:3 * h], a[3 * h:]
            np.multiply(f, c, out=p[2])
            np.multiply(i, g, out=p[1])
            np.add(p[2], p[1], out=c_new)
            np.tanh(c_new, out=tc)
            h_new = hx[t + 1, :h]
            np.multiply(o, tc, out=h_new)
            if train:
                # kept: f, and o (1 - tanh(c)^2) = o - h tanh(c) (dc through h = o tanh(c))
                np.copyto(blk[4 * h:5 * h], f)
                od = blk[5 * h:]
                np.multiply(h_new, tc, out=od)
                np.subtract(o, od, out=od)
                # D_g = i (1 - g^2) = i - (i g) g; then for the sigmoids sigma' = s (1 - s):
                # D_o = h (1 - o), D_i = i g (1 - i), D_f = f c' (1 - f), as one product
                np.multiply(p[1], g, out=g)
                np.subtract(i, g, out=g)
                np.copyto(p[0], h_new)
                np.subtract(1, sig, out=sig)
                np.multiply(sig.reshape(3, h, b), p, out=sig.reshape(3, h, b))
            c, c_new = c_new, c
        return c

    def take(self) -> bool:
        """Claim the derivative factors for one backward, which writes its dz over them: True
        for the first caller; False without factors, or once claimed (by an earlier backward,
        or by another thread's at the same moment: the check and the claim are one step)."""
        with _take_lock:
            if not self.train or self.spent:
                return False
            self.spent = True
            return True

    def grads(self, g_out: np.ndarray, g_hn: np.ndarray, g_cn: np.ndarray, need: list[bool],
              *, taken: bool = False) -> tuple[Any, ...]:
        """Gradients of (x, h0, c0, w_ih, w_hh, b_ih, b_hh) from those of (out, h_n, c_n);
        `need` says which are wanted (the states' are always computed). It claims the factors
        (`take`) unless the caller did (`taken=True`)."""
        if not taken and not self.take():
            raise RuntimeError("LSTMSweep.grads: no derivative factors (the forward ran with "
                               "train=False, or a backward wrote its dz over them)")
        keep, hx = self.keep, self.hx
        steps, b, n_in, h = self.shape
        dtype = self.dtype
        # [dh; dx] = [W_hh | W_ih]^T dz (rows o, i, f, g): one product per step gives both
        # (the transpose a view: BLAS takes it as it is, as fast as a contiguous copy)
        dw, dw_t = self.work
        rows, back_rows = _rows(h)
        w_back = np.concatenate((self.w_hh, self.w_ih), axis=1) if need[0] else self.w_hh
        back = w_back[rows].T
        dhx = _carve(dtype, (steps, h + n_in, b))[0] if need[0] else None  # [dh; dx] per step
        dh = np.array(g_hn.T, dtype=dtype, order="C")
        dc = np.array(g_cn.T, dtype=dtype, order="C")
        # the gradient of an unused output arrives as zeros: one test instead of T adds
        g_t = g_out.transpose(0, 2, 1) if g_out.any() else None
        weights = any(need[3:])
        tmp = np.empty_like(dh)
        for t in range(steps - 1, -1, -1):
            blk = keep[t]
            if g_t is not None:
                dh += g_t[t]
            np.multiply(dh, blk[5 * h:], out=tmp)
            dc += tmp
            ifg = blk[h:4 * h].reshape(3, h, b)
            np.multiply(dc, ifg, out=ifg)
            np.multiply(dh, blk[:h], out=blk[:h])
            dz = blk[:4 * h]
            if weights:  # dW += dz_t [h_{t-1}; x_t; 1]^T
                if t == steps - 1:
                    np.matmul(dz, hx[t].T, out=dw)
                else:
                    np.matmul(dz, hx[t].T, out=dw_t)
                    dw += dw_t
            dc *= blk[4 * h:5 * h]
            if dhx is None:
                np.matmul(back, dz, out=dh)
            else:
                np.matmul(back, dz, out=dhx[t])
                dh = dhx[t, :h]
        dw_ih = dw_hh = db_ih = db_hh = None
        if weights:
            if steps == 0:
                dw[...] = 0
            # the columns of dW: dW_hh | dW_ih | db; rows back in PyTorch's gate order
            dw_hh = dw[back_rows, :h] if need[4] else None
            dw_ih = dw[back_rows, h:h + n_in] if need[3] else None
            db_ih = dw[back_rows, h + n_in] if need[5] else None
            db_hh = dw[back_rows, h + n_in] if need[6] else None
        dx = None if dhx is None else dhx[:, h:].transpose(0, 2, 1)
        return dx, dh.T.copy(), dc.T.copy(), dw_ih, dw_hh, db_ih, db_hh
