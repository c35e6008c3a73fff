"""Datasets and minibatches.

A minibatch epoch as the course describes it: shuffle the examples (seeded), partition them
into batches of `batch_size`, the last one smaller unless `drop_last`.

>>> import numpy as np, nn
>>> ds = nn.data.TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
>>> loader = nn.data.DataLoader(ds, batch_size=2, shuffle=True, seed=0)
>>> [x.shape for x, y in loader]
[(2, 2), (2, 2), (1, 2)]
"""

from __future__ import annotations

import copy
import itertools
import math
import numbers
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

import autodiff as ad
from autodiff import Tensor


@runtime_checkable
class Dataset(Protocol):
    """Anything with __len__ and __getitem__(i) returning an example (a tuple of arrays).

    >>> import numpy as np, nn
    >>> class Squares:
    ...     def __len__(self):
    ...         return 3
    ...     def __getitem__(self, i):
    ...         return (np.float32(i), np.float32(i * i))
    >>> isinstance(Squares(), nn.data.Dataset)
    True
    >>> [y.tolist() for _, y in nn.data.DataLoader(Squares(), batch_size=3)]
    [[0.0, 1.0, 4.0]]
    """

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Any: ...


def _array_of(value: Any, what: str) -> np.ndarray:
    """`value` as an array; a Tensor that requires grad is refused while grad mode is on (a
    batch is made of arrays: no gradient would reach it), as np.asarray refuses one."""
    if isinstance(value, Tensor):
        if value.requires_grad and ad.is_grad_enabled():
            raise ValueError(f"{what} is a Tensor that requires grad; batches are made of its "
                             "values, so no gradient would reach it: pass t.detach()")
        value = value.data
    return np.asarray(value)


class TensorDataset:
    """Examples are the rows of equally long arrays or tensors (features, labels, ...).

    >>> import numpy as np, nn
    >>> ds = nn.data.TensorDataset(np.zeros((4, 2)), np.arange(4))
    >>> len(ds), int(ds[1][1])
    (4, 1)
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset: give at least one array")
        self.arrays = [_array_of(a, f"TensorDataset: array {k}") for k, a in enumerate(arrays)]
        if any(a.ndim == 0 for a in self.arrays):
            raise ValueError(f"TensorDataset: each array needs a first dimension (one row per "
                             f"example), got shapes {[a.shape for a in self.arrays]}")
        lengths = [len(a) for a in self.arrays]
        if len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset: arrays must have the same first dimension, got "
                             f"lengths {lengths}")

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: Any) -> tuple[np.ndarray, ...]:
        return tuple(a[index] for a in self.arrays)


class Subset:
    """The examples of `dataset` at `indices` (integer positions; a boolean mask or float
    indices are refused: pass np.flatnonzero(mask)).

    >>> import numpy as np, nn
    >>> ds = nn.data.TensorDataset(np.arange(5.0))
    >>> sub = nn.data.Subset(ds, [0, 4])
    >>> len(sub), float(sub[1][0])
    (2, 4.0)
    """

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        raw = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
        if raw.dtype == bool:
            raise TypeError("Subset: indices is a boolean mask; pass the positions it selects, "
                            "np.flatnonzero(mask)")
        if raw.size and raw.dtype.kind not in "iu":
            raise TypeError(f"Subset: indices must be integers, got {raw.dtype} values (a "
                            f"float index would be truncated)")
        if raw.ndim != 1:
            raise ValueError(f"Subset: indices must be one list of positions, got shape "
                             f"{raw.shape}")
        self.dataset, self.indices = dataset, raw.astype(np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: Any) -> Any:
        return self.dataset[self.indices[index]]


def random_split(dataset: Any, lengths: Sequence[float], seed: int | None = None
                 ) -> list[Subset]:
    """Split into non-overlapping subsets of the given lengths, or fractions summing to 1
    (each floor(f * n), the examples left over handed out one each from the first, as PyTorch
    does). Without `seed`, the order is drawn from autodiff's generator (`ad.manual_seed`
    makes it reproducible, as `torch.manual_seed` makes PyTorch's).

    >>> import numpy as np, nn
    >>> ds = nn.data.TensorDataset(np.arange(10.0))
    >>> train, val = nn.data.random_split(ds, [0.8, 0.2], seed=0)
    >>> len(train), len(val)
    (8, 2)
    """
    n = len(dataset)
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
               for v in lengths):
        raise ValueError(f"random_split: lengths must be finite numbers (counts, or fractions "
                         f"summing to 1), got {list(lengths)}")
    if any(v < 0 for v in lengths):
        raise ValueError(f"random_split: lengths must be >= 0, got {list(lengths)}")
    if abs(sum(lengths) - 1) <= 1e-9 and sum(lengths) <= 1:  # fractions: PyTorch's rule
        counts = [int(np.floor(f * n)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    else:
        if any(v != int(v) for v in lengths):
            raise ValueError(f"random_split: lengths {list(lengths)} are neither counts nor "
                             "fractions summing to 1")
        counts = [int(v) for v in lengths]
    if sum(counts) != n:
        raise ValueError(f"random_split: lengths {list(lengths)} do not add up to the dataset's "
                         f"{n} examples")
    order = (ad.generator() if seed is None else np.random.default_rng(seed)).permutation(n)
    bounds = np.cumsum([0, *counts])
    return [Subset(dataset, order[a:b]) for a, b in itertools.pairwise(bounds)]


def _collate(items: list[Any], idx: np.ndarray) -> list[np.ndarray]:
    """Examples (tuples or lists of fields, or single values) stacked field by field. A field
    that is itself a tuple, list or dict is refused: PyTorch's default_collate collates its
    items one by one (a list of batches), where stacking it would make one array of them all,
    labels promoted to the floats beside them."""
    if isinstance(items[0], dict):
        raise TypeError("DataLoader: the dataset's examples are dicts; return a tuple of fields "
                        "(x, y) from __getitem__")
    items = [tuple(it) if isinstance(it, tuple | list) else (it,) for it in items]
    if len({len(it) for it in items}) != 1:
        raise ValueError(f"DataLoader: examples {idx.tolist()} have different numbers of "
                         f"fields: {[len(it) for it in items]}")
    parts = []
    for k in range(len(items[0])):
        nested = next((i for i, it in enumerate(items) if isinstance(it[k], tuple | list | dict)),
                      None)
        if nested is not None:
            raise TypeError(f"DataLoader: field {k} of example {int(idx[nested])} is a "
                            f"{type(items[nested][k]).__name__}, not an array or a number; "
                            "return its items as fields of their own, or one array "
                            "(np.asarray) if it is a vector")
        arrays = [_array_of(it[k], f"DataLoader: field {k} of example {int(i)}")
                  for it, i in zip(items, idx)]
        shapes = {a.shape for a in arrays}
        if len(shapes) != 1:
            raise ValueError(f"DataLoader: field {k} of examples {idx.tolist()} has different "
                             f"shapes {[a.shape for a in arrays]}: they cannot form one batch")
        parts.append(np.stack(arrays))
    return parts


class DataLoader:
    """Iterate over minibatches of a dataset as tuples of tensors.

    - `shuffle` with `seed` (or your own `generator`, a np.random.Generator): a new permutation
      every epoch, the same sequence for the same seed; with neither, the loader's generator is
      seeded from autodiff's when it is made, so `ad.manual_seed` makes the order reproducible
      as `torch.manual_seed` makes PyTorch's;
    - `drop_last`: skip the last, smaller batch (keyword-only, as every option after
      `shuffle`: PyTorch's fourth argument is `sampler`, which would pass for `drop_last`);
    - `transform(x) -> x`: applied to the first element of each batch (the inputs), on arrays.
    An example is a tuple or list of fields (x, y, ...) or a single value, stacked field by
    field as PyTorch's default_collate does (dicts, strings and fields that are tuples, lists
    or dicts are refused). Float arrays become tensors of their dtype; integer arrays stay
    integer (labels). A subclass of TensorDataset that defines its own `__getitem__` is read
    through it, one example at a time.
    `state_dict()` taken in the middle of an epoch lets another loader finish that epoch with the
    same batches (see there).

    >>> import numpy as np, nn
    >>> ds = nn.data.TensorDataset(np.arange(5.0), np.arange(5))
    >>> [y.tolist() for _, y in nn.data.DataLoader(ds, batch_size=2)]
    [[0, 1], [2, 3], [4]]
    >>> len(nn.data.DataLoader(ds, batch_size=2, drop_last=True))
    2
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False, *,
                 drop_last: bool = False, seed: int | None = None,
                 transform: Callable[[np.ndarray], np.ndarray] | None = None,
                 generator: np.random.Generator | None = None) -> None:
        if not isinstance(batch_size, int | np.integer) or isinstance(batch_size, bool) \
                or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got "
                             f"{batch_size!r}")
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, shuffle
        self.drop_last, self.transform = drop_last, transform
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: give a seed or a generator, not both")
        if generator is None and seed is None and shuffle:  # autodiff's generator seeds it,
            seed = int(ad.generator().integers(2**63))  # as torch.manual_seed seeds PyTorch's
        self.rng = generator if generator is not None else np.random.default_rng(seed)
        self._epoch_start: dict[str, Any] | None = None  # rng state before this epoch's order
        self._taken: int | None = None  # batches handed out this epoch; None between epochs
        self._resume_at = 0  # the batch the next epoch starts at (set by load_state_dict)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _batch(self, idx: np.ndarray) -> tuple[Any, ...]:
        ds = self.dataset
        if isinstance(ds, TensorDataset) and type(ds).__getitem__ is TensorDataset.__getitem__:
            parts = [a[idx] for a in ds.arrays]  # one fancy index per array, not one per row
        else:
            parts = _collate([ds[int(i)] for i in idx], idx)
        if self.transform is not None:
            parts[0] = self.transform(parts[0])
        for k, p in enumerate(parts):
            if p.dtype.kind not in "biuf":
                raise TypeError(f"DataLoader: field {k} of the examples holds {p.dtype} values; "
                                "a batch holds numbers (bool, int or float)")
        return tuple(ad.tensor(p, dtype=p.dtype) for p in parts)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        n = len(self.dataset)
        start, self._resume_at = self._resume_at, 0
        self._epoch_start = self.rng.bit_generator.state
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        self._taken = start
        for b in range(start, len(self)):
            batch = self._batch(order[b * self.batch_size:(b + 1) * self.batch_size])
            self._taken = b + 1
            yield batch
        self._taken = None

    def state_dict(self) -> dict[str, Any]:
        """Where the data stream stands, so that a resumed run draws the same batches:
        {"rng": the shuffling generator's state, "batch": 0, "transform": its state} between
        epochs; in the middle of one, the generator's state before that epoch's order was drawn
        and the number of batches already handed out. "transform" is there when the transform
        has a state_dict (the seeded augmentations of nn.vision.transforms do).

        >>> import numpy as np, nn
        >>> ds = nn.data.TensorDataset(np.arange(6.0), np.arange(6))
        >>> loader = nn.data.DataLoader(ds, batch_size=2, shuffle=True, seed=0)
        >>> it = iter(loader); first = next(it)[1].tolist()
        >>> state = loader.state_dict(); state["batch"]
        1
        >>> rest = [y.tolist() for _, y in it]
        >>> other = nn.data.DataLoader(ds, batch_size=2, shuffle=True, seed=9)
        >>> other.load_state_dict(state)
        >>> [y.tolist() for _, y in other] == rest
        True
        """
        if self._taken is None:
            state = {"rng": self.rng.bit_generator.state, "batch": self._resume_at}
        else:
            state = {"rng": copy.deepcopy(self._epoch_start), "batch": self._taken}
        if callable(getattr(self.transform, "state_dict", None)):
            state["transform"] = self.transform.state_dict()  # type: ignore[union-attr]
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict()`: the next iteration finishes the epoch it was taken in,
        from the batch it had reached (or starts the next epoch, if taken between epochs).

        >>> import numpy as np, nn
        >>> loader = nn.data.DataLoader(nn.data.TensorDataset(np.arange(4.0)), batch_size=2)
        >>> loader.load_state_dict({"rng": loader.rng.bit_generator.state, "batch": 3})
        Traceback (most recent call last):
        ...
        ValueError: DataLoader.load_state_dict: batch 3 of an epoch of 2 batches
        """
        batch = state.get("batch", 0)
        if not isinstance(batch, int) or isinstance(batch, bool) or not 0 <= batch <= len(self):
            raise ValueError(f"DataLoader.load_state_dict: batch {batch!r} of an epoch of "
                             f"{len(self)} batches")
        if "transform" in state:
            if not callable(getattr(self.transform, "load_state_dict", None)):
                raise ValueError("DataLoader.load_state_dict: the state holds a transform's "
                                 "state, but this loader's transform keeps none")
            self.transform.load_state_dict(state["transform"])  # type: ignore[union-attr]
        self.rng.bit_generator.state = state["rng"]
        self._resume_at, self._taken = batch, None
