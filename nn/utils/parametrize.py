"""Parametrizations, as PyTorch's `torch.nn.utils.parametrize`: a module's parameter (or
buffer) computed on every access from other tensors, `module.weight = f(original)`.

`register_parametrization(module, "weight", f)` moves the tensor to
`module.parametrizations.weight.original` (or `original0`, `original1`, ... when `f` has a
`right_inverse` that returns several tensors, as weight_norm's does) and gives the module's
class a property `weight` that returns `f(original)`. The module's class becomes a subclass
made for it (`ParametrizedLinear`), as in PyTorch; `remove_parametrizations` undoes it all.
The state dict's keys are PyTorch's, so a PyTorch state dict (as arrays) loads.

>>> import autodiff as ad, nn
>>> from nn.utils import parametrize
>>> class Symmetric(nn.Module):
...     def forward(self, x):
...         return ad.triu(x) + ad.triu(x, 1).T
>>> m = parametrize.register_parametrization(nn.Linear(2, 2, bias=False), "weight", Symmetric())
>>> type(m).__name__, list(m.state_dict())
('ParametrizedLinear', ['parametrizations.weight.original'])
>>> bool((m.weight.data == m.weight.data.T).all())
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import autodiff as ad
from autodiff import Tensor
from nn.containers import ModuleDict, ModuleList
from nn.module import Module, Parameter

__all__ = ["ParametrizationList", "is_parametrized", "register_parametrization",
           "remove_parametrizations"]


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor (applied in order: `self[1](self[0](original))`)
    and the original tensor(s) they start from: `original`, or `original0`, `original1`, ...
    when the first one's `right_inverse` returns a sequence. Made by
    `register_parametrization`; assigning to the parametrized name calls `right_inverse`.

    >>> import nn
    >>> from nn.utils import parametrize
    >>> m = parametrize.register_parametrization(nn.Linear(3, 2), "bias", nn.Tanh())
    >>> type(m.parametrizations.bias).__name__, m.parametrizations.bias.original.shape
    ('ParametrizationList', (2,))
    """

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False
                 ) -> None:
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        shape, dtype = original.shape, original.dtype
        with ad.no_grad():
            new: Any = original
            for m in reversed(list(self)):
                if hasattr(m, "right_inverse"):
                    new = m.right_inverse(new)
        if not isinstance(new, Tensor) and not isinstance(new, Sequence):
            raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors "
                             f"(list, tuple...). Got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if new.dtype != original.dtype:
                raise ValueError("When `right_inverse` outputs one tensor, it may not change "
                                 f"the dtype.\noriginal.dtype: {original.dtype}\n"
                                 f"right_inverse(original).dtype: {new.dtype}")
            _set_data(original, new)  # the original tensor object stays (an optimizer holds it)
            _register(self, "original", original)
        else:
            for i, t in enumerate(new):
                if not isinstance(t, Tensor):
                    raise ValueError("'right_inverse' must return a Tensor or a Sequence of "
                                     f"tensors (list, tuple...). Got element {i} of the "
                                     f"sequence with type {type(t).__name__}.")
                if isinstance(original, Parameter):
                    t = Parameter(t.data, requires_grad=original.requires_grad)
                _register(self, f"original{i}", t)
        if not unsafe:
            z = self()
            _check_result(z, shape, dtype, "Registering a parametrization",
                          ("unparametrized", "parametrized"))

    def right_inverse(self, value: Tensor) -> None:
        """Set the original tensor(s) so that the parametrized tensor is `value` (each
        parametrization's `right_inverse`, last to first), without recording.

        >>> import autodiff as ad, nn
        >>> from nn.utils import parametrize
        >>> class Double(nn.Module):
        ...     def forward(self, x):
        ...         return x * 2.0
        ...     def right_inverse(self, x):
        ...         return x / 2.0
        >>> m = parametrize.register_parametrization(nn.Linear(2, 2), "bias", Double())
        >>> m.bias = ad.tensor([2.0, 4.0])
        >>> m.parametrizations.bias.original.tolist(), m.bias.tolist()
        ([1.0, 2.0], [2.0, 4.0])
        """
        with ad.no_grad():
            for m in reversed(list(self)):
                if not hasattr(m, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(m).__name__} does not "
                                       "implement right_inverse.")
                value = m.right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(f"`right_inverse` should return a tensor. Got "
                                     f"{type(value).__name__}")
                original = self.original
                if value.dtype != original.dtype or value.shape != original.shape:
                    raise ValueError(
                        "The tensor returned by `right_inverse` has dtype "
                        f"{value.dtype} and shape {value.shape} while `original` has dtype "
                        f"{original.dtype} and shape {original.shape}")
                _set_data(original, value)
                return
            if not isinstance(value, Sequence) or len(value) != self.ntensors:
                raise ValueError(f"'right_inverse' must return a sequence of {self.ntensors} "
                                 f"tensors. Got {type(value).__name__}")
            for i, t in enumerate(value):
                original_i = getattr(self, f"original{i}")
                if not isinstance(t, Tensor) or t.shape != original_i.shape or \
                        t.dtype != original_i.dtype:
                    raise ValueError(f"'right_inverse' returned for original{i} "
                                     f"{_describe(t)}; it has shape {original_i.shape} and "
                                     f"dtype {original_i.dtype}")
                _set_data(original_i, t)

    def __repr__(self) -> str:
        return "ParametrizationList" + super().__repr__().removeprefix("ModuleList")

    def forward(self) -> Tensor:  # type: ignore[override]
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for m in list(self)[1:]:
            x = m(x)
        return x


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make `module.<tensor_name>` be `parametrization(original)`, computed on each access
    (PyTorch's `torch.nn.utils.parametrize.register_parametrization`). A second one on the
    same name is applied after the first. Unless `unsafe`, the result must keep the tensor's
    shape and dtype. Returns `module`.

    >>> import autodiff as ad, nn
    >>> from nn.utils import parametrize
    >>> m = parametrize.register_parametrization(nn.Linear(2, 2), "bias", nn.Tanh())
    >>> bool((m.bias.data == ad.tanh(m.parametrizations.bias.original).data).all())
    True
    """
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            y = getattr(module, tensor_name)
            x = parametrization(y)
            _check_result(x, y.shape, y.dtype, "Registering a parametrization",
                          (f"module.{tensor_name}", f"parametrization(module.{tensor_name})"))
            if hasattr(parametrization, "right_inverse"):
                try:
                    z = parametrization.right_inverse(x)
                except NotImplementedError:
                    pass
                else:
                    _check_result(z, y.shape, y.dtype, "parametrization.right_inverse",
                                  (f"module.{tensor_name}", "returned"))
        plist = module.parametrizations[tensor_name]
        plist.append(parametrization)
        plist.unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        if not isinstance(original, Tensor):
            raise ValueError(f"register_parametrization: module.{tensor_name} is None "
                             "(a name registered without a tensor)")
        plist = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        setattr(type(module), tensor_name, _parametrized_property(tensor_name))
        module.parametrizations[tensor_name] = plist
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    return module


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Does `module` have a parametrization (on `tensor_name`, when given)?

    >>> import nn
    >>> from nn.utils import parametrize
    >>> m = parametrize.register_parametrization(nn.Linear(2, 2), "bias", nn.Tanh())
    >>> parametrize.is_parametrized(m), parametrize.is_parametrized(m, "weight")
    (True, False)
    """
    plists = module.__dict__.get("parametrizations")
    if not isinstance(plists, ModuleDict):
        return False
    return len(plists) > 0 if tensor_name is None else tensor_name in plists


def remove_parametrizations(module: Module, tensor_name: str, leave_parametrized: bool = True
                            ) -> Module:
    """Remove the parametrizations on `module.<tensor_name>`: it becomes a plain parameter
    (or buffer) again, holding its parametrized value (`leave_parametrized=True`) or the
    original one. The module's class goes back to its own once nothing is parametrized.

    >>> import nn
    >>> from nn.utils import parametrize
    >>> m = parametrize.register_parametrization(nn.Linear(2, 2), "bias", nn.Tanh())
    >>> m = parametrize.remove_parametrizations(m, "bias")
    >>> type(m).__name__, list(m.state_dict())
    ('Linear', ['weight', 'bias'])
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with ad.no_grad():
                t = getattr(module, tensor_name)
            _set_data(original, t)
    else:
        if not leave_parametrized:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                             "that is parametrized in terms of a sequence of tensors.")
        with ad.no_grad():
            t = getattr(module, tensor_name)
        requires_grad = plist.original0.requires_grad
        original = (Parameter(t.data, requires_grad=requires_grad)
                    if isinstance(plist.original0, Parameter) else t.detach())
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    _register(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = type(module).__bases__[0]
    return module


def _parametrized_property(name: str) -> property:
    def get(self: Module) -> Tensor:
        return self.parametrizations[name]()

    def set_(self: Module, value: Tensor) -> None:
        self.parametrizations[name].right_inverse(value)

    return property(get, set_, doc=f"`{name}`, computed by its parametrizations")


def _inject_new_class(module: Module) -> None:
    """Give `module` a class of its own (a subclass of its class), to hold the properties.
    Assigning to a parametrized name, even an nn.Parameter, goes to its property (which
    calls right_inverse), never to the module's registries."""
    cls = type(module)

    def __setattr__(self: Module, name: str, value: Any) -> None:
        if is_parametrized(self, name):
            object.__setattr__(self, name, value)
        else:
            cls.__setattr__(self, name, value)

    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), {"__setattr__": __setattr__})


def _register(module: Module, name: str, t: Tensor) -> None:
    if isinstance(t, Parameter):
        module.register_parameter(name, t)
    else:
        module.register_buffer(name, t)


def _set_data(target: Tensor, value: Tensor) -> None:
    """Put `value`'s values into `target`, which stays the same object (PyTorch's `set_`),
    as an in-place write the engine sees."""
    if value is target:
        return
    if value.shape == target.shape and value.dtype == target.dtype:
        target.data[...] = value.data
    else:
        target.data = value.data.copy()
    ad.increment_version(target)


def _check_result(z: Any, shape: tuple[int, ...], dtype: Any, who: str,
                  names: tuple[str, str]) -> None:
    if not isinstance(z, Tensor):
        raise ValueError(f"A parametrization must return a tensor. Got {type(z).__name__}.")
    for what, mine, theirs in (("dtype", dtype, z.dtype), ("shape", shape, z.shape)):
        if mine != theirs:
            raise ValueError(f"{who} may not change the {what} of the tensor, unless the "
                             f"`unsafe` flag is enabled.\n{names[0]} {what}: {mine}\n"
                             f"{names[1]} {what}: {theirs}")


def _describe(t: Any) -> str:
    return (f"shape {t.shape} and dtype {t.dtype}" if isinstance(t, Tensor)
            else f"a {type(t).__name__}")
