"""autodiff.Function: user-defined primitives, saved tensors, several outputs, double backward."""

import numpy as np
import pytest

import autodiff as ad
from autodiff.testing import gradcheck, gradgradcheck


class Cube(ad.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


class ScaledExp(ad.Function):
    """exp(x) * scale, with a non-tensor keyword and the output saved."""

    @staticmethod
    def forward(ctx, x, *, scale):
        out = np.exp(x) * scale
        ctx.scale = scale
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


class SplitHalves(ad.Function):
    @staticmethod
    def forward(ctx, x):
        n = x.shape[0] // 2
        ctx.n = n
        return x[:n].copy(), x[n:] * 2

    @staticmethod
    def backward(ctx, g1, g2):
        return ad.concatenate([g1, g2 * 2])


class MulWithFlags(ad.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Wrong(ad.Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad


def test_user_primitive_gradient_and_double_backward():
    x = ad.tensor([0.5, -1.2], dtype="float64")
    assert gradcheck(Cube.apply, x)
    assert gradgradcheck(Cube.apply, x)
    assert gradcheck(lambda t: ScaledExp.apply(t, scale=2.0), x)
    assert gradgradcheck(lambda t: ScaledExp.apply(t, scale=2.0), x)


def test_multiple_outputs():
    x = ad.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    a, b = SplitHalves.apply(x)
    assert a.shape == (2,) and b.shape == (2,)
    b.sum().backward()  # the first output gets a zero gradient
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 2.0, 2.0])


def test_needs_input_grad():
    a = ad.tensor([1.0, 2.0], requires_grad=True)
    b = ad.tensor([3.0, 4.0])
    MulWithFlags.apply(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [3.0, 4.0])
    assert b.grad is None


def test_wrong_number_of_gradients_is_a_clear_error():
    a = ad.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="'wrong' returned 1 gradients but its forward took 2"):
        Wrong.apply(a, a).sum().backward()


def test_no_node_recorded_without_grad():
    y = Cube.apply(ad.tensor([2.0]))
    assert y.grad_fn is None and not y.requires_grad


class _ProductAndSum(ad.Function):
    """(a * b * k, a + b) with a non-tensor k; backward gets one gradient per output."""

    @staticmethod
    def forward(ctx, a, b, k):
        ctx.k = k
        ctx.save_for_backward(a, b)
        return a * b * k, a + b

    @staticmethod
    def backward(ctx, grad_prod, grad_sum):
        a, b = ctx.saved_tensors
        return grad_prod * b * ctx.k + grad_sum, grad_prod * a * ctx.k + grad_sum, None


def test_an_unused_output_gets_a_zero_gradient():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = ad.tensor([3.0, 4.0])
    prod, total = _ProductAndSum.apply(x, y, 2.0)
    total.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])
    x.grad = None
    prod, total = _ProductAndSum.apply(x, y, 2.0)
    (prod + total).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 2.0 * y.data + 1.0)


# -- gradients are validated where they enter (each fails on the old main) -----------------

def _returning(make_grad):
    class Returns(ad.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return make_grad(grad)

    return Returns


@pytest.mark.parametrize("make_grad, shape, dtype", [
    (lambda g: g[0], "(2,)", "float32"),  # a row for the whole (2, 2): SGD would broadcast it
    (lambda g: g.reshape(4), "(4,)", "float32"),
    (lambda g: g.astype("float64"), "(2, 2)", "float64"),
    (lambda g: g.sum(axis=0, keepdims=True), "(1, 2)", "float32"),
])
def test_a_backward_returning_the_wrong_shape_or_dtype_is_refused(make_grad, shape, dtype):
    x = ad.ones((2, 2), requires_grad=True)
    y = _returning(make_grad).apply(x)
    with pytest.raises(RuntimeError, match=rf"the backward of 'returns' returned a gradient of "
                                           rf"shape \{shape[:-1]}\) and dtype {dtype} for input 0, "
                                           r"which has shape \(2, 2\) and dtype float32"):
        y.sum().backward()
    assert x.grad is None


def test_a_gradient_with_the_broadcast_shape_is_summed_back():
    x = ad.ones((2, 3), requires_grad=True)
    _returning(lambda g: ad.ones((4, 2, 3))).apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((2, 3), 4.0))


@pytest.mark.parametrize("hook, got", [
    (lambda g: g[0], r"shape \(2,\) and dtype float32"),
    (lambda g: g.astype("float64"), r"shape \(2, 2\) and dtype float64"),
    (lambda g: g.data, "a ndarray"),
])
@pytest.mark.parametrize("on", ["leaf", "non-leaf"])
def test_a_hook_returning_the_wrong_gradient_is_refused(hook, got, on):
    x = ad.ones((2, 2), requires_grad=True)
    h = x * 2
    (x if on == "leaf" else h).register_hook(hook)
    with pytest.raises(RuntimeError, match=rf"the hook .* returned {got} for a gradient of shape "
                                           r"\(2, 2\) and dtype float32"):
        (h * 3).sum().backward()


def test_a_node_notes_its_data_inputs_metadata_never_their_arrays():
    import gc
    import weakref

    w = ad.tensor([1.0, 2.0], requires_grad=True)
    x = ad.tensor(np.array([[3.0, 4.0]], np.float32), name="x")
    y = x + w  # add saves nothing for backward
    assert y.grad_fn._data_inputs == [(0, "x", (1, 2), np.dtype(np.float32))]
    batch = weakref.ref(x.data)
    del x
    gc.collect()
    assert batch() is None  # the graph does not keep a data batch alive
    assert (w * 2.0).grad_fn._data_inputs is None  # a Python number is no Tensor
    assert (w * w).grad_fn._data_inputs is None


def test_observe_ops_sees_each_recorded_call_with_its_constants_and_options():
    seen = []
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    c = ad.tensor([3.0, 4.0])
    with ad.observe_ops(lambda node, args, kwargs: seen.append((node, args, kwargs))):
        y = ScaledExp.apply(x * c, scale=2.0)
        ad.tensor([1.0]) * 2.0  # records nothing: nothing requires grad
    ad.tanh(x)  # outside the block
    (mul, mul_args, _), (exp, _, exp_kwargs) = seen
    assert y.grad_fn is exp and exp.op_name() == "scaledexp" and exp_kwargs == {"scale": 2.0}
    assert mul.op_name() == "mul" and mul_args[0] is x and mul_args[1] is c


def test_observe_ops_blocks_nest_and_stay_in_their_thread():
    import threading

    outer, inner, other = [], [], []
    x = ad.tensor([1.0], requires_grad=True)
    with ad.observe_ops(lambda *a: outer.append(a[0].op_name())):
        x.exp()
        with ad.observe_ops(lambda *a: inner.append(a[0].op_name())):
            x.tanh()
            t = threading.Thread(target=lambda: other.append(x.sin()))
            t.start()
            t.join()
        x.log()
    x.cos()
    assert outer == ["exp", "log"] and inner == ["tanh"] and len(other) == 1
