"""The module containers, with PyTorch's semantics: `Sequential` (modules applied in order),
`ModuleList` and `ModuleDict` (registered modules a parent uses as it likes). Indexing,
negative indices, slices (a container of the same kind), `append`, `extend`, `insert`, `pop`,
`del` and `+` behave as PyTorch's; after a deletion or an insertion the modules are numbered
again from 0, so the state keys stay `0., 1., ...` in order.

>>> import nn
>>> layers = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
>>> layers.insert(0, nn.Tanh()); del layers[2]
>>> layers
ModuleList(
  (0): Tanh()
  (1): Linear(in_features=2, out_features=2, bias=True)
)
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from nn.module import Module


def _index(who: str, n: int, i: Any) -> int:
    """`i` as an index in [0, n), or PyTorch's IndexError."""
    if isinstance(i, bool) or not hasattr(i, "__index__"):
        raise TypeError(f"{who}: indices must be integers or slices, got {type(i).__name__}")
    i = i.__index__()
    if not -n <= i < n:
        raise IndexError(f"{who}: index {i} is out of range for {n} modules")
    return i % n


def _renumber(m: Module, modules: list[Module]) -> None:
    """`m`'s children replaced by `modules`, named 0, 1, ... in order."""
    for k in list(m._modules):
        delattr(m, k)
    for i, child in enumerate(modules):
        m.add_module(str(i), child)


def _check_module(who: str, module: Any) -> None:
    if not isinstance(module, Module):
        raise TypeError(f"{who}: {type(module).__name__} is not a Module subclass")


class _ListLike(Module):
    """What Sequential and ModuleList share: modules named 0, 1, ... by position."""

    def _items(self) -> list[Module]:
        return list(self._modules.values())

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._items())

    def __setitem__(self, i: int, module: Module) -> None:
        who = type(self).__name__
        _check_module(who, module)
        key = list(self._modules)[_index(who, len(self), i)]
        setattr(self, key, module)

    def __delitem__(self, i: int | slice) -> None:
        items = self._items()
        if isinstance(i, slice):
            del items[i]
        else:
            del items[_index(type(self).__name__, len(items), i)]
        _renumber(self, items)

    def pop(self, i: int | slice = -1) -> Any:
        """Remove and return the module at `i` (the last by default), as PyTorch's.

        >>> import nn
        >>> seq = nn.Sequential(nn.ReLU(), nn.Tanh())
        >>> seq.pop(0), len(seq)
        (ReLU(), 1)
        """
        value = self[i]  # type: ignore[index]
        del self[i]
        return value

    def insert(self, index: int, module: Module) -> None:
        """`module` before position `index` (as `list.insert`; PyTorch's IndexError beyond
        [-len, len]), the modules after it numbered one higher.

        >>> import nn
        >>> seq = nn.Sequential(nn.ReLU())
        >>> seq.insert(0, nn.Tanh()); seq[0]
        Tanh()
        """
        who = f"{type(self).__name__}.insert"
        _check_module(who, module)
        n = len(self)
        if isinstance(index, bool) or not hasattr(index, "__index__"):
            raise TypeError(f"{who}: index must be an int, got {type(index).__name__}")
        if not -n <= index <= n:
            raise IndexError(f"{who}: index {index} is out of range for {n} modules")
        items = self._items()
        items.insert(index, module)
        _renumber(self, items)

    def extend(self, modules: Iterable[Module]) -> Any:
        """Append each of `modules`; returns self.

        >>> import nn
        >>> len(nn.ModuleList([nn.ReLU()]).extend([nn.Tanh(), nn.Sigmoid()]))
        3
        """
        if not isinstance(modules, Iterable):
            raise TypeError(f"{type(self).__name__}.extend should be called with an "
                            f"iterable, but got {type(modules).__name__}")
        for m in list(modules):
            self.append(m)
        return self

    def append(self, module: Module) -> Any:
        """`module` at the end (named by its position); returns self.

        >>> import nn
        >>> len(nn.ModuleList().append(nn.ReLU()))
        1
        """
        _check_module(f"{type(self).__name__}.append", module)
        self.add_module(str(len(self)), module)
        return self

    def __iadd__(self, modules: Iterable[Module]) -> Any:
        return self.extend(modules)

    def __dir__(self) -> list[str]:
        return [k for k in super().__dir__() if not k.isdigit()]


class Sequential(_ListLike):
    """Modules applied in order; indexable (a slice is a Sequential keeping the modules'
    names, as PyTorch's), iterable, `append`, `insert`, `extend`, `pop`, `del`, `+`.
    Built from modules, or from one mapping of names to modules.

    >>> import nn
    >>> nn.Sequential(nn.Linear(2, 2), nn.Tanh())[1]
    Tanh()
    >>> list(nn.Sequential(nn.Linear(1, 1), nn.Linear(1, 1))[1:].state_dict())
    ['1.weight', '1.bias']
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for k, m in modules[0].items():
                _check_module("Sequential", m)
                self.add_module(k, m)
        else:
            for i, m in enumerate(modules):
                _check_module("Sequential", m)
                self.add_module(str(i), m)

    def forward(self, x: Any) -> Any:
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return type(self)(OrderedDict(list(self._modules.items())[i]))
        return self._items()[_index("Sequential", len(self), i)]

    def __add__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise TypeError(f"Sequential: can only add a Sequential, got "
                            f"{type(other).__name__}")
        return Sequential(*self, *other)


class ModuleList(_ListLike):
    """A list of modules, registered (their parameters are the list's): indexing, slices
    (a new ModuleList), `append`, `extend`, `insert`, `pop`, `del`, `+=`, `+`, as PyTorch's.

    >>> import autodiff as ad, nn
    >>> layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    >>> len(layers), len(list(layers.parameters())), len(layers[1:])
    (3, 6, 2)
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return type(self)(self._items()[i])
        return self._items()[_index("ModuleList", len(self), i)]

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def __repr__(self) -> str:
        """PyTorch's: a run of modules that print alike is one `(i-j): n x module` line.

        >>> import nn
        >>> nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Tanh()])
        ModuleList(
          (0-1): 2 x ReLU()
          (2): Tanh()
        )
        """
        reprs = [repr(m) for m in self]
        if not reprs:
            return "ModuleList()"
        runs: list[list[Any]] = []  # [first index, last index, repr]
        for i, r in enumerate(reprs):
            if runs and runs[-1][2] == r:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = [(f"({a}): {r}" if a == b else f"({a}-{b}): {b - a + 1} x {r}"
                  ).replace("\n", "\n  ") for a, b, r in runs]
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules, registered, in insertion order, as PyTorch's: `d[k]`, `d[k] = m`,
    `del d[k]`, `in`, `keys`, `items`, `values`, `update`, `pop`, `clear`. A key must be a
    name `add_module` takes (no '.', not a method's name such as 'train').

    >>> import autodiff as ad, nn
    >>> heads = nn.ModuleDict({'a': nn.Linear(2, 1), 'b': nn.Linear(2, 3)})
    >>> sorted(heads.keys()), len(list(heads.parameters()))
    (['a', 'b'], 4)
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None
                 = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        _check_module("ModuleDict", module)
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        if key not in self._modules:
            raise KeyError(key)
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._modules.items()

    def values(self) -> Iterable[Module]:
        return self._modules.values()

    def pop(self, key: str) -> Module:
        """Remove the module `key` and return it.

        >>> import nn
        >>> d = nn.ModuleDict({'act': nn.ReLU()})
        >>> d.pop('act'), len(d)
        (ReLU(), 0)
        """
        value = self[key]
        del self[key]
        return value

    def clear(self) -> None:
        """Remove every module.

        >>> import nn
        >>> d = nn.ModuleDict({'act': nn.ReLU()}); d.clear(); len(d)
        0
        """
        for k in list(self._modules):
            delattr(self, k)

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add (or replace) modules from a mapping or from (key, module) pairs, in order.

        >>> import nn
        >>> d = nn.ModuleDict(); d.update([('a', nn.ReLU()), ('b', nn.Tanh())]); list(d)
        ['a', 'b']
        """
        if isinstance(modules, Mapping):
            pairs = list(modules.items())
        elif isinstance(modules, Iterable) and not isinstance(modules, str):
            pairs = []
            for j, pair in enumerate(modules):
                if not isinstance(pair, tuple | list) or len(pair) != 2:
                    raise ValueError(f"ModuleDict.update: element #{j} should be a "
                                     f"(key, module) pair, got {pair!r}")
                pairs.append(tuple(pair))
        else:
            raise TypeError(f"ModuleDict.update should be called with a mapping or an "
                            f"iterable of (key, module) pairs, got {type(modules).__name__}")
        for k, m in pairs:
            self[k] = m
