"""The engine's cheap paths (issue 19) give what its general code gives.

- `binary`: two float tensors of one dtype, or a float tensor and a Python number, go
  straight to the op; anything else is promoted first;
- `Function.apply` resolves what forward saved by its common patterns first (the first
  inputs in order, the output alone), anything else by the general search;
- the walk calls a one-output backward with its gradient directly, the others unpacked.
"""

from typing import ClassVar

import numpy as np
import pytest

import autodiff as ad
from autodiff.testing import gradcheck, gradgradcheck


def _chain(x, c):
    """The op_overhead benchmark's chain, a few links long."""
    y = x
    for _ in range(3):
        y = (y * c + x).tanh() * 0.5
    return y


def _chain_ref(x, c):
    y = x
    for _ in range(3):
        y = np.tanh(y * c + x) * 0.5
    return y


# -- binary: the direct path and the promoted path agree --------------------------------------


@pytest.mark.parametrize("op, ref", [
    (lambda a, b: a * b, lambda a, b: a * b),
    (lambda a, b: a + b, lambda a, b: a + b),
    (lambda a, b: a - b, lambda a, b: a - b),
    (lambda a, b: a / b, lambda a, b: a / b),
])
@pytest.mark.parametrize("number_left", [False, True])
def test_a_number_on_either_side_gives_what_a_constant_tensor_gives(op, ref, number_left):
    x = ad.tensor([0.5, -2.0, 3.0], dtype="float64", requires_grad=True)

    def direct(t):
        return op(1.5, t) if number_left else op(t, 1.5)

    def promoted(t):
        c = ad.tensor(1.5, dtype="float64")
        return op(c, t) if number_left else op(t, c)

    (g1,) = ad.gradients(direct(x).sum(), [x])
    (g2,) = ad.gradients(promoted(x).sum(), [x])
    np.testing.assert_array_equal(direct(x).data, promoted(x).data)
    np.testing.assert_array_equal(g1.data, g2.data)
    args = (1.5, x.data) if number_left else (x.data, 1.5)
    np.testing.assert_allclose(direct(x).data, ref(*args), rtol=1e-15)
    assert gradcheck(direct, x)


def test_a_python_number_takes_a_float32_tensors_dtype_on_either_side():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    for y in (x * 0.1, 0.1 * x, x - 3, 3 - x, 2.0 / x):
        assert y.dtype == np.float32 and y.grad_fn is not None


def test_mixed_dtypes_and_integer_tensors_are_promoted_not_sent_to_the_op_as_is():
    x32 = ad.tensor([1.0, 2.0], requires_grad=True)
    x64 = ad.tensor([3.0, 4.0], dtype="float64", requires_grad=True)
    y = x32 * x64
    assert y.dtype == np.float64
    y.sum().backward()
    assert x32.grad.dtype == np.float32 and x64.grad.dtype == np.float64
    np.testing.assert_array_equal(x32.grad.data, [3.0, 4.0])
    ints = ad.tensor([1, 2])
    assert (ints * 3).dtype == ints.dtype  # integers stay integers
    assert (ints * x32).dtype == np.float32
    with pytest.raises(ValueError, match=r"mul: shapes \(2,\) and \(3,\)"):
        x32 * ad.tensor([1.0, 2.0, 3.0])


def test_without_recording_the_direct_path_makes_no_node():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with ad.no_grad():
        for y in (x * x, x * 2.0, 2.0 * x):
            assert y.grad_fn is None and not y.requires_grad
    assert (ad.tensor([1.0]) * 2.0).grad_fn is None  # nothing requires grad


# -- what forward saved: each way of resolving it ---------------------------------------------


class SaveSecondThenFirst(ad.Function):
    """x * y, saving (y, x): not the inputs in order, so the general search resolves them."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(y, x)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        y, x = ctx.saved_tensors
        return grad * y, grad * x


class SaveFirstOnly(ad.Function):
    """x * x + y, saving only its first input (a prefix of the inputs)."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x)
        return x * x + y

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x, grad


class SaveOutputAndInput(ad.Function):
    """exp(x), saving (out, x): the output first, then an input."""

    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out, x)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, _ = ctx.saved_tensors
        return grad * out


@pytest.mark.parametrize("fn, n_inputs", [
    (SaveSecondThenFirst.apply, 2), (SaveFirstOnly.apply, 2), (SaveOutputAndInput.apply, 1),
    (lambda x: ad.tanh(x), 1), (lambda x, y: x * y, 2),
])
def test_every_saved_pattern_differentiates_twice(fn, n_inputs):
    rng = np.random.default_rng(0)
    inputs = [ad.tensor(rng.standard_normal(3), requires_grad=True) for _ in range(n_inputs)]
    assert gradcheck(fn, *inputs)
    assert gradgradcheck(fn, *inputs)


def test_a_saved_input_is_the_callers_tensor_and_a_saved_output_is_rebuilt():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    c = ad.tensor([3.0, 4.0])
    w = ad.tensor([5.0, 6.0], requires_grad=True)
    y = x * w
    assert y.grad_fn._saved == (x, w)  # the inputs, in order: the call's own tuple
    assert (x * c).grad_fn._saved == (None, c)  # mul keeps only what its backward reads
    t = ad.tanh(x)
    (out,) = t.grad_fn._saved
    assert type(out).__name__ == "_Output" and out.index == 0  # no reference to t itself
    z = SaveSecondThenFirst.apply(x, c)
    assert z.grad_fn._saved == (c, x)


# -- the walk: one output called directly, several unpacked ------------------------------------


class Observed(ad.Function):
    """Identity that records what its backward received (arrays or Tensors)."""

    seen: ClassVar[list[type]] = []

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        Observed.seen.append(type(grad))
        return grad


class ObservedArrays(Observed):
    array_backward = True


def test_a_backward_gets_arrays_only_when_it_says_it_can_and_no_graph_is_recorded():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    for fn, create_graph, expected in [(Observed, False, ad.Tensor), (ObservedArrays, False,
                                        np.ndarray), (ObservedArrays, True, ad.Tensor)]:
        Observed.seen.clear()
        fn.apply(x).sum().backward(create_graph=create_graph)
        assert Observed.seen == [expected]


def test_two_outputs_one_unused_still_get_a_zero_for_the_other():
    class Halves(ad.Function):
        @staticmethod
        def forward(ctx, x):
            return x[:2].copy(), x[2:] * 2

        @staticmethod
        def backward(ctx, g1, g2):
            return ad.concatenate([g1, g2 * 2])

    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    _, b = Halves.apply(x)
    b.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 2.0])


def test_the_chain_matches_numpy_and_differentiates_twice():
    rng = np.random.default_rng(1)
    x0, c0 = rng.standard_normal(4), rng.standard_normal(4)
    x = ad.tensor(x0, requires_grad=True)
    c = ad.tensor(c0)
    np.testing.assert_allclose(_chain(x, c).data, _chain_ref(x0, c0), rtol=1e-14)
    assert gradcheck(lambda t: _chain(t, c), x)
    assert gradgradcheck(lambda t: _chain(t, c), x)


def test_hooks_on_the_chain_see_and_replace_gradients():
    x = ad.tensor([0.5, -1.0], dtype="float64", requires_grad=True)
    c = ad.tensor([2.0, 3.0], dtype="float64")
    y = x * c
    seen = []
    y.register_hook(lambda g: seen.append(g.data.copy()) or g * 10)
    (y.tanh() * 0.5).sum().backward()
    np.testing.assert_allclose(seen[0], 0.5 * (1 - np.tanh([1.0, -3.0]) ** 2), rtol=1e-14)
    np.testing.assert_allclose(x.grad.data, seen[0] * 10 * [2.0, 3.0], rtol=1e-14)


def test_a_write_after_the_op_still_raises_in_backward():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    c = ad.tensor([3.0, 4.0])
    y = x * c  # saves c
    c.add_(1.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        y.sum().backward()
    t = ad.tanh(x)  # saves its output
    t2 = t * 1.0
    with ad.no_grad():
        t.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        t2.sum().backward()


def test_a_second_backward_without_retain_graph_still_raises():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="a second time"):
        y.backward()
