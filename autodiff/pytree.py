"""Nested containers of tensors (JAX's and torch.func's "pytrees"): tuples, lists, namedtuples
and dicts of Tensors, flattened to a list of leaves and rebuilt, so that the functional
transforms take and return a model's parameters as a dict, a pair of tensors as a tuple.

>>> import autodiff as ad
>>> from autodiff.pytree import flatten
>>> leaves, rebuild = flatten({"w": ad.ones(2), "b": (ad.zeros(1),)})
>>> len(leaves), rebuild([1, 2])
(2, {'w': 1, 'b': (2,)})
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from autodiff.tensor import Tensor

Rebuild = Callable[[list[Any]], Any]


def flatten(tree: Any) -> tuple[list[Any], Rebuild]:
    """The leaves of `tree` (depth first, dicts in their key order) and the function that
    builds a tree of the same structure from a list of new leaves. Tuples, lists,
    namedtuples and dicts are containers; anything else is a leaf.

    >>> from autodiff.pytree import flatten
    >>> leaves, rebuild = flatten((1, [2, {"a": 3}]))
    >>> leaves, rebuild(["x", "y", "z"])
    ([1, 2, 3], ('x', ['y', {'a': 'z'}]))
    """
    leaves: list[Any] = []
    build = _walk(tree, leaves)
    return leaves, lambda new: build(iter(new))


def _walk(t: Any, leaves: list[Any]) -> Callable[[Iterator[Any]], Any]:
    """Append the leaves of `t` to `leaves`; return the function that rebuilds `t` from an
    iterator over new leaves. (A module function, not one nested in flatten: a nested
    recursive function is a reference cycle, which would keep `leaves`, and the tensors in
    it, alive until the garbage collector runs.)"""
    kind = type(t)
    if kind is dict:
        keys = list(t)
        parts = [_walk(t[k], leaves) for k in keys]
        return lambda it: {k: p(it) for k, p in zip(keys, parts)}
    if kind in (tuple, list) or _is_namedtuple(t):
        parts = [_walk(c, leaves) for c in t]
        if kind is list:
            return lambda it: [p(it) for p in parts]
        if kind is tuple:
            return lambda it: tuple([p(it) for p in parts])
        return lambda it: kind(*[p(it) for p in parts])
    leaves.append(t)
    return next


def holds_tensors(arg: Any) -> bool:
    """Is `arg` a container with a Tensor among its leaves (a dict always counts)? A list of
    numbers is array data, not a tree.

    >>> import autodiff as ad
    >>> from autodiff.pytree import holds_tensors
    >>> holds_tensors((ad.ones(2), 1.0)), holds_tensors([1.0, 2.0]), holds_tensors({})
    (True, False, True)
    """
    if type(arg) is dict:
        return True
    if not isinstance(arg, tuple | list):
        return False
    return any(isinstance(leaf, Tensor) for leaf in flatten(arg)[0])


def _is_namedtuple(t: Any) -> bool:
    return isinstance(t, tuple) and hasattr(type(t), "_fields")
