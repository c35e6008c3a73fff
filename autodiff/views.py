"""Views and in-place writes: keeping a base and its views' graphs in step, as PyTorch does.

A tensor made by a view op (basic indexing, `reshape` of contiguous memory, `transpose` and
what is built on them) remembers its *base*: the tensor whose memory it shows (a view of a
view remembers the first one's base). An in-place write changes the memory they share, so:

- writing into a view `v` of base `b` *rebases* `b`: its new node is `b` with `v`'s places
  replaced by `v`'s new value (`rebase`; PyTorch's CopySlices);
- a view whose memory was written after it was made (through its base, or through another
  view of the same base) is *replayed* when next used: its new node reads its places out
  of its base's current value (`replay`; PyTorch regenerates the view's grad_fn).

Both use the memory itself to tell which element of `b` each element of `v` is (the same
address, the same dtype), so any chain of view ops is replayed exactly. Where that is not
possible (a base written behind the engine's back, memory shared by an op that is not a pure
view, a dtype reinterpretation), the tensor keeps the engine's clear error.

>>> import autodiff as ad
>>> x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> a = x * 1
>>> v = a[1:]
>>> v.mul_(2)
tensor([4., 6.], grad_fn=<mul>)
>>> a.sum().backward()
>>> x.grad
tensor([1., 2., 2.])
"""

from __future__ import annotations

import numpy as np

from autodiff import versions
from autodiff.tensor import Tensor


def is_current(t: Tensor) -> bool:
    """Does t's graph describe its values (its memory not written since its node was made)?"""
    fn = t.grad_fn
    return fn is None or versions.written_after(t.data, fn._seq) is None


def replay(view: Tensor) -> bool:
    """Give a view whose memory was written its new node: its places read out of its base's
    current value. False (nothing changed) when that is not exact."""
    base = view._base
    if base is None or not base.requires_grad or not is_current(base):
        return False
    where = positions(view.data, base.data)
    if where is None:
        return False
    from autodiff.ops import indexing, shape  # (they import the engine: loaded by now)
    new = indexing.getitem(shape.reshape(base, (-1,)), where)
    if new.grad_fn is None:
        return False
    # a leaf's view stays unwritable
    new.grad_fn._leaf_view = view.grad_fn is not None and view.grad_fn._leaf_view
    adopt(view, new)
    return True


def follow_base(view: Tensor) -> bool:
    """A view made while its base needed no gradient, whose base has one now (a write through
    the base or another view gave it a graph, or `requires_grad_()`): give the view its node
    from the base, as PyTorch's view of a tensor that requires grad. False when its base still
    needs none (or the replay is not exact: the view stays a constant).

    >>> import autodiff as ad
    >>> a = ad.zeros(3)
    >>> v = a[1:]                                # a constant's view: no graph
    >>> w = ad.ones(3, requires_grad=True)
    >>> _ = a.add_(w)                            # a now depends on w, and so does v
    >>> (v * 2).requires_grad
    True
    """
    base = view._base
    if not base._requires_grad or not replay(view):
        return False
    if base.grad_fn is None:  # a view of a leaf that requires grad: never written in place
        view.grad_fn._leaf_view = True
    return True


def rebase(written: Tensor, value: Tensor) -> Tensor | None:
    """The new value of `written`'s base, as a recorded Tensor, once `value` is written into
    `written` (call it before the write): the base with `written`'s places holding `value`.
    None when `written` is not a view, or its base cannot be rebased exactly (then the base
    keeps its old node, and the engine refuses to use it)."""
    base = written._base
    if base is None or (base.grad_fn is None and base.requires_grad) or not is_current(base):
        return None  # (a leaf that requires grad is never written in grad mode)
    where = positions(written.data, base.data)
    if where is None or np.unique(where).size != where.size:  # two places, one element
        return None
    from autodiff.ops import indexing, shape
    flat = indexing.SetItem.apply(shape.reshape(base, (-1,)), shape.reshape(value, (-1,)),
                                  index=where.ravel())
    return shape.reshape(flat, base.shape)


def adopt(t: Tensor, new: Tensor) -> None:
    """Point t to the node that made `new` (whose values t holds); retain_grad() follows it,
    as in PyTorch."""
    node, index, old = new.grad_fn, new._index, t.grad_fn
    if t._retain and old is not None and old._hooks:
        hooks = old._hooks.get(t._index, [])
        keep = [h for h in hooks if getattr(h, "retains_grad", False)]
        for h in keep:
            hooks.remove(h)
        if node._hooks is None:
            node._hooks = {}
        node._hooks.setdefault(index, []).extend(keep)
    t.grad_fn, t._index, t._requires_grad = node, index, True


def renumber(made: list[Tensor], since: int) -> None:
    """Number again, from now on, the nodes made after number `since` that lead to `made`,
    in the order they were made: an in-place write's nodes count as made after the write,
    and the walk's order by number still puts every node after its inputs."""
    fresh, stack, seen = [], [t.grad_fn for t in made], set()
    while stack:
        node = stack.pop()
        if node in seen or node._seq <= since:
            continue
        seen.add(node)
        fresh.append(node)
        stack.extend(e[0] for e in node._edges if type(e) is tuple)
    for node in sorted(fresh, key=lambda n: n._seq):
        node._seq = next(versions.numbers)


def positions(view: np.ndarray, base: np.ndarray) -> np.ndarray | None:
    """For each element of `view`, the position in `base.ravel()` of the element at the same
    address; None when the dtypes differ, `base` repeats an address, or some element of
    `view` is not one of `base`'s.

    >>> import numpy as np
    >>> b = np.arange(6.0).reshape(2, 3)
    >>> positions(b.T[1:], b)
    array([[1, 4],
           [2, 5]])
    """
    if view.dtype != base.dtype:
        return None
    want = _addresses(view)
    if base.flags.c_contiguous:  # (the usual base: the place follows from the address)
        offset = want - base.__array_interface__["data"][0]
        inside = (offset >= 0) & (offset < base.nbytes) & (offset % base.itemsize == 0)
        return offset // base.itemsize if inside.all() else None
    at = _addresses(base).ravel()
    order = np.argsort(at, kind="stable")
    at = at[order]
    if at.size > 1 and not (np.diff(at) > 0).all():
        return None
    if want.size == 0:
        return np.zeros(view.shape, np.intp)
    if at.size == 0:
        return None
    i = np.searchsorted(at, want).clip(max=at.size - 1)
    return order[i] if (at[i] == want).all() else None


def _addresses(a: np.ndarray) -> np.ndarray:
    """The address of each element of `a` (its shape)."""
    out = np.full(a.shape, a.__array_interface__["data"][0], dtype=np.int64)
    for axis, (n, stride) in enumerate(zip(a.shape, a.strides)):
        step = np.arange(n, dtype=np.int64) * stride
        out += step.reshape((n,) + (1,) * (a.ndim - axis - 1))
    return out


def base_of(out: np.ndarray, arg: Tensor) -> Tensor | None:
    """The base a view op's output remembers: its input's base, or the input itself; None
    when the output does not show the input's memory (a reshape that had to copy)."""
    data, owner = arg.data, out.base
    if not (owner is data or out is data or (owner is data.base and owner is not None)) and (
            versions.memory_owner(out) is not versions.memory_owner(data)):  # (rarely run)
        return None
    return arg if arg._base is None else arg._base
