"""`ParameterList` and `ParameterDict`, PyTorch's containers of parameters: each entry is a
registered parameter of the container (named by its position or its key), so a parent's
`parameters()`, `state_dict()` and optimizers see it. A Tensor or an array put in becomes a
Parameter (sharing its array), as PyTorch's turns a tensor into a Parameter.

>>> import numpy as np, nn
>>> class Mixture(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.means = nn.ParameterList([np.zeros(2), np.ones(2)])
...         self.scales = nn.ParameterDict({"a": np.ones(1)})
>>> list(Mixture().state_dict())
['means.0', 'means.1', 'scales.a']
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from autodiff import Tensor
from nn.containers import _index
from nn.module import Module, Parameter


def _as_parameter(who: str, value: Any) -> Parameter:
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor | np.ndarray):
        return Parameter(value)
    raise TypeError(f"{who}: expected a Parameter, a Tensor or an array, got "
                    f"{type(value).__name__}")


def _describe(p: Parameter) -> str:
    size = "x".join(str(d) for d in p.shape)
    return f"Parameter containing: [{p.dtype} of size {size}]"


class ParameterList(Module):
    """A list of parameters, registered as `0`, `1`, ...: indexing (negative too), slices (a
    new ParameterList of the same parameters), `append`, `extend`, `+=`, `len`, iteration.

    >>> import numpy as np, nn
    >>> params = nn.ParameterList([np.zeros((2, 3))])
    >>> params.append(nn.Parameter(np.ones(2)))
    ParameterList(
        (0): Parameter containing: [float64 of size 2x3]
        (1): Parameter containing: [float64 of size 2]
    )
    >>> [name for name, _ in params.named_parameters()]
    ['0', '1']
    """

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(list(self._parameters.values()))

    def __getitem__(self, i: int | slice) -> Any:
        items = list(self._parameters.values())
        if isinstance(i, slice):
            return ParameterList(items[i])
        return items[_index("ParameterList", len(items), i)]

    def __setitem__(self, i: int, value: Any) -> None:
        i = _index("ParameterList", len(self), i)
        setattr(self, str(i), _as_parameter("ParameterList", value))

    def append(self, value: Any) -> ParameterList:
        """`value` (a Parameter, or a Tensor or array made one) at the end; returns self.

        >>> import numpy as np, nn
        >>> len(nn.ParameterList().append(np.zeros(2)))
        1
        """
        self.register_parameter(str(len(self)), _as_parameter("ParameterList.append", value))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Append each of `values`; returns self.

        >>> import numpy as np, nn
        >>> len(nn.ParameterList().extend([np.zeros(2), np.ones(3)]))
        2
        """
        if not isinstance(values, Iterable) or isinstance(values, Tensor | np.ndarray):
            raise TypeError(f"ParameterList.extend should be called with an iterable of "
                            f"parameters, but got {type(values).__name__}")
        for v in list(values):
            self.append(v)
        return self

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def extra_repr(self) -> str:
        return "\n".join(f"  ({k}): {_describe(p)}" for k, p in self._parameters.items())


class ParameterDict(Module):
    """A dict of parameters, registered under their keys, in insertion order: `d[k]`,
    `d[k] = p`, `del d[k]`, `in`, `keys`, `items`, `values`, `get`, `pop`, `update`,
    `clear`. A key must be a name `register_parameter` takes (a str without '.'). Built
    from a plain dict, the keys are sorted, as PyTorch's.

    >>> import numpy as np, nn
    >>> d = nn.ParameterDict({"w": np.ones((2, 2))})
    >>> d["b"] = np.zeros(2)
    >>> list(d), d["b"].requires_grad
    (['w', 'b'], True)
    """

    def __init__(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None
                 ) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Parameter:
        return self._parameters[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: a key must be a str, got {type(key).__name__}")
        self.register_parameter(key, _as_parameter("ParameterDict", value))

    def __delitem__(self, key: str) -> None:
        if key not in self._parameters:
            raise KeyError(key)
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._parameters))

    def __contains__(self, key: object) -> bool:
        return key in self._parameters

    def keys(self) -> Iterable[str]:
        return self._parameters.keys()

    def items(self) -> Iterable[tuple[str, Parameter]]:
        return self._parameters.items()

    def values(self) -> Iterable[Parameter]:
        return self._parameters.values()

    def get(self, key: str, default: Any = None) -> Any:
        """The parameter `key`, or `default`.

        >>> import nn
        >>> nn.ParameterDict().get("w") is None
        True
        """
        return self._parameters.get(key, default)

    def pop(self, key: str) -> Parameter:
        """Remove the parameter `key` and return it.

        >>> import numpy as np, nn
        >>> d = nn.ParameterDict({"w": np.ones(1)})
        >>> d.pop("w").shape, len(d)
        ((1,), 0)
        """
        value = self[key]
        del self[key]
        return value

    def clear(self) -> None:
        """Remove every parameter.

        >>> import numpy as np, nn
        >>> d = nn.ParameterDict({"w": np.ones(1)}); d.clear(); len(d)
        0
        """
        for k in list(self._parameters):
            delattr(self, k)

    def update(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Add (or replace) parameters from a mapping or from (key, value) pairs, in order;
        a plain dict's in sorted key order, as PyTorch's (an OrderedDict or a ParameterDict
        keeps its order).

        >>> import numpy as np, nn
        >>> d = nn.ParameterDict(); d.update([("a", np.ones(1))]); list(d)
        ['a']
        """
        if isinstance(parameters, OrderedDict | ParameterDict):
            pairs = list(parameters.items())
        elif isinstance(parameters, Mapping):
            pairs = sorted(parameters.items())
        elif isinstance(parameters, Iterable) and not isinstance(parameters, str):
            pairs = []
            for j, pair in enumerate(parameters):
                if not isinstance(pair, tuple | list) or len(pair) != 2:
                    raise ValueError(f"ParameterDict.update: element #{j} should be a "
                                     f"(key, value) pair, got {pair!r}")
                pairs.append(tuple(pair))
        else:
            raise TypeError(f"ParameterDict.update should be called with a mapping or an "
                            f"iterable of (key, value) pairs, got {type(parameters).__name__}")
        for k, v in pairs:
            self[k] = v

    def extra_repr(self) -> str:
        return "\n".join(f"  ({k}): {_describe(p)}" for k, p in self._parameters.items())
