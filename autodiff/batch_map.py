"""vmap: map a function over a batch axis of its arguments, as torch.func.vmap and jax.vmap.

It is a loop: f is called once per sample on that sample's slices (the batch axis removed) and
the results are stacked. Same answers as torch.func.vmap, with no batching rules and so no
speed-up; what it buys is the notation, and composition with the other transforms: per-sample
gradients are `vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)`.

Slices are views (basic indexing) and the results are joined with `stack`, both recorded ops:
gradients flow back through vmap to its inputs as through the written-out loop. (The file is
not named vmap.py: `ad.vmap` the function would shadow the module, and the API page lost it.)

>>> import autodiff as ad
>>> ad.vmap(lambda x: x.sum())(ad.tensor([[1.0, 2.0], [3.0, 4.0]]))
tensor([3., 7.])
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import numpy as np

from autodiff import creation, versions
from autodiff.ops.shape import stack
from autodiff.pytree import flatten
from autodiff.replay import Frame, running
from autodiff.tensor import Tensor

Dims = Any  # an int, None, or a tuple (list, dict) of them shaped as the arguments

_RANDOMNESS = ("error", "different", "same")


def vmap(f: Callable[..., Any], in_dims: Dims = 0, out_dims: Dims = 0,
         randomness: str = "error", *, chunk_size: int | None = None) -> Callable[..., Any]:
    """f mapped over axis `in_dims` of its arguments; the results stacked on axis `out_dims`.

    A loop over the samples (same results as torch.func.vmap, no speed-up): f is called on
    each sample's slices and its outputs are stacked, so a 0-d output per sample gives shape
    (B,). `in_dims` is an int (every argument mapped on that axis, negative counts from the
    end), or a tuple with one entry per argument: an int, None (the argument is passed whole
    to every sample; needed for a non-Tensor argument) or a tuple, list or dict matching a
    tree argument. `out_dims` is an int or a tree matching f's output (Tensors or trees of
    them). Keyword arguments are passed unmapped. Mapped arguments must agree on the batch
    size, which must be at least 1.

    `randomness`: "error" raises when f draws from the engine's generator (ad.rand, ad.randn,
    dropout: anything through `ad.generator()`; NumPy's global generator is not seen),
    "different" lets each sample draw its own numbers, "same" runs each sample on a generator
    of the thread's own started from the same state (`creation.thread_generator`: other
    threads' draws are not rewound) so that all see the same draw. `chunk_size` is accepted
    (a positive int or None) and changes nothing. An in-place write into a Tensor f closes
    over or an argument with in_dim None raises (the loop would apply it once per sample).
    A side effect written with `autodiff.replay.replayed` (spectral_norm's power iteration in
    training mode) runs for the first sample only, and the others see its result: once per
    call, as torch.func.vmap, which calls f once.

    >>> import autodiff as ad
    >>> x, w = ad.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), ad.tensor([1.0, -1.0])
    >>> ad.vmap(lambda a, b: a @ b, in_dims=(0, None))(x, w)
    tensor([-1., -1., -1.])
    >>> loss = lambda w, xi: (xi @ w) ** 2                      # per-sample gradients
    >>> ad.vmap(ad.grad(loss), in_dims=(None, 0))(w, x)
    tensor([[ -2.,  -4.],
            [ -6.,  -8.],
            [-10., -12.]])
    """
    if randomness not in _RANDOMNESS:
        raise ValueError(f"vmap: randomness must be 'error', 'different' or 'same', got "
                         f"{randomness!r}")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(
            chunk_size, int | np.integer) or chunk_size < 1):
        raise ValueError(f"vmap: chunk_size must be None or a positive int, got {chunk_size!r}")
    for what, dims in (("in_dims", in_dims), ("out_dims", out_dims)):
        if dims is None or not (_is_dim(dims) or type(dims) is tuple):
            raise ValueError(f"vmap: {what} must be an int or a tuple (one entry per "
                             f"{'argument' if what == 'in_dims' else 'output'}), got {dims!r}")

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        leaves, rebuild = flatten(args)
        dims = _per_leaf(in_dims if type(in_dims) is tuple else (in_dims,) * len(args), args,
                         "in_dims", "the arguments")
        size = _batch_size(leaves, dims, _names(args))
        watched = _watched(f, [a for a, d in zip(leaves, dims) if d is None],
                           [a for a, d in zip(leaves, dims) if d is not None])
        outs: list[list[Tensor]] = []
        memo: list[Any] = []
        structure = None
        # "same": this thread's own generator, every sample from its start (creation.
        # thread_generator: other threads' draws are neither taken nor rewound)
        with creation.thread_generator() if randomness == "same" else nullcontext():
            state = creation.get_rng_state()
            for i in range(size):
                sample = rebuild([a if d is None else a[(slice(None),) * (d % a.ndim) + (i,)]
                                  for a, d in zip(leaves, dims)])
                if randomness == "same":
                    creation.set_rng_state(state)
                with running(Frame(memo, again=i > 0)):  # a `replayed` side effect: once
                    out = _call(f, sample, kwargs, randomness, watched)
                flat, rebuild_out = flatten(out)
                _check_output(out, flat, structure, rebuild_out, i)
                structure = rebuild_out([None] * len(flat))
                outs.append(flat)
        odims = _per_leaf(out_dims, structure, "out_dims", "the outputs")
        return rebuild_out([_stack([o[k] for o in outs], d, k)
                            for k, d in enumerate(odims)])

    return wrapper


def _is_dim(d: Any) -> bool:
    return d is None or (isinstance(d, int | np.integer) and not isinstance(d, bool))


def _per_leaf(dims: Dims, tree: Any, what: str, of: str) -> list[int | None]:
    """One dim per leaf of `tree`: `dims` is a prefix of its structure (an int or None stands
    for every leaf under it), as torch.func's and JAX's in_dims/in_axes."""
    if _is_dim(dims):
        return [None if dims is None else int(dims)] * len(flatten(tree)[0])
    if type(dims) is dict and type(tree) is dict and set(dims) == set(tree):
        return [d for k in tree for d in _per_leaf(dims[k], tree[k], what, of)]
    if isinstance(dims, tuple | list) and isinstance(tree, tuple | list) and isinstance(
            dims, list) == isinstance(tree, list) and len(dims) == len(tree):
        return [d for dk, t in zip(dims, tree) for d in _per_leaf(dk, t, what, of)]
    if not isinstance(dims, tuple | list | dict):
        raise ValueError(f"vmap: each entry of {what} must be an int or None, got {dims!r}")
    shape = flatten(tree)[1](["*"] * len(flatten(tree)[0]))
    raise ValueError(f"vmap: {what} {dims!r} does not match the structure of {of} {shape!r} "
                     "(* is a leaf)")


def _names(args: tuple[Any, ...]) -> list[str]:
    """For each leaf of the arguments, which argument it is (and which leaf of a tree)."""
    names = []
    for j, a in enumerate(args):
        n = len(flatten(a)[0])
        names += [f"argument {j}"] if n == 1 and not isinstance(a, tuple | list | dict) else [
            f"argument {j} (leaf {m} of its {type(a).__name__})" for m in range(n)]
    return names


def _batch_size(leaves: list[Any], dims: list[int | None], names: list[str]) -> int:
    sizes = []
    for a, d, name in zip(leaves, dims, names):
        if d is None:
            continue
        if not isinstance(a, Tensor):
            raise ValueError(f"vmap: in_dim {d} for {name}, of type {type(a).__name__}; only "
                             "Tensors are mapped, give it in_dim None")
        if not -a.ndim <= d < a.ndim:
            raise ValueError(f"vmap: in_dim {d} for {name} of shape {a.shape}; it must "
                             f"satisfy {-a.ndim} <= in_dim < {a.ndim}")
        sizes.append((name, a.shape[d]))
    if not sizes:
        raise ValueError("vmap: at least one input must be mapped (in_dims are all None)")
    if len({n for _, n in sizes}) > 1:
        raise ValueError("vmap: the mapped inputs must agree on the batch size, got "
                         + ", ".join(f"{n} for {name}" for name, n in sizes))
    if sizes[0][1] == 0:
        raise ValueError("vmap: the batch size is 0; a loop over the samples cannot tell the "
                         "shape of f's output (torch.func.vmap returns an empty batch)")
    return sizes[0][1]


def _call(f: Callable[..., Any], sample: tuple[Any, ...], kwargs: dict[str, Any],
          randomness: str, watched: list[Tensor]) -> Any:
    """f on one sample; refuses a random draw (randomness="error") and in-place writes into
    the watched tensors."""
    gen = creation.generator()
    before = gen.bit_generator.state if randomness == "error" else None
    seen = [t._version for t in watched]
    out = f(*sample, **kwargs)
    if before is not None and (creation.generator() is not gen
                               or gen.bit_generator.state != before):
        raise RuntimeError("vmap: f drew random numbers (the engine's generator moved) while "
                           "randomness='error'; pass randomness='different' (a draw per "
                           "sample) or 'same' (one draw for all samples)")
    for t, v in zip(watched, seen):
        if t._version != v:
            raise RuntimeError(f"vmap: f wrote in place into a tensor of shape {t.shape} that "
                               "it closes over or received with in_dim None (once, for the "
                               "first sample); a loop would write it once per sample, and "
                               "torch.func.vmap refuses a batched write into it. Write into "
                               "a tensor made inside f, or return the update")
    return out


def _watched(f: Callable[..., Any], unmapped: list[Any], mapped: list[Any]) -> list[Tensor]:
    """The Tensors f can reach other than through its mapped arguments: its closure, the
    globals it names, its defaults (through nested functions, partials and trees; not the
    attributes of an object, a Module's parameters), and the arguments with in_dim None; less
    those sharing memory with a mapped argument (written on purpose)."""
    found: dict[int, Tensor] = {}
    seen: set[int] = set()
    todo = [f, *unmapped]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, Tensor):
            found[id(obj)] = obj
        elif isinstance(obj, tuple | list):
            todo.extend(obj)
        elif isinstance(obj, dict):
            todo.extend(obj.values())
        elif isinstance(obj, functools.partial):
            todo.extend([obj.func, *obj.args, *obj.keywords.values()])
        elif callable(obj) and hasattr(obj, "__code__"):
            todo.extend(c.cell_contents for c in obj.__closure__ or () if _filled(c))
            todo.extend(obj.__defaults__ or ())
            names = obj.__code__.co_names
            todo.extend(obj.__globals__[n] for n in names if n in obj.__globals__)
    owners = {id(versions.memory_owner(a.data)) for a in mapped if isinstance(a, Tensor)}
    return [t for t in found.values() if id(versions.memory_owner(t.data)) not in owners]


def _filled(cell: Any) -> bool:
    try:
        _ = cell.cell_contents
    except ValueError:  # a cell not yet assigned
        return False
    return True


def _check_output(out: Any, flat: list[Any], structure: Any,
                  rebuild: Callable[[list[Any]], Any], i: int) -> None:
    for o in flat:
        if not isinstance(o, Tensor):
            raise ValueError(f"vmap: f must return Tensors (or a tuple, list or dict of them), "
                             f"got {type(o).__name__}"
                             + (f" inside a {type(out).__name__}" if o is not out else ""))
    if structure is not None and rebuild([None] * len(flat)) != structure:
        raise ValueError(f"vmap: f returned {rebuild(['*'] * len(flat))!r} for sample {i} but "
                         "another structure for sample 0 (* is a Tensor)")


def _stack(outs: list[Tensor], d: int | None, k: int) -> Tensor:
    """The samples of output k stacked on axis d."""
    nd = outs[0].ndim
    if d is None:
        raise ValueError(f"vmap: out_dims None for output {k}: a loop cannot tell an output "
                         "that does not depend on the batch; give it an int out_dim")
    if not -(nd + 1) <= d <= nd:
        raise ValueError(f"vmap: out_dim {d} for output {k} of per-sample shape "
                         f"{outs[0].shape}; it must satisfy {-(nd + 1)} <= out_dim <= {nd}")
    shapes = {o.shape for o in outs}
    if len(shapes) > 1:
        raise ValueError(f"vmap: output {k} has different shapes for different samples: "
                         f"{sorted(shapes)}")
    return stack(outs, axis=d)
