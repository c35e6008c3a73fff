"""Module, Parameter and the containers: the structure a model is built from.

Parameters and submodules are registered by attribute assignment, as in PyTorch.

>>> import nn
>>> model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
>>> [name for name, _ in model.named_parameters()]
['0.weight', '0.bias', '2.weight', '2.bias']
>>> sum(p.size for p in model.parameters())
23
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor, anomaly_scope, is_anomaly_enabled, register_library
from nn._state import checked_array
from nn.hooks import RemovableHandle, add_hook, call_with_hooks

# Anomaly mode names the user's line that called a layer, not a line inside nn.
register_library(os.path.dirname(os.path.abspath(__file__)))
_CALLS = threading.local()  # .paths: id(module) -> path, during an outermost call (anomaly)
_HOOK_DICTS = ("_forward_hooks", "_forward_hooks_with_kwargs", "_forward_hooks_always_called",
               "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_backward_hooks",
               "_backward_pre_hooks")


class Parameter(Tensor):
    """A Tensor that a Module registers as learnable (requires grad by default).

    >>> import nn
    >>> p = nn.Parameter([1.0, 2.0])
    >>> p.requires_grad, p.dtype
    (True, dtype('float32'))
    """

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        super().__init__(data.data if isinstance(data, Tensor) else data,
                         requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter(" + super().__repr__() + ")"


class Module:
    """Base class of layers and models: subclass, assign parameters and submodules in
    `__init__`, and define `forward`. Calling the module calls `forward`.

    >>> import autodiff as ad, nn
    >>> class Affine(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.scale = nn.Parameter([2.0])
    ...     def forward(self, x):
    ...         return x * self.scale
    >>> Affine()(ad.tensor([1.0, 3.0])).tolist()
    [2.0, 6.0]
    """

    training: bool
    # state entries this kind of module accepts (a 0-d integer each) and ignores on load:
    # PyTorch buffers it has no use for (BatchNorm's num_batches_tracked)
    ignored_on_load: tuple[str, ...] = ()

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "training", True)
        for name in _HOOK_DICTS:  # hook id -> hook, and the ids registered with each option
            object.__setattr__(self, name, OrderedDict())

    # -- registration -----------------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                                 f"before assigning {name!r}")
        if isinstance(value, Parameter):
            self._register("_parameters", name, value)
        elif isinstance(value, Module):
            self._register("_modules", name, value)
        else:  # as PyTorch: a registered name takes None, or a tensor for a buffer
            for registry, kind, allowed in _SLOTS:
                if name in getattr(self, registry):
                    if value is not None and not isinstance(value, allowed):
                        raise TypeError(f"cannot assign {type(value).__name__!r} as {kind} "
                                        f"{name!r} ({allowed.__name__} or None expected)")
                    getattr(self, registry)[name] = value
        object.__setattr__(self, name, value)

    def _register(self, registry: str, name: str, value: Any) -> None:
        """`value` under `name` in `registry` (where a name already there keeps its place in
        the order, as PyTorch's), and in no other."""
        for other, _, _ in _SLOTS:
            if other != registry:
                getattr(self, other).pop(name, None)
        self.__dict__.get("_non_persistent_buffers_set", set()).discard(name)
        getattr(self, registry)[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._modules, self._buffers):
            registry.pop(name, None)
        self.__dict__.get("_non_persistent_buffers_set", set()).discard(name)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """A saved, non-learnable array (e.g. batch norm's running statistics); None keeps
        the name registered without a value. With `persistent=False` it is not part of
        `state_dict()` (nor expected by `load_state_dict`), as PyTorch's.

        >>> import autodiff as ad, nn
        >>> m = nn.Module()
        >>> m.register_buffer("mask", ad.ones(2), persistent=False)
        >>> [k for k, _ in m.named_buffers()], list(m.state_dict())
        (['mask'], [])
        """
        _check_name(self, "register_buffer", name, "_buffers")
        t = tensor if isinstance(tensor, Tensor) or tensor is None else ad.tensor(tensor)
        self._register("_buffers", name, t)
        if not persistent:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """`param` as the parameter `name`; None keeps the name registered, without a value
        (as `bias=False` layers do). Anything but a Parameter or None is a TypeError.

        >>> import nn
        >>> m = nn.Module()
        >>> m.register_parameter("scale", nn.Parameter([1.0]))
        >>> [k for k, _ in m.named_parameters()]
        ['scale']
        """
        _check_name(self, "register_parameter", name, "_parameters")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: cannot assign {type(param).__name__!r} "
                            f"object to parameter {name!r} (nn.Parameter or None required)")
        self._register("_parameters", name, param)

    def add_module(self, name: str, module: Module | None) -> None:
        """`module` as the child `name` (None keeps the name registered, without a module).

        >>> import nn
        >>> m = nn.Module()
        >>> m.add_module("fc", nn.Linear(2, 1))
        >>> [k for k, _ in m.named_children()]
        ['fc']
        """
        _check_name(self, "add_module", name, "_modules")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module subclass "
                            f"(child {name!r})")
        self._register("_modules", name, module)

    register_module = add_module

    # -- traversal ------------------------------------------------------------------------------

    def named_modules(self, memo: set[Module] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """(path, module) for this module and every descendant, depth first (iterative), as
        PyTorch's: a module reached twice (shared) is given once, under its first path, unless
        `remove_duplicate` is False. `memo` (a set of modules already given) is PyTorch's too.

        >>> import nn
        >>> fc = nn.Linear(2, 2)
        >>> [p for p, _ in nn.Sequential(fc, fc).named_modules(remove_duplicate=False)]
        ['', '0', '1']
        """
        stack: list[tuple[str, Module]] = [(prefix, self)]
        seen: set[int] = {id(m) for m in memo} if memo is not None else set()
        while stack:
            name, m = stack.pop()
            if remove_duplicate:
                if id(m) in seen:
                    continue
                seen.add(id(m))
                if memo is not None:
                    memo.add(m)
            yield name, m
            children = [(f"{name}.{k}" if name else k, c) for k, c in m._modules.items()
                        if c is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, child) for each direct child, a child held under two names once (its
        first), as PyTorch's.

        >>> import nn
        >>> act = nn.ReLU()
        >>> [k for k, _ in nn.Sequential(act, nn.Tanh(), act).named_children()]
        ['0', '1']
        """
        seen: set[int] = set()
        for k, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield k, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) for every parameter (this module's only, without
        `recurse`), each once unless `remove_duplicate` is False."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) for every buffer that is not None, as `named_parameters`.

        >>> import nn
        >>> [name for name, _ in nn.Sequential(nn.BatchNorm1d(2)).named_buffers()]
        ['0.running_mean', '0.running_var']
        """
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else iter([(prefix, self)]))
        for path, m in modules:
            for k, t in getattr(m, registry).items():
                if t is None or (remove_duplicate and id(t) in seen):
                    continue
                seen.add(id(t))
                yield (f"{path}.{k}" if path else k), t

    def get_submodule(self, target: str) -> Module:
        """The module at the dotted path `target` ('' is this module), as PyTorch's; an
        AttributeError names the first step that is missing or not a Module.

        >>> import nn
        >>> nn.Sequential(nn.Sequential(nn.Linear(2, 1))).get_submodule("0.0")
        Linear(in_features=2, out_features=1, bias=True)
        """
        m: Module = self
        if target == "":
            return m
        for step in target.split("."):
            if step not in m._modules or m._modules[step] is None:
                raise AttributeError(f"{type(m).__name__} has no submodule {step!r} (in "
                                     f"{target!r})")
            m = m._modules[step]  # type: ignore[assignment]
        return m

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path `target` (e.g. '0.weight'), as PyTorch's.

        >>> import nn
        >>> nn.Sequential(nn.Linear(2, 1)).get_parameter("0.bias").shape
        (1,)
        """
        path, _, name = target.rpartition(".")
        m = self.get_submodule(path)
        if m._parameters.get(name) is None:
            raise AttributeError(f"{type(m).__name__} has no parameter {name!r} (in "
                                 f"{target!r})")
        return m._parameters[name]  # type: ignore[return-value]

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at the dotted path `target` (e.g. '0.running_mean'), as PyTorch's.

        >>> import nn
        >>> nn.Sequential(nn.BatchNorm1d(2)).get_buffer("0.running_var").tolist()
        [1.0, 1.0]
        """
        path, _, name = target.rpartition(".")
        m = self.get_submodule(path)
        if m._buffers.get(name) is None:
            raise AttributeError(f"{type(m).__name__} has no buffer {name!r} (in {target!r})")
        return m._buffers[name]  # type: ignore[return-value]

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call `fn` on every submodule (children first, depth first) and then on this
        module, as PyTorch's (e.g. to initialize the weights); returns self.

        >>> import nn
        >>> def init_weights(m):
        ...     if isinstance(m, nn.Linear):
        ...         nn.init.zeros_(m.weight)
        >>> model = nn.Sequential(nn.Linear(2, 3), nn.ReLU()).apply(init_weights)
        >>> model[0].weight.abs().max().item()
        0.0
        """
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # -- modes and gradients ----------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active, batch norm uses batch statistics) for this module,
        then `child.train(mode)` for each child, as PyTorch's (so a child that overrides
        `train` keeps its own rule); returns self.

        >>> import nn
        >>> nn.Sequential(nn.Dropout()).train(False)[0].training
        False
        """
        if not isinstance(mode, bool | np.bool_):
            raise ValueError(f"{type(self).__name__}.train: training mode is expected to be "
                             f"boolean, got {mode!r}")
        object.__setattr__(self, "training", bool(mode))
        for m in self.children():
            m.train(bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode: `train(False)`."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set `requires_grad` on every parameter (False freezes them); returns self.

        >>> import nn
        >>> model = nn.Linear(2, 1).requires_grad_(False)
        >>> [p.requires_grad for p in model.parameters()]
        [False, False]
        """
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient: set it to None (the default, as PyTorch's since
        2.0) or, with `set_to_none=False`, fill it with zeros in place (cut from any graph).

        >>> import autodiff as ad, nn
        >>> layer = nn.Linear(2, 1)
        >>> layer(ad.ones((1, 2))).sum().backward()
        >>> layer.zero_grad(set_to_none=False); layer.bias.grad
        tensor([0.])
        >>> layer.zero_grad(); layer.bias.grad is None
        True
        """
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
                continue
            if p.grad.grad_fn is not None:  # made by backward(create_graph=True)
                p.grad = p.grad.detach()
            p.grad.data[...] = 0
            ad.increment_version(p.grad)

    # -- dtype ------------------------------------------------------------------------------

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Cast every floating parameter and buffer (and gradient) to a floating dtype, in
        place: each stays the same object with a new array, so an optimizer built on the
        parameters keeps updating them. Integer buffers are left alone. Returns self.

        PyTorch's forms: `to(dtype)`, `to(tensor)` (its dtype), `to(device)`,
        `to(device, dtype)`, keywords `dtype=`, `device=`, `non_blocking=` (no effect). The
        only device is the CPU: `to("cpu")` changes nothing; any other device is an error.

        >>> import nn
        >>> model = nn.Linear(2, 1)
        >>> w = model.weight
        >>> model.to("float64").weight is w, w.dtype
        (True, dtype('float64'))
        >>> model.to("cpu") is model
        True
        """
        dtype = _to_dtype(args, kwargs)
        if dtype is not None:
            self._cast(dtype)
        return self

    def float(self) -> Module:
        """`to(float32)`.

        >>> import nn
        >>> nn.Linear(2, 1).double().float().weight.dtype
        dtype('float32')
        """
        return self._cast(np.dtype(np.float32))

    def double(self) -> Module:
        """`to(float64)`.

        >>> import nn
        >>> nn.Linear(2, 1).double().bias.dtype
        dtype('float64')
        """
        return self._cast(np.dtype(np.float64))

    def half(self) -> Module:
        """`to(float16)`.

        >>> import nn
        >>> nn.Linear(2, 1).half().weight.dtype
        dtype('float16')
        """
        return self._cast(np.dtype(np.float16))

    def _cast(self, dtype: np.dtype) -> Module:
        for t in (*self.parameters(), *self.buffers()):
            if t.dtype.kind == "f" and t.dtype != dtype:
                t.data = t.data.astype(dtype)
            if t.grad is not None and t.grad.dtype.kind == "f" and t.grad.dtype != dtype:
                t.grad.data = t.grad.data.astype(dtype)
        return self

    # -- state ------------------------------------------------------------------------------

    def state_dict(self, *, destination: dict[str, Any] | None = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict[str, Any]:
        """Parameters and persistent buffers by dotted name, as NumPy array copies (the
        Tensors themselves with `keep_vars=True`), in PyTorch's order: module by module
        (depth first), each module's parameters, then its buffers. A tensor shared by several
        modules appears under each of its names, as in PyTorch; `prefix` starts every key;
        entries go into `destination` when given (and it is returned).

        >>> import nn
        >>> list(nn.Sequential(nn.BatchNorm1d(2), nn.Linear(2, 1)).state_dict())
        ['0.weight', '0.bias', '0.running_mean', '0.running_var', '1.weight', '1.bias']
        >>> fc = nn.Linear(2, 2)
        >>> list(nn.Sequential(fc, fc).state_dict(prefix="net."))
        ['net.0.weight', 'net.0.bias', 'net.1.weight', 'net.1.bias']
        """
        out: Any = OrderedDict() if destination is None else destination
        for k, t, _ in self._state_entries(prefix):
            out[k] = t if keep_vars else t.data.copy()
        return out

    def _state_entries(self, prefix: str = "") -> Iterator[tuple[str, Tensor, bool]]:
        """(key, tensor, is_parameter) for every entry of `state_dict()`: every path to every
        parameter and persistent buffer (shared ones under each of their names)."""
        for path, m in self.named_modules(remove_duplicate=False):
            start = prefix + (f"{path}." if path else "")
            for k, p in m._parameters.items():
                if p is not None:
                    yield start + k, p, True
            skip = m.__dict__.get("_non_persistent_buffers_set", ())
            for k, b in m._buffers.items():
                if b is not None and k not in skip:
                    yield start + k, b, False

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True
                        ) -> IncompatibleKeys:
        """Copy arrays into the parameters and buffers of the same names, all or nothing.

        Everything is checked before anything is written: the keys (with `strict`, a missing or
        an unexpected key is a KeyError), and for each entry its dtype (real numbers,
        convertible to the model's dtype without overflow), its shape (exactly the model's) and,
        for parameters, that every value is finite. A failed load raises naming every bad key
        (with both shapes or dtypes) and leaves the model exactly as it was. Values are copied
        into the existing arrays, so the parameters stay the same objects (an optimizer built
        on them keeps working). Returns the keys the state does not hold (non-strict), a list
        that also carries PyTorch's `missing_keys` and `unexpected_keys` (the keys skipped).

        A PyTorch state may hold entries a module of this library has no use for, which it
        names in `ignored_on_load`: BatchNorm's `num_batches_tracked` (a 0-d integer) is
        accepted under a BatchNorm layer's prefix and ignored; anywhere else it is an
        unexpected key as any other.

        A parameter or buffer shared by several modules has a key under each of its names, as
        in PyTorch; one of them is enough to load it (checkpoints saved before this library
        listed a shared tensor once), and two of them holding different values is an error.
        Non-persistent buffers (`register_buffer(..., persistent=False)`) are not loaded.

        >>> import numpy as np, nn
        >>> model = nn.Linear(2, 1)
        >>> state = model.state_dict()
        >>> state['bias'] = np.zeros(3)
        >>> model.load_state_dict(state)
        Traceback (most recent call last):
        ...
        ValueError: load_state_dict: nothing was loaded: 'bias' has shape (3,) in the state ...
        >>> model.load_state_dict({'weight': np.ones((1, 2))}, strict=False)
        ['bias']
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict: expected a mapping of names to arrays, got "
                            f"{type(state).__name__}")
        entries = list(self._state_entries())
        own: dict[str, Tensor] = {k: t for k, t, _ in entries}
        learnable = {k for k, _, is_param in entries if is_param}
        ignored = {f"{path}.{k}" if path else k for path, m in self.named_modules()
                   for k in m.ignored_on_load} - own.keys()
        names: dict[int, list[str]] = {}  # a shared tensor's keys
        for k, t in own.items():
            names.setdefault(id(t), []).append(k)
        loaded_elsewhere = {k for ks in names.values() if any(a in state for a in ks)
                            for k in ks if k not in state}
        missing = _check_keys(own, state, strict, ignored, loaded_elsewhere)
        values: dict[str, np.ndarray] = {}
        problems: list[str] = []
        for k in sorted(ignored & state.keys()):
            try:
                checked_array(f"'{k}'", state[k], (), np.int64)
            except ValueError as e:
                problems.append(f"{e} (PyTorch's is a 0-d integer)")
        first: dict[int, str] = {}
        for k, t in own.items():
            if k in state:
                try:
                    values[k] = checked_array(f"'{k}'", state[k], t.shape, t.dtype,
                                              finite=k in learnable)
                    if not t.data.flags.writeable:
                        raise ValueError(f"'{k}': the model's array is read-only")
                except ValueError as e:
                    problems.append(str(e))
                    continue
                other = first.setdefault(id(t), k)
                if other != k and other in values and not np.array_equal(
                        values[other], values[k], equal_nan=True):
                    problems.append(f"'{other}' and '{k}' are one shared tensor in the model "
                                    "but hold different values in the state")
        if problems:
            raise ValueError("load_state_dict: nothing was loaded: " + "; ".join(problems))
        for k, value in values.items():
            own[k].data[...] = value
            ad.increment_version(own[k])
        return missing

    # -- calling and printing ---------------------------------------------------------------

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._forward_hooks or self._forward_pre_hooks or self._backward_hooks or \
                self._backward_pre_hooks:
            return call_with_hooks(self, self._run_forward, args, kwargs)
        return self._run_forward(*args, **kwargs)

    def _run_forward(self, *args: Any, **kwargs: Any) -> Any:
        if not is_anomaly_enabled():
            return self.forward(*args, **kwargs)
        return self._forward_in_scope(args, kwargs)

    def register_forward_pre_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Run `hook(module, args)` before each `forward`; a value it returns replaces the
        positional arguments (a tuple, or one value). With `with_kwargs`,
        `hook(module, args, kwargs)` returns None or `(args, kwargs)`. See `nn.hooks`.

        >>> import autodiff as ad, nn
        >>> layer = nn.Identity()
        >>> handle = layer.register_forward_pre_hook(lambda m, args: args[0] * 2)
        >>> layer(ad.tensor([1.0]))
        tensor([2.])
        """
        return add_hook(self._forward_pre_hooks, hook, prepend,
                        [(self._forward_pre_hooks_with_kwargs, with_kwargs)])

    def register_forward_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                              with_kwargs: bool = False, always_call: bool = False
                              ) -> RemovableHandle:
        """Run `hook(module, args, output)` after each `forward` (with `with_kwargs`,
        `hook(module, args, kwargs, output)`); a value it returns replaces the output. With
        `always_call` it runs also when `forward` raises. See `nn.hooks`.

        >>> import autodiff as ad, nn
        >>> shapes = {}
        >>> model = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
        >>> for name, m in model.named_children():
        ...     _ = m.register_forward_hook(lambda m, a, out, name=name:
        ...                                 shapes.__setitem__(name, out.shape))
        >>> _ = model(ad.ones((2, 4))); shapes
        {'0': (2, 3), '1': (2, 3)}
        """
        return add_hook(self._forward_hooks, hook, prepend,
                        [(self._forward_hooks_with_kwargs, with_kwargs),
                         (self._forward_hooks_always_called, always_call)])

    def register_full_backward_pre_hook(self, hook: Callable[..., Any], prepend: bool = False
                                        ) -> RemovableHandle:
        """Run `hook(module, grad_output)` when the gradients of this module's Tensor outputs
        are known (a tuple); a tuple it returns replaces them. See `nn.backward_hooks`.

        >>> import autodiff as ad, nn
        >>> layer = nn.Linear(2, 1)
        >>> _ = layer.register_full_backward_pre_hook(lambda m, gout: (gout[0] * 0,))
        >>> layer(ad.ones((1, 2))).sum().backward()
        >>> layer.weight.grad.tolist()
        [[0.0, 0.0]]
        """
        return add_hook(self._backward_pre_hooks, hook, prepend, [])

    def register_full_backward_hook(self, hook: Callable[..., Any], prepend: bool = False
                                    ) -> RemovableHandle:
        """Run `hook(module, grad_input, grad_output)` when the gradients of this module's
        positional Tensor inputs are known (None for one that needs none); a tuple it returns
        replaces grad_input. See `nn.backward_hooks`.

        >>> import autodiff as ad, nn
        >>> x = ad.ones((1, 2), requires_grad=True)
        >>> _ = nn.Tanh().register_full_backward_hook(lambda m, gin, gout: (gin[0] * 2,))
        >>> nn.Tanh()(x).sum().backward()
        >>> x.grad.shape
        (1, 2)
        """
        return add_hook(self._backward_hooks, hook, prepend, [])

    def _forward_in_scope(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """forward inside an anomaly scope naming this module by its path (anomaly mode): the
        outermost call maps every submodule to its `named_modules()` path, once."""
        paths = getattr(_CALLS, "paths", None)
        outermost = paths is None
        if outermost:
            paths = _CALLS.paths = {id(m): p for p, m in self.named_modules()}
        path = paths.get(id(self))
        kind = type(self).__name__
        try:
            with anomaly_scope(f"module {path} ({kind})" if path else f"module {kind}"):
                return self.forward(*args, **kwargs)
        finally:
            if outermost:
                _CALLS.paths = None

    def extra_repr(self) -> str:
        """The layer's own arguments, shown inside its parentheses when the module prints
        (as PyTorch's: override it in a layer; one line, or several)."""
        return ""

    def __repr__(self) -> str:
        """The module tree, exactly in PyTorch's layout: `Name(extra_repr)` for a leaf,
        else the extra_repr lines and then one `(name): child` line per child, indented."""
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        children = [f"({k}): " + repr(m).replace("\n", "\n  ") for k, m in self._modules.items()]
        if len(lines) == 1 and not children:
            return f"{type(self).__name__}({lines[0]})"
        if not lines and not children:
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines + children) + "\n)"


# registry, what it holds, and what may be assigned to a name it holds (besides None)
_SLOTS = (("_parameters", "parameter", Parameter), ("_modules", "child module", Module),
          ("_buffers", "buffer", Tensor))


def _check_name(m: Module, method: str, name: Any, registry: str) -> None:
    """PyTorch's checks of a name given to `add_module`, `register_parameter` or
    `register_buffer`: a non-empty str without '.', not already an attribute of another kind
    (a method, a plain attribute, or an entry of another registry)."""
    if "_parameters" not in m.__dict__:
        raise AttributeError(f"{type(m).__name__}.__init__ must call super().__init__() "
                             f"before {method}")
    if not isinstance(name, str):
        raise TypeError(f"{method}: the name must be a str, got {type(name).__name__}")
    if name == "" or "." in name:
        raise KeyError(f"{method}: the name must be non-empty and can't contain '.', got "
                       f"{name!r}")
    if hasattr(m, name) and name not in getattr(m, registry):
        raise KeyError(f"{method}: attribute {name!r} already exists on "
                       f"{type(m).__name__}")


def _to_dtype(args: tuple[Any, ...], kwargs: dict[str, Any]) -> np.dtype | None:
    """The floating dtype `Module.to` was asked for (None: no dtype, only the CPU); a clear
    error for a device other than the CPU, a dtype that is not floating, or other arguments."""
    unknown = set(kwargs) - {"dtype", "device", "non_blocking"}
    if unknown or len(args) > 2:
        raise TypeError(f"Module.to: expected to(dtype), to(tensor), to(device) or "
                        f"to(device, dtype), got args {args!r} and keywords {sorted(kwargs)}")
    dtype, device = kwargs.get("dtype"), kwargs.get("device")
    for a in (*args, dtype):
        if type(a).__module__.startswith("torch") and not str(a).startswith("cpu"):
            raise TypeError(f"Module.to: {a} is PyTorch's dtype (or device); give NumPy's, "
                            f"e.g. to('{str(a).removeprefix('torch.')}')")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif _is_dtype(a):
            dtype = a
        else:
            device = a
    if device is not None and str(device).split(":")[0] != "cpu":
        raise ValueError(f"Module.to: device {str(device)!r} is not available: this library "
                         "computes with NumPy on the CPU; use 'cpu' (which changes nothing) "
                         "or leave the device out")
    if dtype is None:
        return None
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"Module.to: only floating dtypes (float16, float32, float64) can be "
                        f"given to parameters and buffers, got {dt}")
    return dt


def _is_dtype(x: Any) -> bool:
    if x is None or (isinstance(x, str) and x.split(":")[0] == "cpu"):
        return False
    try:
        np.dtype(x)
    except TypeError:
        return False
    return True


class IncompatibleKeys(list[str]):
    """What `load_state_dict` returns: the list of the model's keys the state lacked, with
    PyTorch's `missing_keys` (the same list) and `unexpected_keys` (the state's keys the model
    does not have, skipped by `strict=False`) as attributes.

    >>> import numpy as np, nn
    >>> result = nn.Linear(2, 1).load_state_dict({'weight': np.ones((1, 2)), 'scale': 2.0},
    ...                                           strict=False)
    >>> result, result.missing_keys, result.unexpected_keys
    (['bias'], ['bias'], ['scale'])
    """

    def __init__(self, missing: list[str], unexpected: list[str]) -> None:
        super().__init__(missing)
        self.missing_keys, self.unexpected_keys = list(missing), list(unexpected)


def _check_keys(own: Mapping[str, Tensor], state: Mapping[str, Any], strict: bool,
                ignored: set[str], loaded_elsewhere: set[str]) -> IncompatibleKeys:
    """The model's keys missing from `state` (and the state's unexpected ones); with `strict`,
    a KeyError if any is missing or if `state` holds a key the model does not have (nor
    `ignored`). A key in `loaded_elsewhere` (a shared tensor's other name, present) is not
    missing."""
    if not isinstance(state, Mapping):
        raise TypeError(f"load_state_dict: expected a mapping of names to arrays, got "
                        f"{type(state).__name__}")
    missing = [k for k in own if k not in state and k not in loaded_elsewhere]
    unexpected = [k for k in state if k not in own and k not in ignored]
    if strict and (missing or unexpected):
        raise KeyError(f"load_state_dict: nothing was loaded: missing keys {missing}, "
                       f"unexpected keys {unexpected}")
    return IncompatibleKeys(missing, unexpected)


class Summary:
    """The table nn.summary returns: rows of (name, type, output shape, parameters).

    >>> import autodiff as ad, nn
    >>> s = nn.summary(nn.Sequential(nn.Linear(4, 3), nn.ReLU()), (2, 4))
    >>> s.total, s.rows[0][:3]
    (15, ('0', 'Linear', (2, 3)))
    """

    def __init__(self, rows: list[tuple[str, str, tuple[int, ...], int]], total: int,
                 trainable: int) -> None:
        self.rows, self.total, self.trainable = rows, total, trainable

    def __str__(self) -> str:
        head = ("layer", "type", "output shape", "parameters")
        body = [(n, t, str(s), f"{p:,}") for n, t, s, p in self.rows]
        widths = [max(len(r[i]) for r in [head, *body]) for i in range(4)]
        fmt = "  ".join(f"{{:{'>' if i == 3 else '<'}{w}}}" for i, w in enumerate(widths))
        lines = [fmt.format(*head), "-" * (sum(widths) + 6)]
        lines += [fmt.format(*r) for r in body]
        lines += ["-" * (sum(widths) + 6), f"total parameters: {self.total:,}",
                  f"trainable parameters: {self.trainable:,}"]
        return "\n".join(lines)

    __repr__ = __str__


def summary(model: Module, input_shape: tuple[int, ...], dtype: Any = None) -> Summary:
    """Run `model` on zeros of `input_shape` (batch included) and tabulate each layer's output
    shape and parameter count, with the totals.

    >>> import nn
    >>> print(nn.summary(nn.Sequential(nn.Linear(4, 3), nn.ReLU()), (2, 4)))
    layer  type    output shape  parameters
    ...
    total parameters: 15
    trainable parameters: 15
    """
    rows: list[tuple[str, str, tuple[int, ...], int]] = []
    originals: list[tuple[Module, Callable[..., Any] | None]] = []
    for name, m in model.named_modules():
        if not name:
            continue

        def recording(*args: Any, _m: Module = m, _name: str = name, **kwargs: Any) -> Any:
            out = type(_m).forward(_m, *args, **kwargs)
            n = sum(p.size for p in _m._parameters.values() if p is not None)
            shape = out.shape if isinstance(out, Tensor) else ()
            rows.append((_name, type(_m).__name__, shape, n))
            return out

        originals.append((m, m.__dict__.get("forward")))
        object.__setattr__(m, "forward", recording)
    was_training = model.training
    try:
        model.eval()
        with ad.no_grad():
            model(ad.zeros(*input_shape, dtype=dtype))
    finally:
        for m, f in originals:
            if f is None:
                object.__delattr__(m, "forward")
            else:
                object.__setattr__(m, "forward", f)
        model.train(was_training)
    order = {name: i for i, (name, _) in enumerate(model.named_modules())}
    rows.sort(key=lambda r: order[r[0]])
    total = sum(p.size for p in model.parameters())
    trainable = sum(p.size for p in model.parameters() if p.requires_grad)
    return Summary(rows, total, trainable)


# the containers live in nn.containers; imported here, after Module, for `from nn.module import`
from nn.containers import ModuleDict, ModuleList, Sequential  # noqa: E402

__all__ = ["IncompatibleKeys", "Module", "ModuleDict", "ModuleList", "Parameter", "Sequential",
           "Summary", "summary"]
