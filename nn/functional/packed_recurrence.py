"""One recurrent layer and direction over a packed batch (`nn.utils.rnn.PackedSequence`), as
PyTorch computes it: at step t only the first `batch_sizes[t]` sequences (the longest first)
run, so each sequence stops at its own length.

The steps fall into runs over which the batch size does not change (one run per distinct
length). A run's rows are contiguous in the packed data, a (steps, b, I) block in the order
`Recurrence` takes, so each run is one `Recurrence` call on a block of the data, and its
output block is the run's rows of the packed output. The state carries from run to run:
forward, the sequences that ended leave theirs as their h_n (c_n) and the rest go on;
reverse (runs from the last to the first), the sequences that start at a run's last step
join with their own h0 (c0). The graph is made of `Recurrence` nodes, slices and
concatenations, so every gradient, of any order, is the one the primitives already give;
one run (equal lengths) is exactly the padded path's single call.

>>> import autodiff as ad
>>> data, batch_sizes = ad.ones((5, 3)), [2, 2, 1]          # lengths 3 and 2
>>> h0, w_ih, w_hh = ad.zeros((2, 4)), ad.ones((4, 3)) * 0.1, ad.ones((4, 4)) * 0.1
>>> out, h_n, _ = packed_recurrence(data, batch_sizes, h0, None, w_ih, w_hh, None, None,
...                                 mode="RNN_TANH", reverse=False)
>>> out.shape, h_n.shape, bool((h_n[1] == out[3]).all())    # sequence 1 ends at row 3
((5, 4), (2, 4), True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor
from nn.functional.recurrent import run_layer


def runs(batch_sizes: Any) -> list[tuple[int, int, int]]:
    """(first row, steps, batch size) for each run of equal batch sizes, in step order.

    >>> runs([3, 3, 2, 1, 1])
    [(0, 2, 3), (6, 1, 2), (8, 2, 1)]
    """
    sizes = np.asarray(batch_sizes, dtype=np.int64)
    starts = np.flatnonzero(np.diff(sizes, prepend=-1))
    ends = np.append(starts[1:], sizes.size)
    rows = np.cumsum(sizes) - sizes
    return [(int(rows[s]), int(e - s), int(sizes[s])) for s, e in zip(starts, ends)]


def packed_recurrence(data: Tensor, batch_sizes: Any, h0: Tensor, c0: Tensor | None,
                      w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None,
                      *, mode: str, reverse: bool, w_hr: Tensor | None = None
                      ) -> tuple[Tensor, Tensor, Tensor | None]:
    """(packed output (N, H), h_n (B, H), c_n or None) of one layer and direction over packed
    `data` (N, I); h0, c0 and the results' rows are the sorted sequences (longest first).
    `w_hr`: the LSTM's projection (proj_size), run by `recurrence_composed`.
    """
    blocks = runs(batch_sizes)
    outs: list[Any] = [None] * len(blocks)
    ended: list[tuple[Tensor, Tensor | None]] = []  # forward: states of the ended sequences
    h = c = None
    for r in (reversed(range(len(blocks))) if reverse else range(len(blocks))):
        row, steps, b = blocks[r]
        if h is None:  # the first run: forward, every sequence (b = B)
            h, c = (h0, c0) if b == h0.shape[0] else (h0[:b], None if c0 is None else c0[:b])
        elif reverse:  # the sequences that start here join with their own initial state
            n = h.shape[0]
            h = ad.concatenate([h, h0[n:b]], axis=0)
            c = None if c0 is None else ad.concatenate([c, c0[n:b]], axis=0)
        else:  # sequences b.. ended at the last step: their state is final
            ended.append((h[b:], None if c is None else c[b:]))
            h, c = h[:b], None if c is None else c[:b]
        x = data[row:row + steps * b].reshape(steps, b, data.shape[1])
        res = run_layer(x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr, mode=mode, reverse=reverse)
        outs[r] = res[0].reshape(steps * b, res[0].shape[2])
        h, c = res[1], (res[2] if c0 is not None else None)
    out = outs[0] if len(outs) == 1 else ad.concatenate(outs, axis=0)
    if ended:  # forward: the last run's sequences are the longest, first in the order
        ended.append((h, c))
        h = ad.concatenate([s for s, _ in reversed(ended)], axis=0)
        if c0 is not None:
            c = ad.concatenate([s for _, s in reversed(ended)], axis=0)
    return out, h, c
