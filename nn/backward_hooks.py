"""Module backward hooks, as PyTorch's `register_full_backward_hook` and
`register_full_backward_pre_hook`: a pre-hook `hook(module, grad_output)` runs when the
gradients of the module's outputs are known and may return new ones; a hook
`hook(module, grad_input, grad_output)` runs when the gradients of its positional Tensor
inputs are known and may return new ones. Each is a tuple with one entry per Tensor output
(per positional Tensor input), None for an input that needs no gradient.

They work by identity nodes in the graph: one over the module's Tensor inputs, one over its
Tensor outputs, sharing what the outputs' gradients were.

>>> import autodiff as ad, nn
>>> layer = nn.Linear(2, 1)
>>> seen = []
>>> _ = layer.register_full_backward_hook(
...     lambda m, gin, gout: seen.append((gin[0].shape, gout[0].shape)))
>>> layer(ad.ones((3, 2), requires_grad=True)).sum().backward()
>>> seen
[((3, 2), (3, 1))]
"""

from __future__ import annotations

from typing import Any

import autodiff as ad
from autodiff import Tensor


class _Identity(ad.Function):
    """The arrays as they are (views); `backward` hands their gradients to `on_backward`,
    which returns the gradients to pass on."""

    name = "backward_hook"

    @staticmethod
    def forward(ctx, *arrays, on_backward):
        ctx.on_backward = on_backward
        views = tuple(a.view() for a in arrays)
        return views if len(views) > 1 else views[0]

    @staticmethod
    def backward(ctx, *grads):
        needs = ctx.needs_input_grad
        given = tuple(g if need else None for g, need in zip(grads, needs))
        out = ctx.on_backward(given)
        return out if len(out) > 1 else out[0]


def _checked(who: str, result: Any, before: tuple[Any, ...]) -> tuple[Any, ...]:
    """A hook's result: None keeps `before`; else a tuple (or list) of as many entries."""
    if result is None:
        return before
    result = tuple(result) if isinstance(result, tuple | list) else (result,)
    if len(result) != len(before):
        raise RuntimeError(f"{who} returned {len(result)} gradients, expected {len(before)}")
    for new, old in zip(result, before):
        if new is not None and old is not None and tuple(new.shape) != tuple(old.shape):
            raise RuntimeError(f"{who} returned a gradient of shape {tuple(new.shape)}, "
                               f"expected {tuple(old.shape)}")
    return result


def run_with_backward_hooks(m: Any, call: Any, args: tuple[Any, ...],
                            kwargs: dict[str, Any]) -> Any:
    """`call(*args, **kwargs)` with identity nodes around it that run `m`'s backward pre-hooks
    and backward hooks, when grad mode is on and an input or an output requires grad."""
    if not ad.is_grad_enabled():
        return call(*args, **kwargs)
    state: dict[str, Any] = {"grad_output": None}
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    wrapped_in = any(args[i].requires_grad for i in positions)

    def on_inputs(grads: tuple[Any, ...]) -> tuple[Any, ...]:
        for hook in list(m._backward_hooks.values()):
            grads = _checked("a backward hook", hook(m, grads, state["grad_output"]), grads)
        return grads

    if wrapped_in:
        new = _Identity.apply(*(args[i] for i in positions), on_backward=on_inputs)
        new = new if isinstance(new, tuple) else (new,)
        args = list(args)  # type: ignore[assignment]
        for i, t in zip(positions, new):
            args[i] = t  # type: ignore[index]
        args = tuple(args)
    out = call(*args, **kwargs)
    outs = out if isinstance(out, tuple) else (out,)
    where = [i for i, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad]
    if not where:
        return out

    def on_outputs(grads: tuple[Any, ...]) -> tuple[Any, ...]:
        for hook in list(m._backward_pre_hooks.values()):
            grads = _checked("a backward pre-hook", hook(m, grads), grads)
        state["grad_output"] = grads
        if not wrapped_in:  # no input needs a gradient: the hooks run now, as PyTorch's
            for hook in list(m._backward_hooks.values()):
                hook(m, (None,) * len(positions), grads)
        return grads

    new = _Identity.apply(*(outs[i] for i in where), on_backward=on_outputs)
    new = new if isinstance(new, tuple) else (new,)
    replaced = list(outs)
    for i, t in zip(where, new):
        replaced[i] = t
    return tuple(replaced) if isinstance(out, tuple) else replaced[0]
