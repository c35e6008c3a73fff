"""Variable-length sequences, PyTorch's `torch.nn.utils.rnn`: `PackedSequence` and the
functions that pack, pad and unpack. Packing is one gather and unpacking its inverse gather
(the padding taken from an extra row), so gradients of any order flow through both.

A packed batch holds every sequence's steps without padding, step by step: the rows of step
t are the sequences still running at t, longest first, and `batch_sizes[t]` counts them.

>>> import autodiff as ad
>>> from nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
>>> x = ad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 0.0]])   # (B, T): lengths 3 and 2
>>> packed = pack_padded_sequence(x, [3, 2], batch_first=True)
>>> packed.data, packed.batch_sizes
(tensor([1., 4., 2., 5., 3.]), tensor([2, 2, 1]))
>>> pad_packed_sequence(packed, batch_first=True)
(tensor([[1., 2., 3.],
        [4., 5., 0.]]), tensor([3, 2]))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

import autodiff as ad
from autodiff import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pack_sequence",
           "pad_packed_sequence", "pad_sequence", "unpack_sequence", "unpad_sequence"]


class _PackedFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedFields):
    """A batch of sequences packed step by step: `data` (sum of lengths, *), `batch_sizes`
    (int64, one count per step, non-increasing), `sorted_indices` (which input sequence each
    column is, longest first; None when the input was already sorted) and `unsorted_indices`
    (its inverse). Made by `pack_padded_sequence` or `pack_sequence`; RNN, LSTM and GRU take
    and return it. A tuple, as PyTorch's.

    >>> import autodiff as ad
    >>> p = PackedSequence(ad.ones((3, 2)), [2, 1], [1, 0])
    >>> p.unsorted_indices
    tensor([1, 0])
    >>> data, batch_sizes, sorted_indices, unsorted_indices = p
    """

    def __new__(cls, data: Tensor, batch_sizes: Tensor | None = None,
                sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        ints = [None if v is None or (isinstance(v, Tensor) and v.dtype == np.int64) else
                ad.tensor(_ints("PackedSequence", name, v)) for name, v in
                (("batch_sizes", batch_sizes), ("sorted_indices", sorted_indices),
                 ("unsorted_indices", unsorted_indices))]
        batch_sizes, sorted_indices, unsorted_indices = (
            v if w is None else w for v, w in zip((batch_sizes, sorted_indices,
                                                  unsorted_indices), ints))
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """`data.to(...)`; batch_sizes and the indices stay as they are.

        >>> import autodiff as ad, numpy as np
        >>> from nn.utils.rnn import pack_sequence
        >>> pack_sequence([ad.ones(2)]).to(np.float64).data.dtype
        dtype('float64')
        """
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def double(self) -> PackedSequence:
        """The same sequence with float64 data.

        >>> import autodiff as ad
        >>> from nn.utils.rnn import pack_sequence
        >>> pack_sequence([ad.ones(2)]).double().data.dtype
        dtype('float64')
        """
        return self.to(np.float64)

    def float(self) -> PackedSequence:
        """The same sequence with float32 data.

        >>> import autodiff as ad, numpy as np
        >>> from nn.utils.rnn import pack_sequence
        >>> pack_sequence([ad.ones(2, dtype=np.float64)]).float().data.dtype
        dtype('float32')
        """
        return self.to(np.float32)

    @property
    def is_cuda(self) -> bool:
        """Always False: the engine runs on the CPU (kept so ported code runs).

        >>> import autodiff as ad
        >>> from nn.utils.rnn import pack_sequence
        >>> pack_sequence([ad.ones(2)]).is_cuda
        False
        """
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse permutation (int64), or None for None.

    >>> invert_permutation([2, 0, 1])
    tensor([1, 2, 0])
    """
    if permutation is None:
        return None
    p = _ints("invert_permutation", "permutation", permutation)
    out = np.empty_like(p)
    out[p] = np.arange(p.size, dtype=np.int64)
    return ad.tensor(out)


def _ints(op: str, name: str, values: Any) -> np.ndarray:
    """`values` as a 1-D int64 array: a list, tuple, array or Tensor of whole numbers."""
    arr = np.asarray(values.data if isinstance(values, Tensor) else values)
    whole = arr.dtype.kind in "iu" or (arr.dtype.kind == "f" and np.all(arr == np.round(arr)))
    if arr.ndim != 1 or not whole:
        raise ValueError(f"{op}: {name} must be a 1-D sequence of ints, got {arr.tolist()!r}")
    return arr.astype(np.int64)


def packed_batch_sizes(op: str, sequence: PackedSequence) -> np.ndarray:
    """The batch sizes of `sequence` as an int64 array, checked against its data and indices
    (a PackedSequence made by hand can disagree with itself); errors name `op`.

    >>> import autodiff as ad
    >>> packed_batch_sizes("f", PackedSequence(ad.ones((3, 2)), [2, 1]))
    array([2, 1])
    """
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{op}: expected a PackedSequence, got {type(sequence).__name__}")
    sizes = _ints(op, "batch_sizes", sequence.batch_sizes)
    if sizes.size == 0 or sizes.min() <= 0 or np.any(np.diff(sizes) > 0):
        raise ValueError(f"{op}: a PackedSequence's batch_sizes must be positive and "
                         f"non-increasing, got {sizes.tolist()}")
    rows = sequence.data.shape[0] if sequence.data.ndim else 0
    if rows != sizes.sum():
        raise ValueError(f"{op}: the PackedSequence's data has {rows} rows (shape "
                         f"{sequence.data.shape}) but its batch_sizes {sizes.tolist()} sum to "
                         f"{int(sizes.sum())}")
    for name in ("sorted_indices", "unsorted_indices"):
        idx = getattr(sequence, name)
        if idx is not None and idx.shape != (sizes[0],):
            raise ValueError(f"{op}: the PackedSequence's {name} must hold {sizes[0]} indices "
                             f"(batch_sizes[0]), got shape {idx.shape}")
    return sizes


def _steps(batch_sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each packed row, its step t and its column j (its rank among the sorted sequences)."""
    n = int(batch_sizes.sum())
    t = np.repeat(np.arange(batch_sizes.size), batch_sizes)
    starts = np.cumsum(batch_sizes) - batch_sizes
    return t, np.arange(n) - np.repeat(starts, batch_sizes)


def pack_padded_sequence(input: Any, lengths: Any, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) ((B, T, *) with batch_first) of sequences of the given
    lengths. With enforce_sorted=True the lengths must be non-increasing; with False they are
    sorted here (stably, as PyTorch's sort) and `sorted_indices` records the order.
    Differentiable: `data` is a gather of the input's rows.

    >>> import autodiff as ad
    >>> x = ad.arange(6.0).reshape(3, 2)                    # (T=3, B=2)
    >>> p = pack_padded_sequence(x, [2, 3], enforce_sorted=False)
    >>> p.data, p.batch_sizes, p.sorted_indices
    (tensor([1., 0., 3., 2., 5.]), tensor([2, 2, 1]), tensor([1, 0]))
    """
    op = "pack_padded_sequence"
    x = input if isinstance(input, Tensor) else ad.tensor(input)
    if x.ndim < 2:
        raise ValueError(f"{op}: input must have a time and a batch dimension, got shape "
                         f"{x.shape}")
    steps, batch = (x.shape[1], x.shape[0]) if batch_first else x.shape[:2]
    lens = _ints(op, "lengths", lengths)
    if lens.size != batch:
        raise ValueError(f"{op}: expected len(lengths) to equal the batch size {batch} (input "
                         f"of shape {x.shape}, batch_first={batch_first}), got {lens.size} "
                         f"lengths {lens.tolist()}")
    if batch == 0 or lens.min() <= 0:
        raise ValueError(f"{op}: every length must be at least 1, got lengths {lens.tolist()}")
    if lens.max() > steps:
        raise ValueError(f"{op}: lengths {lens.tolist()} exceed the input's {steps} steps "
                         f"(input of shape {x.shape}, batch_first={batch_first})")
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise ValueError(f"{op}: lengths must be sorted in decreasing order when "
                             f"enforce_sorted=True, got {lens.tolist()}; pass "
                             "enforce_sorted=False to have them sorted here")
        order = None
    else:
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
    batch_sizes = np.count_nonzero(lens[None, :] > np.arange(lens[0])[:, None], axis=1)
    t, j = _steps(batch_sizes)
    b = j if order is None else order[j]
    rows = b * steps + t if batch_first else t * batch + b
    data = x.reshape(steps * batch, *x.shape[2:])[rows]
    return PackedSequence(data, ad.tensor(batch_sizes.astype(np.int64)),
                          None if order is None else ad.tensor(order.astype(np.int64)))


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None
                        ) -> tuple[Tensor, Tensor]:
    """Unpack: (padded (T, B, *) or (B, T, *), lengths int64 (B,)), in the batch's original
    order, T = the longest length or `total_length`. Differentiable (the inverse gather).

    >>> import autodiff as ad
    >>> p = pack_padded_sequence(ad.arange(6.0).reshape(3, 2), [2, 3], enforce_sorted=False)
    >>> padded, lengths = pad_packed_sequence(p, padding_value=-1.0, total_length=4)
    >>> padded.tolist(), lengths.tolist()
    ([[0.0, 1.0], [2.0, 3.0], [-1.0, 5.0], [-1.0, -1.0]], [2, 3])
    """
    op = "pad_packed_sequence"
    batch_sizes = packed_batch_sizes(op, sequence)
    data = sequence.data
    steps, batch = batch_sizes.size, int(batch_sizes[0])
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"{op}: expected total_length to be at least the length of the "
                             f"longest sequence in input, {steps}, got total_length="
                             f"{total_length}")
        steps = total_length
    t, j = _steps(batch_sizes)
    order = sequence.sorted_indices
    b = j if order is None else np.asarray(order.data)[j]
    where = np.full(steps * batch, data.shape[0], dtype=np.int64)  # the padding row
    where[b * steps + t if batch_first else t * batch + b] = np.arange(data.shape[0])
    pad = ad.full((1, *data.shape[1:]), padding_value, dtype=data.dtype)
    padded = ad.concatenate([data, pad], axis=0)[where]
    padded = padded.reshape(*((batch, steps) if batch_first else (steps, batch)),
                            *data.shape[1:])
    lengths = np.count_nonzero(batch_sizes[:, None] > np.arange(batch)[None, :], axis=0)
    if sequence.unsorted_indices is not None:
        lengths = lengths[np.asarray(sequence.unsorted_indices.data)]
    return padded, ad.tensor(lengths.astype(np.int64))


def _sequences(op: str, sequences: Any) -> list[Tensor]:
    seqs = [s if isinstance(s, Tensor) else ad.tensor(s) for s in sequences]
    if not seqs:
        raise ValueError(f"{op}: received an empty list of sequences")
    for i, s in enumerate(seqs):
        if s.ndim < 1 or s.shape[1:] != seqs[0].shape[1:] or s.dtype != seqs[0].dtype:
            raise ValueError(f"{op}: every sequence must have the trailing shape and dtype of "
                             f"the first, {seqs[0].shape[1:]} {seqs[0].dtype}, got "
                             f"{s.shape[1:]} {s.dtype} at index {i} (shape {s.shape})")
    return seqs


def pad_sequence(sequences: Sequence[Any], batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """Stack sequences of shapes (L_i, *) into (T, B, *) ((B, T, *) with batch_first),
    T = max L_i, filling with `padding_value` after each sequence (`padding_side="left"`:
    before it). Differentiable.

    >>> import autodiff as ad
    >>> pad_sequence([ad.tensor([1.0, 2.0]), ad.tensor([3.0])], batch_first=True).tolist()
    [[1.0, 2.0], [3.0, 0.0]]
    >>> pad_sequence([ad.tensor([1.0, 2.0]), ad.tensor([3.0])], True, -1, "left").tolist()
    [[1.0, 2.0], [-1.0, 3.0]]
    """
    op = "pad_sequence"
    if padding_side not in ("left", "right"):
        raise ValueError(f"{op}: expected padding_side to be one of 'left' or 'right', got "
                         f"{padding_side!r}")
    seqs = _sequences(op, sequences)
    steps, tail, dtype = max(s.shape[0] for s in seqs), seqs[0].shape[1:], seqs[0].dtype
    rows = []
    for s in seqs:
        fill = ad.full((steps - s.shape[0], *tail), padding_value, dtype=dtype)
        pair = [s, fill] if padding_side == "right" else [fill, s]
        rows.append(ad.concatenate(pair, axis=0) if s.shape[0] < steps else s)
    return ad.stack(rows, axis=0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Any, batch_first: bool = False
                   ) -> list[Tensor]:
    """The inverse of `pad_sequence`: the list of sequences, each cut to its length.

    >>> import autodiff as ad
    >>> [s.tolist() for s in unpad_sequence(ad.tensor([[1.0, 2.0], [3.0, 0.0]]), [2, 1], True)]
    [[1.0, 2.0], [3.0]]
    """
    lens = _ints("unpad_sequence", "lengths", lengths)
    x = padded_sequences if batch_first else padded_sequences.swapaxes(0, 1)
    return [x[i, :n] for i, n in enumerate(lens.tolist())]


def pack_sequence(sequences: Sequence[Any], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences of shapes (L_i, *): `pad_sequence` then `pack_padded_sequence`.

    >>> import autodiff as ad
    >>> p = pack_sequence([ad.tensor([1.0]), ad.tensor([2.0, 3.0])], enforce_sorted=False)
    >>> p.data, p.batch_sizes
    (tensor([2., 1., 3.]), tensor([2, 1]))
    """
    seqs = _sequences("pack_sequence", sequences)
    return pack_padded_sequence(pad_sequence(seqs), [s.shape[0] for s in seqs],
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The inverse of `pack_sequence`: the list of sequences, in their original order.

    >>> import autodiff as ad
    >>> p = pack_sequence([ad.tensor([1.0]), ad.tensor([2.0, 3.0])], enforce_sorted=False)
    >>> [s.tolist() for s in unpack_sequence(p)]
    [[1.0], [2.0, 3.0]]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
